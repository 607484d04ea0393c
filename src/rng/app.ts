// rng: GET /<n> answers n random bytes after RNG_DELAY_MS. At most RNG_CONCURRENCY requests are inside
// delay+generate at once; the others wait in FIFO order. That queue is the bottleneck the workshop finds: the banner
// (GET/HEAD /) waits its turn in it too, as the original's one-at-a-time server did, so `httping` on rng shows it.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { RngSettings } from '../config.js';
import { createHttpService, type FastLane, type LaneAnswered, type ServiceBase, TEXT, type TunableService, tunable } from '../platform/http-service.js';
import { AbortedError, FifoLimiter, QueueFullError } from '../platform/limiter.js';
import { Counter, createRegistry, FastCounter, Histogram, LATENCY_BUCKETS, liveGauge, type Registry } from '../platform/metrics.js';
import { parentContext, type Span, type Tracer } from '../platform/tracing.js';

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
  /** The queue: the wait in it is a span of its own under the request's, with tracing on. */
  inTurn: InTurn;
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

/**
 * GET /<n> straight on node:http, for a valid byte count: at once in turbo (no queue, no delay), and through the queue
 * and the delay otherwise — untraced only (a traced request's queue span is made on fastify's path). At the workshop's
 * pace fastify's routing, reply and hooks were most of what rng cost per request. A full queue is left to fastify's
 * route, which answers the 503.
 */
function rngFastLane(settings: Readonly<RngSettings>, limiter: FifoLimiter, metrics: RngMetrics, queue: InTurn, traced: boolean): FastLane {
  return (req, res, answered) => {
    if (req.method !== 'GET') return false;
    const inQueue = queued(settings);
    if (inQueue && (traced || limiter.full)) return false;
    const n = byteCount(req.url, settings.maxBytes);
    if (n === null) return false;
    const startedAt = performance.now();
    if (!inQueue) {
      answerBytes(req, res, answered, metrics, randomBytes(n), startedAt);
      return true;
    }
    const depth = limiter.depth;
    queue(res, null, (signal) => delayed(settings, n, signal)).then(
      (bytes) => (bytes ? answerBytes(req, res, answered, metrics, bytes, startedAt, depth) : answered(req, '/:n', 499, startedAt)),
      (err: unknown) => res.destroy(err as Error),
    );
    return true;
  };
}

/** The lane's 200: the bytes, counted and recorded as fastify's route would; `depth` only when the request queued. */
function answerBytes(
  req: IncomingMessage,
  res: ServerResponse,
  answered: LaneAnswered,
  metrics: RngMetrics,
  bytes: Buffer,
  startedAt: number,
  depth?: number,
): void {
  const n = bytes.length;
  res.writeHead(
    200,
    depth === undefined
      ? { 'content-type': 'application/octet-stream', 'content-length': n }
      : { 'content-type': 'application/octet-stream', 'content-length': n, 'x-rng-queue-depth': depth },
  );
  res.end(bytes);
  metrics.bytes.inc(n);
  answered(req, '/:n', 200, startedAt, { 'dockercoins.rng.bytes': n });
}

/** RNG_DELAY_MS, then n random bytes (the work done inside a slot of the queue). */
async function delayed(settings: Readonly<RngSettings>, n: number, signal: AbortSignal): Promise<Buffer> {
  if (settings.delayMs > 0) await sleep(settings.delayMs, undefined, { signal });
  return randomBytes(n);
}

/** `work` once a slot of the queue is free, inside it; null when the client (this response's) left first. */
type InTurn = <T>(res: ServerResponse | undefined, span: Span | null | undefined, work: (signal: AbortSignal) => Promise<T>) => Promise<T | null>;

function inTurnOf(limiter: FifoLimiter, metrics: RngMetrics, tracer: Tracer | undefined): InTurn {
  return async (res, span, work) => {
    const abandon = new AbortController();
    const onClose = () => {
      if (!res?.writableEnded) abandon.abort();
    };
    res?.once('close', onClose);
    const queuedAt = performance.now();
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
      res?.off('close', onClose);
    }
  };
}

export const rngRoutes: FastifyPluginAsync<RngOptions> = async (app, { settings, limiter, metrics, hostname, inTurn }) => {
  const { maxBytes } = settings;

  /** One unit of rng work through the queue; null when the client left first. */
  function generate(n: number, reply?: FastifyReply): Promise<Buffer | null> | Buffer {
    if (!queued(settings)) return randomBytes(n);
    return inTurn(reply?.raw, reply?.request.span, (signal) => delayed(settings, n, signal));
  }

  /** The banner: no delay of its own, but it waits its turn behind every queued GET /<n> (RNG_CONCURRENCY=0: none). */
  function turn(reply: FastifyReply): Promise<boolean | null> | boolean {
    if (settings.concurrency === 0) return true;
    return inTurn(reply.raw, reply.request.span, async () => true);
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
  const inTurn = inTurnOf(limiter, metrics, base.tracing?.tracer);
  const fastLane = rngFastLane(settings, limiter, metrics, inTurn, base.tracing !== undefined);
  const service = await createHttpService({ ...base, service: 'rng', bodyLimit: 1, registry, fastLane }, async (app) =>
    app.register(rngRoutes, { settings, limiter, metrics, hostname: base.server.hostname, inTurn }),
  );
  return tunable(service, settings, limiter);
}
