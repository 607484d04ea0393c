// hasher: POST / answers the SHA-256 hex of the body, after HASHER_DELAY_MS. Concurrent by default.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import type { HasherSettings } from '../config.js';
import { createHttpService, type FastLane, type ServiceBase, TEXT, type TunableService, tunable } from '../platform/http-service.js';
import { FifoLimiter } from '../platform/limiter.js';
import { createRegistry, FastCounter, liveGauge, type Registry } from '../platform/metrics.js';

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
  metrics: HasherMetrics;
  /** For the banner. */
  hostname: string;
}

function hasherMetrics(registry: Registry, limiter: FifoLimiter) {
  liveGauge(registry, 'dockercoins_hasher_in_flight', 'Requests being hashed (delay included) right now', () => limiter.inFlight);
  liveGauge(registry, 'dockercoins_hasher_queue_depth', 'Requests waiting for a slot (HASHER_CONCURRENCY > 0 only)', () => limiter.depth);
  return {
    hashes: new FastCounter('dockercoins_hasher_hashes_total', 'Hashes computed and answered', registry).bind(),
    bytes: new FastCounter('dockercoins_hasher_bytes_total', 'Body bytes hashed', registry).bind(),
  };
}
type HasherMetrics = ReturnType<typeof hasherMetrics>;
const immediate = (s: Readonly<HasherSettings>) => s.concurrency === 0 && s.delayMs === 0;

/**
 * POST / straight on node:http, for a body that says its length (within the limit): hashed as it streams, answered at
 * once in turbo, after the slot and the delay otherwise. At the workshop's pace fastify's body parsing, reply and hooks
 * were most of what hasher cost per request.
 */
function hasherFastLane(settings: Readonly<HasherSettings>, limiter: FifoLimiter, metrics: HasherMetrics): FastLane {
  // A SHA-256 in hex is always 64 characters.
  const headers = { 'content-type': TEXT, 'content-length': 64 };
  return (req, res, answered) => {
    if (req.method !== 'POST' || req.url !== '/') return false;
    const declared = req.headers['content-length'];
    if (declared === undefined || req.headers['transfer-encoding'] !== undefined) return false;
    const size = Number(declared);
    if (!(size <= settings.maxBytes)) return false;
    const startedAt = performance.now();
    const sha = createHash('sha256');
    const answer = (hex: string) => {
      res.writeHead(200, headers);
      res.end(hex);
      metrics.hashes.inc();
      metrics.bytes.inc(size);
      answered(req, '/', 200, startedAt, { 'dockercoins.hasher.bytes': size });
    };
    req.on('data', (chunk: Buffer) => sha.update(chunk));
    req.once('end', () => {
      const hex = sha.digest('hex');
      if (immediate(settings)) answer(hex);
      else
        inTurn(settings, limiter, () => answer(hex)).catch((err: unknown) => {
          res.destroy(err as Error);
        });
    });
    req.once('error', () => res.destroy());
    return true;
  };
}

/** `work` inside a slot (HASHER_CONCURRENCY), after HASHER_DELAY_MS. */
async function inTurn<T>(settings: Readonly<HasherSettings>, limiter: FifoLimiter, work: () => T): Promise<T> {
  const release = await limiter.acquire();
  try {
    if (settings.delayMs > 0) await sleep(settings.delayMs);
    return work();
  } finally {
    release();
  }
}

export const hasherRoutes: FastifyPluginAsync<HasherOptions> = async (app, { settings, limiter, metrics, hostname }) => {
  const { maxBytes: max } = settings;
  const { hashes, bytes } = metrics;

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
    req.span?.setAttribute('dockercoins.hasher.bytes', size);
    if (immediate(settings)) {
      hashes.inc();
      bytes.inc(size);
      return reply.send(hex); // a string goes out as text/plain; charset=utf-8
    }
    return inTurn(settings, limiter, () => {
      hashes.inc();
      bytes.inc(size);
      return reply.type(TEXT).send(hex);
    });
  });
};

export async function createHasher(base: Omit<ServiceBase, 'service'>, initial: HasherSettings): Promise<TunableService<HasherSettings>> {
  const settings = { ...initial };
  const limiter = new FifoLimiter(settings.concurrency);
  const describeError = (err: FastifyError) =>
    err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body is larger than HASHER_MAX_BYTES (${settings.maxBytes} bytes)` : undefined;
  const registry = createRegistry('hasher', base.replica);
  const metrics = hasherMetrics(registry, limiter);
  const fastLane = hasherFastLane(settings, limiter, metrics);
  const service = await createHttpService({ ...base, service: 'hasher', bodyLimit: settings.maxBytes, describeError, registry, fastLane }, async (app) =>
    app.register(hasherRoutes, { settings, limiter, metrics, hostname: base.server.hostname }),
  );
  return tunable(service, settings, limiter);
}
