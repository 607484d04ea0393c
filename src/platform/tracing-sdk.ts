// The OpenTelemetry SDK for one service, loaded only when tracing is on (see tracing.ts): a tracer provider with the
// service's resource, the sampler asked for, a batch span processor bounded as OTEL_BSP_* says, and an OTLP/HTTP
// exporter (protobuf or JSON). Spans never slow the work: when the queue is full they are dropped — and counted.
import { type Context, context, isSpanContextValid, propagation, ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type Span,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { TracingSettings } from '../config.js';
import { exposeTracingCounts, tracingCounts } from './metrics.js';
import type { TracerKit } from './tracing.js';

let contextManager: AsyncLocalStorageContextManager | undefined;
let propagatorSet = false;
const propagator = new W3CTraceContextPropagator();

function sampler(s: TracingSettings): Sampler {
  switch (s.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(s.ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(s.ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * In front of the batch processor and behind it: counts what is exported, what the exporter failed to send, and what
 * was dropped because OTEL_BSP_MAX_QUEUE_SIZE spans were already waiting (the batch processor drops them silently).
 */
class CountedExport implements SpanProcessor {
  private waiting = 0;
  private readonly batch: BatchSpanProcessor;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly maxQueue: number,
    options: TracingSettings['batch'],
  ) {
    const counted: SpanExporter = { export: (spans, done) => this.export(spans, done), shutdown: () => exporter.shutdown() };
    this.batch = new BatchSpanProcessor({ ...options, exporter: counted });
  }

  onStart(span: Span, parent: Context): void {
    this.batch.onStart(span, parent);
  }

  onEnd(span: ReadableSpan): void {
    if (this.waiting >= this.maxQueue) {
      tracingCounts.dropped++;
      return;
    }
    this.waiting++;
    this.batch.onEnd(span);
  }

  private export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.exporter.export(spans, (result) => {
      this.waiting -= spans.length;
      if (result.code === ExportResultCode.SUCCESS) tracingCounts.exported += spans.length;
      else tracingCounts.failed += spans.length;
      done(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.batch.forceFlush();
  }

  /** The batch processor flushes, then shuts the exporter down. */
  shutdown(): Promise<void> {
    return this.batch.shutdown();
  }
}

const TRACEPARENT = /^00-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/**
 * Whether the sampler asked for leaves out every request that comes with this `traceparent` (see TracerKit.unsampled):
 * always_off, or a parent-based sampler and a valid unsampled parent (parent-based: an unsampled remote parent is
 * never sampled). Anything else, an invalid header included, goes through the SDK.
 */
function unsampledBy(s: TracingSettings): (headers: Record<string, unknown>) => boolean {
  if (s.sampler === 'always_off') return () => true;
  if (s.sampler === 'always_on' || s.sampler === 'traceidratio') return () => false;
  return (headers) => {
    const header = headers.traceparent;
    if (typeof header !== 'string') return false;
    const m = TRACEPARENT.exec(header.trim());
    if (!m || (Number.parseInt(m[3]!, 16) & TraceFlags.SAMPLED) !== 0) return false;
    return isSpanContextValid({ traceId: m[1]!, spanId: m[2]!, traceFlags: TraceFlags.NONE });
  };
}

/** `implicit`: this service finds spans through the active context, so the thread gets a context manager. */
export function tracerKit(settings: TracingSettings, service: string, instance: string, version: string, implicit: boolean): TracerKit {
  exposeTracingCounts();
  if (!propagatorSet) {
    propagation.setGlobalPropagator(propagator);
    propagatorSet = true;
  }
  if (implicit && !contextManager) {
    // One per thread, and only where a service needs one (tracing.ts, IMPLICIT_CONTEXT): lets spans and log lines
    // find the span of the request or tick they happen in. Without it, context.with() just calls its function.
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
  }
  const options = { url: settings.url, headers: settings.headers, timeoutMillis: settings.timeoutMs };
  const exporter = settings.protocol === 'http/json' ? new JsonExporter(options) : new ProtoExporter(options);
  const processor = new CountedExport(exporter, settings.batch.maxQueueSize, settings.batch);
  const resource = resourceFromAttributes({
    ...settings.resource,
    'service.name': settings.serviceName || service,
    'service.instance.id': instance,
    'service.version': version,
    'service.namespace': 'dockercoins',
  });
  const provider = new TracerProvider({ resource, sampler: sampler(settings), spanProcessors: [processor] });
  return {
    tracer: provider.getTracer('dockercoins', version),
    implicit,
    extract: (headers) =>
      propagator.extract(ROOT_CONTEXT, headers, {
        keys: (carrier) => Object.keys(carrier),
        get: (carrier, key) => {
          const v = (carrier as Record<string, unknown>)[key];
          return typeof v === 'string' || Array.isArray(v) ? (v as string | string[]) : undefined;
        },
      }),
    unsampled: unsampledBy(settings),
    inject: (ctx, headers) =>
      propagator.inject(ctx, headers, {
        set: (carrier, key, value) => {
          (carrier as Record<string, string>)[key] = value;
        },
      }),
    /** False when spans were lost on the way out: the deadline came first, or an export failed or dropped spans. */
    async shutdown(deadlineMs) {
      const lost = () => tracingCounts.failed + tracingCounts.dropped;
      const lostBefore = lost();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadlineMs));
      });
      const done = provider.shutdown().then(
        () => true,
        () => false,
      );
      const finished = await Promise.race([done, late]);
      clearTimeout(timer);
      return finished && lost() === lostBefore;
    },
  };
}
