// hasher: POST / answers the SHA-256 hex of the body, after HASHER_DELAY_MS. Concurrent by default.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import { createHttpService, TEXT, type HttpService } from '../platform/http-service.js';
import { FifoLimiter } from '../platform/limiter.js';
import type { Logger } from '../platform/logger.js';
import { Counter, Gauge } from '../platform/metrics.js';

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
      new Gauge({
        name: 'dockercoins_hasher_in_flight',
        help: 'Requests being hashed (delay included) right now',
        registers: [service.registry],
        collect() {
          this.set(limiter.inFlight);
        },
      });
      new Gauge({
        name: 'dockercoins_hasher_queue_depth',
        help: 'Requests waiting for a slot (HASHER_CONCURRENCY > 0 only)',
        registers: [service.registry],
        collect() {
          this.set(limiter.depth);
        },
      });
      const hashes = new Counter({ name: 'dockercoins_hasher_hashes_total', help: 'Hashes computed and answered', registers: [service.registry] });
      const bytes = new Counter({ name: 'dockercoins_hasher_bytes_total', help: 'Body bytes hashed', registers: [service.registry] });

      // Any content type is hashed as raw bytes, exactly as received.
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

      app.get('/', async (_req, reply) => reply.type(TEXT).send(`HASHER running on ${config.hostname}\n`));

      app.post('/', async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const release = await limiter.acquire();
        try {
          if (delay > 0) await sleep(delay);
          const hex = createHash('sha256').update(body).digest('hex');
          hashes.inc();
          bytes.inc(body.length);
          return reply.type(TEXT).send(hex);
        } finally {
          release();
        }
      });
    },
  );
}
