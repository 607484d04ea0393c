// The base every DockerCoins HTTP service is built on: a fastify instance with the shared plugins, then the
// service's own routes as a plugin. The request path, in order:
//   onRequest: identity headers → fault injection (never on probes)   →   route handler
//   onResponse: metrics → access log.   Errors: one plain-text line saying what was wrong.
// Services reach the shared parts through decorators (app.registry, app.faults, app.health, app.stopping), so a
// service plugin needs nothing assigned later. Build and listen are split: tests drive `app.inject()`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyPluginAsync, type HTTPMethods, LogController } from 'fastify';
import type { ServerSettings } from '../config.js';
import { Deadline } from './deadline.js';
import { Faults, registerFaultAdmin } from './faults.js';
import { type Check, registerHealth } from './health.js';
import { type Logger, logAccess } from './logger.js';
import { createRegistry, httpMetrics, METRICS_CONTENT_TYPE, type Registry, renderMetrics } from './metrics.js';
import { type Span, SpanKind, SpanStatusCode, type TracerKit, within, withParent } from './tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span, with tracing on. */
    span: Span | null;
  }
  interface FastifyInstance {
    /** This service's Prometheus registry. */
    registry: Registry;
    faults: Faults;
    /** Checks a service plugin may set: `live` replaces the cheap liveness answer, `ready` adds a readiness check. */
    health: { live?: Check; ready?: Check };
    /** Aborted as soon as shutdown starts (readiness fails from then on). */
    stopping: AbortSignal;
  }
}

export const TEXT = 'text/plain; charset=utf-8';
const OPERATIONAL = new Set(['/healthz', '/readyz', '/metrics', '/admin/faults']);
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
/** A client must have sent its whole request within this time (slow-loris protection). */
const REQUEST_RECEIVE_TIMEOUT_MS = 10_000;

export interface ServiceBase {
  service: string;
  /** Who answers: the hostname in a container, `rng.2` under `up`. */
  replica: string;
  server: ServerSettings;
  logger: Logger;
  bodyLimit?: number;
  /** Serve this registry's metrics (the worker's) instead of a new one. */
  registry?: Registry;
  /** /metrics rendered by this instead (the turbo threads' registries, aggregated). */
  metrics?: () => Promise<string>;
  /** A clearer message for a framework error (e.g. the body limit), or undefined to keep the default. */
  describeError?: (err: FastifyError) => string | undefined;
  /** A shortcut for the service's hottest route (see FastLane). */
  fastLane?: FastLane;
  /** Tracing on: a server span per request (probes and /metrics aside), continuing the caller's `traceparent`. */
  tracing?: TracerKit;
}

/**
 * A service's hottest route (rng's GET /<n>, hasher's POST /) answered straight on node:http, with its delay and
 * queue or without (turbo). It is tried only while no fault is injected and the service is not stopping; it takes
 * the request (true) and answers and records through `answered` (the same series and access line as fastify's
 * requests), or returns false to let fastify handle it.
 */
export type FastLane = (req: IncomingMessage, res: ServerResponse, answered: LaneAnswered) => boolean;

/** What a fast lane reports once it answered: its route, status, start (performance.now()) and span attributes. */
export type LaneAnswered = (req: IncomingMessage, route: string, status: number, startedAt: number, attributes?: Record<string, number>) => void;

export interface HttpService {
  readonly app: FastifyInstance;
  readonly registry: Registry;
  readonly faults: Faults;
  listen(port: number, host: string): Promise<number>;
  /** Fail readiness, serve drainMs longer, finish what is in flight; connections still open at the deadline are cut
   *  (a Deadline, or ms from now). */
  close(drainMs: number, deadline: Deadline | number): Promise<void>;
}

/** A service whose settings change at runtime (the lab turns rng's concurrency and the delays). */
export interface TunableService<S> extends HttpService {
  readonly settings: Readonly<S>;
  tune(next: Partial<S>): void;
}

/** The service with its live settings: a change applies at once, the concurrency through the limiter. */
export function tunable<S extends { concurrency: number }>(service: HttpService, settings: S, limiter: { setLimit(limit: number): void }): TunableService<S> {
  return {
    ...service,
    settings,
    tune(next) {
      Object.assign(settings, next);
      limiter.setLimit(settings.concurrency);
    },
  };
}

