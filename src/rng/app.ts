// rng: GET /<n> answers n random bytes after RNG_DELAY_MS. At most RNG_CONCURRENCY requests are inside
// delay+generate at once; the others wait in FIFO order. That queue is the bottleneck the workshop finds: the banner
// (GET/HEAD /) waits its turn in it too, as the original's one-at-a-time server did, so `httping` on rng shows it.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { RngSettings } from '../config.js';
import { createHttpService, type FastLane, type ServiceBase, TEXT, type TunableService, tunable } from '../platform/http-service.js';
import { AbortedError, FifoLimiter, QueueFullError } from '../platform/limiter.js';
import { Counter, createRegistry, FastCounter, Histogram, LATENCY_BUCKETS, liveGauge, type Registry } from '../platform/metrics.js';
import { parentContext, type Tracer } from '../platform/tracing.js';

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
  metrics: RngMetrics;
  /** For the banner. */
  hostname: string;
  /** Tracing on: the wait in the queue is a span of its own under the request's. */
  tracer?: Tracer;
}

type RngMetrics = ReturnType<typeof rngMetrics>;
const queued = (s: Readonly<RngSettings>) => s.concurrency > 0 || s.delayMs > 0;

/** The byte count of `GET /<n>` when the path is exactly that, n ≤ max; else null (fastify then answers). */
function byteCount(path: string | undefined, max: number): number | null {
  if (!path || path.length < 2 || path.length > 16 || path.charCodeAt(0) !== 47) return null;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  const n = Number(path.slice(1));
  return n <= max ? n : null;
}

/** Turbo's GET /<n> straight on node:http: no queue, no delay, so nothing for fastify to do but route and reply. */
function rngFastLane(settings: Readonly<RngSettings>, metrics: RngMetrics): FastLane {
  return (req, res, answered) => {
    if (req.method !== 'GET' || queued(settings)) return false;
    const n = byteCount(req.url, settings.maxBytes);
    if (n === null) return false;
    const startedAt = performance.now();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
    res.end(randomBytes(n));
    metrics.bytes.inc(n);
    answered(req, '/:n', 200, startedAt, { 'dockercoins.rng.bytes': n });
    return true;
  };
}

export const rngRoutes: FastifyPluginAsync<RngOptions> = async (app, { settings, limiter, metrics, hostname, tracer }) => {
  const { maxBytes } = settings;

  /** `work` once a slot is free, inside it; null when the client left first. */
  async function inTurn<T>(reply: FastifyReply | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T | null> {
    const abandon = new AbortController();
    const onClose = () => {
      if (!reply?.raw.writableEnded) abandon.abort();
    };
    reply?.raw.once('close', onClose);
    const queuedAt = performance.now();
    const span = reply?.request.span;
    const queue = tracer?.startSpan('rng queue', { attributes: { 'dockercoins.rng.queue_depth': limiter.depth } }, parentContext(span));
    let release: (() => void) | undefined;
    try {
      release = await limiter.acquire(abandon.signal);
      const waited = performance.now() - queuedAt;
      metrics.wait.observe(waited / 1000);
      queue?.end();
      span?.setAttribute('dockercoins.rng.queue_wait_ms', Math.round(waited * 10) / 10);
      return await work(abandon.signal);
    } catch (err) {
      queue?.end();
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

  /** One unit of rng work through the queue; null when the client left first. */
  function generate(n: number, reply?: FastifyReply): Promise<Buffer | null> | Buffer {
    if (!queued(settings)) return randomBytes(n);
    return inTurn(reply, async (signal) => {
      if (settings.delayMs > 0) await sleep(settings.delayMs, undefined, { signal });
      return randomBytes(n);
    });
  }

  /** The banner: no delay of its own, but it waits its turn behind every queued GET /<n> (RNG_CONCURRENCY=0: none). */
  function turn(reply: FastifyReply): Promise<boolean | null> | boolean {
    if (settings.concurrency === 0) return true;
    return inTurn(reply, async () => true);
  }

  /** RNG_QUEUE_LIMIT reached: 503, retry in a second. */
  function queueFull(reply: FastifyReply, err: unknown): FastifyReply {
    if (!(err instanceof QueueFullError)) throw err;
    metrics.rejected.inc();
    return reply.code(503).header('retry-after', '1').type(TEXT).send(`rng: ${err.message}; RNG_QUEUE_LIMIT is ${settings.queueLimit}\n`);
  }

  // The naive liveness probe the slides warn about: it waits in the same queue as real work.
  if (settings.liveness === 'naive') app.health.live = async () => ((await generate(1)) ? null : 'abandoned');

  // GET and HEAD (fastify answers HEAD with this handler, without the body): httping sends HEAD.
  app.get('/', async (_req, reply) => {
    let served: boolean | null;
    try {
      served = await turn(reply);
    } catch (err) {
      return queueFull(reply, err);
    }
    if (!served) return reply.code(499).send();
    return reply.type(TEXT).send(`RNG running on ${hostname}\n`);
  });

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
    if (queued(settings)) reply.header('x-rng-queue-depth', String(limiter.depth));
    let bytes: Buffer | null;
    try {
      bytes = await generate(n, reply);
    } catch (err) {
      return queueFull(reply, err);
    }
    if (!bytes) return reply.code(499).send();
    metrics.bytes.inc(n);
    req.span?.setAttribute('dockercoins.rng.bytes', n);
    return reply.send(bytes); // a Buffer goes out as application/octet-stream
  });
};

export async function createRng(base: Omit<ServiceBase, 'service'>, initial: RngSettings): Promise<TunableService<RngSettings>> {
  const settings = { ...initial };
  const limiter = new FifoLimiter(settings.concurrency, settings.queueLimit);
  const registry = createRegistry('rng', base.replica);
  const metrics = rngMetrics(registry, limiter, settings);
  const fastLane = rngFastLane(settings, metrics);
  const service = await createHttpService({ ...base, service: 'rng', bodyLimit: 1, registry, fastLane }, async (app) =>
    app.register(rngRoutes, { settings, limiter, metrics, hostname: base.server.hostname, tracer: base.tracing?.tracer }),
  );
  return tunable(service, settings, limiter);
}
