// hasher: POST / answers the SHA-256 hex of the body, after HASHER_DELAY_MS. Concurrent by default.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import { createHttpService, TEXT, type HttpService } from '../platform/http-service.js';
import { FifoLimiter } from '../platform/limiter.js';
import type { Logger } from '../platform/logger.js';
import { FastCounter, liveGauge } from '../platform/metrics.js';

export interface HasherOptions {
  config: Config;
  logger: Logger;
  replica: string;
}

export async function createHasher({ config, logger, replica }: HasherOptions): Promise<HttpService> {
  const limiter = new FifoLimiter(config.hasherConcurrency);
  const delay = config.hasherDelayMs;
  const max = config.hasherMaxBytes;

  return createHttpService(
    {
      service: 'hasher',
      replica,
      config,
      logger,
      bodyLimit: max,
      describeError: (err) => (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body is larger than HASHER_MAX_BYTES (${max} bytes)` : undefined),
    },
    (app, service) => {
      liveGauge(service.registry, 'dockercoins_hasher_in_flight', 'Requests being hashed (delay included) right now', () => limiter.inFlight);
      liveGauge(service.registry, 'dockercoins_hasher_queue_depth', 'Requests waiting for a slot (HASHER_CONCURRENCY > 0 only)', () => limiter.depth);
      const hashes = new FastCounter('dockercoins_hasher_hashes_total', 'Hashes computed and answered', service.registry).bind();
      const bytes = new FastCounter('dockercoins_hasher_bytes_total', 'Body bytes hashed', service.registry).bind();
      const immediate = config.hasherConcurrency === 0 && delay === 0;

      // Any content type (or none) is hashed as raw bytes, as they stream in: nothing is buffered, and a body
      // over the limit is refused as soon as it says so (Content-Length) or crosses it (chunked).
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', (req, payload, done) => {
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > max) return done(tooLarge(), undefined);
        const sha = createHash('sha256');
        let size = 0;
        payload.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) {
            payload.removeAllListeners('data');
            payload.resume();
            return done(tooLarge(), undefined);
          }
          sha.update(chunk);
        });
        payload.once('end', () => {
          if (size <= max) done(null, { hex: sha.digest('hex'), size } satisfies Hashed);
        });
        payload.once('error', (err) => done(err, undefined));
      });

      app.get('/', async (_req, reply) => reply.type(TEXT).send(`HASHER running on ${config.hostname}\n`));

      app.post('/', async (req, reply) => {
        const { hex, size } = (req.body as Hashed | undefined) ?? EMPTY;
        if (immediate) {
          hashes.inc();
          bytes.inc(size);
          return reply.send(hex); // a string goes out as text/plain; charset=utf-8
        }
        const release = await limiter.acquire();
        try {
          if (delay > 0) await sleep(delay);
          hashes.inc();
          bytes.inc(size);
          return reply.type(TEXT).send(hex);
        } finally {
          release();
        }
      });
    },
  );
}

interface Hashed {
  hex: string;
  size: number;
}
const EMPTY: Hashed = { hex: createHash('sha256').digest('hex'), size: 0 };

function tooLarge(): Error {
  return Object.assign(new Error('body too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
}