export async function createHttpService(base: ServiceBase, routes: FastifyPluginAsync): Promise<HttpService> {
  const stop = new AbortController();
  const registry = base.registry ?? createRegistry(base.service, base.replica);
  const faults = new Faults(base.server.faults);
  const accounting = requestAccounting(registry, base);
  const lane = base.fastLane;
  const laneOpen = () => !stop.signal.aborted && !faults.affectsRequests;
  const laneAnswered: LaneAnswered = base.tracing
    ? tracedLane(base.tracing, accounting.answered, !base.server.accessLog)
    : (req, route, status, startedAt) => accounting.answered(req, route, status, startedAt);
  const app = Fastify({
    // Identity headers set on the raw response before fastify sees it: cheaper than a hook per request.
    // The receive timeouts (slow clients) live here, checked every second so they bite on time. Node's 5 s
    // keep-alive stays above the worker pool's 4 s, so a reused connection is never closed under a request.
    serverFactory: (handler) =>
      createServer(
        { connectionsCheckingInterval: 1000, requestTimeout: REQUEST_RECEIVE_TIMEOUT_MS, headersTimeout: REQUEST_RECEIVE_TIMEOUT_MS },
        (req, res) => {
          res.setHeader('x-served-by', base.replica);
          res.setHeader('x-dockercoins-version', base.server.version);
          if (lane && laneOpen() && lane(req, res, laneAnswered)) return;
          handler(req, res);
        },
      ),
    loggerInstance: base.logger as FastifyBaseLogger,
    // Our own onResponse hook writes one access line per request (with the replica); fastify's are off.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: base.bodyLimit ?? 1_048_576,
    routerOptions: { maxParamLength: 2048 },
    // One logger for all requests: no per-request child (and no request id), a real cost at 30k req/s.
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  app.decorate('registry', registry);
  app.decorate('faults', faults);
  app.decorate('health', {});
  app.decorate('stopping', stop.signal);

  const addMethodNotAllowed = methodNotAllowed(app, base.service);
  app.decorateRequest('span', null);
  if (base.tracing) registerTracing(app, base.tracing);
  registerAccounting(app, accounting);
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .type(TEXT)
      .send(`${base.service}: no route for ${req.method} ${truncate(req.url)}\n`);
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) withParent(req.span, () => req.log.error({ err }, `${req.method} ${truncate(req.url)} failed: ${err.message}`));
    const message = base.describeError?.(err) ?? (status >= 500 ? 'internal error' : err.message);
    void reply.code(status).type(TEXT).send(`${base.service}: ${message}\n`);
  });

  registerHealth(app);
  const metrics = base.metrics ?? (() => renderMetrics(app.registry));
  app.get('/metrics', async (_req, reply) => reply.type(METRICS_CONTENT_TYPE).send(await metrics()));
  if (base.server.adminRoutes) registerFaultAdmin(app, base.server.adminToken);
  await app.register(routes);
  addMethodNotAllowed();
  await app.ready();

  return {
    app,
    registry: app.registry,
    faults: app.faults,
    async listen(port, host) {
      try {
        await app.listen({ port, host });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // `::` (dual stack) is the default; fall back to IPv4 where the kernel has no IPv6.
        if (host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
        await app.listen({ port, host: '0.0.0.0' });
      }
      return (app.server.address() as AddressInfo).port;
    },
    async close(drainMs, by) {
      if (stop.signal.aborted) return;
      stop.abort();
      const deadline = typeof by === 'number' ? Deadline.in(by) : by;
      if (drainMs > 0) {
        base.logger.info(`draining for ${drainMs} ms (readiness now fails)`);
        await sleep(drainMs);
      }
      if (!app.server.listening) return void (await app.close());
      // Keep-alive connections go as soon as their in-flight request is answered; stragglers at the deadline.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 20);
      const cut = () => app.server.closeAllConnections();
      const closing = app.close();
      if (deadline.signal.aborted) cut();
      else deadline.signal.addEventListener('abort', cut, { once: true });
      try {
        await closing;
      } finally {
        clearInterval(sweep);
        deadline.signal.removeEventListener('abort', cut);
      }
    },
  };
}

/**
 * What every answered request leaves behind: its count and latency in series bound once per (method, route, status)
 * (unknown methods share one label), and one access line — probes and /metrics at debug only.
 */
