// rng: GET /<n> answers n random bytes after RNG_DELAY_MS. At most RNG_CONCURRENCY requests are inside
// delay+generate at once; the others wait in FIFO order. That queue is the bottleneck the workshop finds.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { RngSettings } from '../config.js';
import { createHttpService, type ServiceBase, TEXT, type TunableService } from '../platform/http-service.js';
import { AbortedError, FifoLimiter, QueueFullError } from '../platform/limiter.js';
import { Counter, FastCounter, Histogram, LATENCY_BUCKETS, liveGauge, type Registry } from '../platform/metrics.js';

const DIGITS = /^\d+$/;

function rngMetrics(registry: Registry, limiter: FifoLimiter, settings: Readonly<RngSettings>) {
  liveGauge(registry, 'dockercoins_rng_queue_depth', 'Requests waiting for a slot (the bottleneck, made visible)', () => limiter.depth);
  liveGauge(registry, 'dockercoins_rng_in_flight', 'Requests inside delay + generate right now', () => limiter.inFlight);
  liveGauge(registry, 'dockercoins_rng_concurrency_limit', 'RNG_CONCURRENCY (0 = unlimited)', () => settings.concurrency);
  return {
    wait: new Histogram({
      name: 'dockercoins_rng_queue_wait_seconds',
      help: 'Time a request waited for a slot',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    bytes: new FastCounter('dockercoins_rng_bytes_total', 'Random bytes served', registry).bind(),
    rejected: new Counter({
      name: 'dockercoins_rng_rejected_total',
      help: 'Requests refused because the queue was full (RNG_QUEUE_LIMIT)',
      registers: [registry],
    }),
    abandoned: new Counter({ name: 'dockercoins_rng_abandoned_total', help: 'Requests whose client left before they were served', registers: [registry] }),
  };
}

export interface RngOptions {
  /** Read on every request: the lab may change delay and concurrency while rng runs. */
  settings: Readonly<RngSettings>;
  limiter: FifoLimiter;
  /** For the banner. */
  hostname: string;
}

export const rngRoutes: FastifyPluginAsync<RngOptions> = async (app, { settings, limiter, hostname }) => {
  const metrics = rngMetrics(app.registry, limiter, settings);
  const { maxBytes } = settings;
  const queued = () => settings.concurrency > 0 || settings.delayMs > 0;

  /** One unit of rng work through the queue; null when the client left first. */
  async function generate(n: number, reply?: FastifyReply): Promise<Buffer | null> {
    if (!queued()) return randomBytes(n);
    const abandon = new AbortController();
    const onClose = () => {
      if (!reply?.raw.writableEnded) abandon.abort();
    };
    reply?.raw.once('close', onClose);
    const queuedAt = performance.now();
    let release: (() => void) | undefined;
    try {
      release = await limiter.acquire(abandon.signal);
      metrics.wait.observe((performance.now() - queuedAt) / 1000);
      if (settings.delayMs > 0) await sleep(settings.delayMs, undefined, { signal: abandon.signal });
      return randomBytes(n);
    } catch (err) {
      if (err instanceof AbortedError || abandon.signal.aborted) {
        metrics.abandoned.inc();
        return null;
      }
      throw err;
    } finally {
      release?.();
      reply?.raw.off('close', onClose);
    }
  }

  // The naive liveness probe the slides warn about: it waits in the same queue as real work.
  if (settings.liveness === 'naive') app.health.live = async () => ((await generate(1)) ? null : 'abandoned');

  app.get('/', async (_req, reply) => reply.type(TEXT).send(`RNG running on ${hostname}\n`));

  app.get<{ Params: { n: string } }>('/:n', async (req, reply) => {
    const raw = req.params.n;
    if (!DIGITS.test(raw)) {
      return reply
        .code(404)
        .type(TEXT)
        .send(`rng: ${JSON.stringify(raw.slice(0, 64))} is not a byte count; ask for GET /<n> with n in decimal digits, e.g. GET /32\n`);
    }
    const n = raw.length > 15 ? Number.POSITIVE_INFINITY : Number(raw);
    if (n > maxBytes) {
      return reply
        .code(413)
        .type(TEXT)
        .send(`rng: ${raw.length > 20 ? `${raw.slice(0, 20)}…` : raw} bytes is more than RNG_MAX_BYTES (${maxBytes})\n`);
    }
    if (queued()) reply.header('x-rng-queue-depth', String(limiter.depth));
    let bytes: Buffer | null;
    try {
      bytes = await generate(n, reply);
    } catch (err) {
      if (!(err instanceof QueueFullError)) throw err;
      metrics.rejected.inc();
      return reply.code(503).header('retry-after', '1').type(TEXT).send(`rng: ${err.message}; RNG_QUEUE_LIMIT is ${settings.queueLimit}\n`);
    }
    if (!bytes) return reply.code(499).send();
    metrics.bytes.inc(n);
    return reply.send(bytes); // a Buffer goes out as application/octet-stream
  });
};

export async function createRng(base: Omit<ServiceBase, 'service'>, initial: RngSettings): Promise<TunableService<RngSettings>> {
  const settings = { ...initial };
  const limiter = new FifoLimiter(settings.concurrency, settings.queueLimit);
  const service = await createHttpService({ ...base, service: 'rng', bodyLimit: 1 }, async (app) =>
    app.register(rngRoutes, { settings, limiter, hostname: base.server.hostname }),
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
