// Tracing through the OpenTelemetry API only: the spans a service makes (server spans from `traceparent`, client
// spans that send it, Redis commands) and the trace ids in log lines. The SDK that records and exports them is in
// tracing-sdk.ts and is loaded only when an endpoint is configured: without one, `Tracer` is undefined everywhere
// and none of this code runs. Spans are passed explicitly (a request's `req.span`, a unit's span, withParent) except
// in the webui, whose code finds them through the active context (see IMPLICIT_CONTEXT).
import { type Context, context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { TracingSettings } from '../config.js';
import type { Logger } from './logger.js';

export type { Context, Span, Tracer };
export { context, SpanKind, SpanStatusCode, trace };

/**
 * The span a synchronous call is made for when that span is passed along rather than made active (see rootSpan):
 * set only for the duration of withParent's fn.
 */
let passedParent: Span | undefined;

/** The span active here (a request's, a unit's), if tracing is on and there is one. */
export const activeSpan = (): Span | undefined => passedParent ?? trace.getActiveSpan();

/** The parent context for a child of `span` when one is passed, or of the active span without one. */
export function parentContext(span?: Span | null): Context {
  return span ? trace.setSpan(context.active(), span) : context.active();
}

/**
 * The services whose code finds its span through the active context (an AsyncLocalStorage): the webui, whose ticks
 * and requests read Redis across awaits. Everywhere else nothing is made active and no AsyncLocalStorage is entered
 * — not even by the batch span processor's export (it runs in `context.with`, a no-op without a context manager). On
 * Node 20, once a thread has entered one, every promise it makes runs an async hook, sampled unit or not: rng,
 * hasher and the worker pass their spans instead.
 */
const IMPLICIT_CONTEXT: ReadonlySet<string> = new Set(['webui']);

/**
 * Runs fn with `span` as the parent of the spans and log lines fn makes before its first await (a Redis command, a
 * log line), without making it active: nothing crosses an await, and no AsyncLocalStorage is entered. Only a span
 * being recorded is named; without one, just fn().
 */
export function withParent<T>(span: Span | null | undefined, fn: () => T): T {
  if (!span?.isRecording()) return fn();
  const before = passedParent;
  passedParent = span;
  try {
    return fn();
  } finally {
    passedParent = before;
  }
}

/** What a traced service holds: its tracer, W3C trace context both ways, and how to flush before it exits. */
export interface TracerKit {
  tracer: Tracer;
  /** Spans are made active for what runs after them (see IMPLICIT_CONTEXT): a request's hooks and handler. */
  implicit: boolean;
  /** The context an incoming request continues: its `traceparent` (a worker's, an ingress's, a mesh's), or none. */
  extract(headers: Record<string, unknown>): Context;
  /** Adds `traceparent` (and `tracestate`) for the span active in `ctx` to outgoing headers. */
  inject(ctx: Context, headers: Record<string, string>): void;
  /** Exports what is pending; resolves by the deadline whatever the collector does: false if spans were lost. */
  shutdown(deadlineMs: number): Promise<boolean>;
  /**
   * True when a server span for a request with these headers would not be recorded anyway (the sampler follows the
   * caller's decision and its `traceparent` says unsampled, or the sampler is always_off): the span can be skipped.
   */
  unsampled(headers: Record<string, unknown>): boolean;
}

/** The SDK for one service (`service.name`, `service.instance.id`), or undefined when tracing is off. */
export async function startTracing(settings: TracingSettings, service: string, instance: string, version: string): Promise<TracerKit | undefined> {
  if (!settings.enabled) return undefined;
  const { tracerKit } = await import('./tracing-sdk.js');
  return tracerKit(settings, service, instance, version, IMPLICIT_CONTEXT.has(service));
}

/** Flushes a service's spans at stop; says so when the collector did not take them by the deadline. */
export async function stopTracing(kit: TracerKit, deadlineMs: number, logger: Logger): Promise<void> {
  if (!(await kit.shutdown(deadlineMs))) logger.warn(`tracing: the collector did not take the last spans within ${Math.round(deadlineMs)} ms; they are lost`);
}

/** Runs fn with span active in `parent` (default: the active context): children and log lines find it. */
export function within<T>(span: Span, fn: () => T, parent: Context = context.active()): T {
  return context.with(trace.setSpan(parent, span), fn);
}

/** Ends a span as failed when err is set. */
export function finish(span: Span, err?: unknown): void {
  if (err !== undefined) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
  }
  span.end();
}

/** trace_id and span_id of the active span, for log lines. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = activeSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** `traceparent` for the calls of a span the sampler left out: its ids, the sampled flag off (no span per call). */
export function unsampledTraceparent(span: Span): string {
  const { traceId, spanId } = span.spanContext();
  return `00-${traceId}-${spanId}-00`;
}

/**
 * A client span for a Redis command, child of whatever is active (a unit of work, a request, a tick). Outside of
 * those (or in one the sampler left out, which is not made active), the command is not traced.
 */
export async function redisSpan<T>(tracer: Tracer | undefined, operation: string, server: { host: string; port: number }, fn: () => Promise<T>): Promise<T> {
  const parent = tracer && activeSpan();
  if (!tracer || !parent) return fn();
  const span = tracer.startSpan(
    operation,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'redis', 'db.operation.name': operation, 'server.address': server.host, 'server.port': server.port },
    },
    parentContext(parent),
  );
  try {
    const result = await fn();
    span.end();
    return result;
  } catch (err) {
    finish(span, err);
    throw err;
  }
}

/**
 * Runs fn as a span of its own, the root of a new trace (a unit of work, a flush, a tick), active for everything fn
 * does; the span fails if fn throws. Without a tracer, just fn(). A span the sampler left out is passed to fn but not
 * made active: no context switch for the units nobody will see (fn's calls send `unsampledTraceparent` instead).
 */
export async function traced<T>(
  tracer: Tracer | undefined,
  name: string,
  fn: (span?: Span) => Promise<T>,
  attributes?: Record<string, string | number>,
): Promise<T> {
  if (!tracer) return fn();
  const span = tracer.startSpan(name, { root: true, attributes });
  if (!span.isRecording()) return fn(span);
  try {
    const result = await within(span, () => fn(span), ROOT_CONTEXT);
    span.end();
    return result;
  } catch (err) {
    finish(span, err);
    throw err;
  }
}

/**
 * As traced(), for the work loops' hot path: the span is passed to fn (which passes it on: client calls, withParent)
 * and never made active (see IMPLICIT_CONTEXT: the worker's threads never enter an AsyncLocalStorage).
 */
export async function rootSpan<T>(tracer: Tracer | undefined, name: string, fn: (span?: Span) => Promise<T>): Promise<T> {
  if (!tracer) return fn();
  const span = tracer.startSpan(name, { root: true });
  if (!span.isRecording()) return fn(span);
  try {
    const result = await fn(span);
    span.end();
    return result;
  } catch (err) {
    finish(span, err);
    throw err;
  }
}