function requestAccounting(registry: Registry, base: ServiceBase) {
  const metrics = httpMetrics(registry);
  const series = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  const seriesFor = (rawMethod: string, route: string, status: number) => {
    const method = METHODS.includes(rawMethod as HTTPMethods) ? rawMethod : 'OTHER';
    const key = `${method} ${route} ${status}`;
    let s = series.get(key);
    if (!s) {
      const labels = { method, route, status: String(status) };
      s = { count: metrics.requests.bind(labels), time: metrics.duration.bind(labels) };
      series.set(key, s);
    }
    return s;
  };
  const record = (method: string, route: string, url: string, status: number, elapsedMs: number, span?: Span | null) => {
    const s = seriesFor(method, route, status);
    s.count.inc();
    s.time.observe(elapsedMs / 1000);
    const operational = OPERATIONAL.has(route);
    if ((operational || base.server.accessLog) && base.logger.isLevelEnabled(operational ? 'debug' : 'info')) {
      const path = truncate(url);
      const ms = Math.round(elapsedMs * 10) / 10;
      const ids = span?.spanContext();
      const line = { method, path, status, ms, replica: base.replica, ...(ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {}) };
      const msg = `${method} ${path} ${status} ${ms.toFixed(1)}ms`;
      if (operational) base.logger.debug(line, msg);
      else logAccess(base.logger, line, msg);
    }
  };
  return {
    record,
    /** What a fast lane answered, recorded as fastify's hook records the rest. */
    answered: (req: IncomingMessage, route: string, status: number, startedAt: number, span?: Span) =>
      record(req.method ?? 'GET', route, req.url ?? '', status, performance.now() - startedAt, span),
  };
}

/** Fault injection before the handler; what was answered after it. */
function registerAccounting(app: FastifyInstance, accounting: ReturnType<typeof requestAccounting>): void {
  app.addHook('onRequest', (req, reply, done) => {
    if (!app.faults.affectsRequests || OPERATIONAL.has(req.routeOptions.url ?? '')) return done();
    app.faults.apply(reply, app.stopping).then((go) => (go ? done() : undefined), done);
  });

  app.addHook('onResponse', (req, reply, done) => {
    accounting.record(req.method, req.routeOptions.url ?? 'unmatched', req.url, reply.statusCode, reply.elapsedTime, req.span);
    done();
  });
}

/**
 * A fast lane's server span, made once it answered (it started nothing on the way: no child span, no log line), from
 * its start: the same span fastify's hooks make for the other requests. `skipUnsampled` (no access line to carry the
 * trace id): a request whose span would not be recorded makes none — no context extracted, no span id drawn.
 */
function tracedLane(
  kit: TracerKit,
  answered: (req: IncomingMessage, route: string, status: number, startedAt: number, span?: Span) => void,
  skipUnsampled: boolean,
): LaneAnswered {
  return (req, route, status, startedAt, attributes) => {
    if (skipUnsampled && kit.unsampled(req.headers)) return answered(req, route, status, startedAt);
    const method = req.method ?? 'GET';
    const span = kit.tracer.startSpan(
      `${method} ${route}`,
      {
        kind: SpanKind.SERVER,
        startTime: performance.timeOrigin + startedAt,
        attributes: {
          'http.request.method': method,
          'url.path': req.url ?? '',
          'http.route': route,
          'url.scheme': 'http',
          'client.address': req.socket.remoteAddress ?? '',
          'http.response.status_code': status,
          ...attributes,
        },
      },
      kit.extract(req.headers),
    );
    span.end();
    answered(req, route, status, startedAt, span);
  };
}

/**
 * A server span per request, child of the `traceparent` it came with: `req.span` for the hooks and handler after it,
 * and made active for them only where the service finds spans that way (kit.implicit: the webui; see tracing.ts).
 */
function registerTracing(app: FastifyInstance, kit: TracerKit): void {
  app.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url;
    if (OPERATIONAL.has(route ?? '')) return done();
    const parent = kit.extract(req.headers);
    const span = kit.tracer.startSpan(
      `${req.method} ${route ?? 'unmatched'}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.url, 'http.route': route ?? '', 'url.scheme': 'http', 'client.address': req.ip },
      },
      parent,
    );
    req.span = span;
    if (kit.implicit) within(span, done, parent);
    else done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = req.span;
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}

/** Wrong method on a known path: 405 with Allow, instead of the router's 404. Call the result once routes exist. */
function methodNotAllowed(app: FastifyInstance, service: string): () => void {
  const seen = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const set = seen.get(route.url) ?? new Set<string>();
    for (const m of methods) set.add(m);
    seen.set(route.url, set);
  });
  return () => {
    const routes = [...seen];
    void app.register(async (wrong) => {
      // Whatever the body's type, the method is what is wrong: say 405, not 415.
      wrong.removeAllContentTypeParsers();
      wrong.addContentTypeParser('*', (_req, payload, done) => {
        payload.resume();
        payload.once('end', () => done(null, undefined));
      });
      for (const [url, methods] of routes) {
        const missing = METHODS.filter((m) => !methods.has(m));
        if (missing.length === 0) continue;
        const allow = [...methods].join(', ');
        wrong.route({
          method: missing,
          url,
          handler: async (req, reply) =>
            reply.code(405).header('allow', allow).type(TEXT).send(`${service}: ${req.method} not allowed on ${url}; use ${allow}\n`),
        });
      }
    });
  };
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
