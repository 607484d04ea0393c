// hasher: POST / answers the SHA-256 hex of the body, after HASHER_DELAY_MS. Concurrent by default.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import type { HasherSettings } from '../config.js';
import { createHttpService, type ServiceBase, TEXT, type TunableService } from '../platform/http-service.js';
import { FifoLimiter } from '../platform/limiter.js';
import { FastCounter, liveGauge } from '../platform/metrics.js';

interface Hashed {
  hex: string;
  size: number;
}
const EMPTY: Hashed = { hex: createHash('sha256').digest('hex'), size: 0 };

function tooLarge(): Error {
  return Object.assign(new Error('body too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
}

export interface HasherOptions {
  /** Read on every request: the lab may change delay and concurrency while hasher runs. */
  settings: Readonly<HasherSettings>;
  limiter: FifoLimiter;
  /** For the banner. */
  hostname: string;
}

export const hasherRoutes: FastifyPluginAsync<HasherOptions> = async (app, { settings, limiter, hostname }) => {
  const { maxBytes: max } = settings;
  liveGauge(app.registry, 'dockercoins_hasher_in_flight', 'Requests being hashed (delay included) right now', () => limiter.inFlight);
  liveGauge(app.registry, 'dockercoins_hasher_queue_depth', 'Requests waiting for a slot (HASHER_CONCURRENCY > 0 only)', () => limiter.depth);
  const hashes = new FastCounter('dockercoins_hasher_hashes_total', 'Hashes computed and answered', app.registry).bind();
  const bytes = new FastCounter('dockercoins_hasher_bytes_total', 'Body bytes hashed', app.registry).bind();

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

  app.get('/', async (_req, reply) => reply.type(TEXT).send(`HASHER running on ${hostname}\n`));

  app.post<{ Body: Hashed | undefined }>('/', async (req, reply) => {
    const { hex, size } = req.body ?? EMPTY;
    if (settings.concurrency === 0 && settings.delayMs === 0) {
      hashes.inc();
      bytes.inc(size);
      return reply.send(hex); // a string goes out as text/plain; charset=utf-8
    }
    const release = await limiter.acquire();
    try {
      if (settings.delayMs > 0) await sleep(settings.delayMs);
      hashes.inc();
      bytes.inc(size);
      return reply.type(TEXT).send(hex);
    } finally {
      release();
    }
  });
};

export async function createHasher(base: Omit<ServiceBase, 'service'>, initial: HasherSettings): Promise<TunableService<HasherSettings>> {
  const settings = { ...initial };
  const limiter = new FifoLimiter(settings.concurrency);
  const describeError = (err: FastifyError) =>
    err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body is larger than HASHER_MAX_BYTES (${settings.maxBytes} bytes)` : undefined;
  const service = await createHttpService({ ...base, service: 'hasher', bodyLimit: settings.maxBytes, describeError }, async (app) =>
    app.register(hasherRoutes, { settings, limiter, hostname: base.server.hostname }),
  );
  return {
    ...service,
    settings,
    tune(next) {
      Object.assign(settings, next);
      limiter.setLimit(settings.concurrency);
    },
  };
}
