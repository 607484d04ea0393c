// Prometheus metrics: one registry per service instance (several share a process under `up`), plus the
// process-wide Node metrics appended to every /metrics answer.
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

const EVENT_LOOP_SAMPLE_MS = 1000;

let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    // prom-client samples the event loop's delay every 10 ms by default: 100 wake-ups a second in every process,
    // most of what an idle container spends. Once a second still gives nodejs_eventloop_lag_* a sample per second
    // (15 per scrape) and takes half of rng's wake-ups at the workshop's pace (210 instead of 380 per 66 requests).
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    // Gauges named like counters (promtool check metrics flags them); nodejs_active_{handles,requests,resources}
    // by type carry the same counts.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      processRegistry.removeSingleMetric(name);
    }
  }
  return processRegistry;
}

export function createRegistry(service: string, replica: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, replica });
  processMetrics();
  return registry;
}

export async function renderMetrics(registry: Registry): Promise<string> {
  const [own, proc] = await Promise.all([registry.metrics(), processMetrics().metrics()]);
  return `${own}\n${proc}`;
}

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Seconds buckets from 1 ms to 30 s: covers a turbo request and a 50-deep rng queue alike. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A gauge read at scrape time (a queue's depth, requests in flight): zero cost between scrapes. */
export function liveGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

type Labels = Record<string, string>;

/**
 * Counters and histograms for hot paths. A labelled series is bound once and then updated with plain arithmetic;
 * prom-client formats it at scrape time. (prom-client's own children hash their labels on every call: that alone
 * cost rng a quarter of its turbo throughput.)
 */
abstract class FastMetric<S> {
  protected readonly series = new Map<string, { labels: Labels; state: S }>();
  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }
  protected state(labels: Labels, make: () => S): S {
    const key = JSON.stringify(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, state: make() };
      this.series.set(key, entry);
    }
    return entry.state;
  }
  reset(): void {
    this.series.clear();
  }
}

export class FastCounter extends FastMetric<{ value: number }> {
  readonly type = 'counter';
  bind(labels: Labels = {}): { inc(by?: number): void } {
    const s = this.state(labels, () => ({ value: 0 }));
    return {
      inc: (by = 1) => {
        s.value += by;
      },
    };
  }
  async get() {
    const values = [...this.series.values()].map(({ labels, state }) => ({ labels, value: state.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

export class FastHistogram extends FastMetric<{ counts: Float64Array; sum: number; count: number }> {
  readonly type = 'histogram';
  constructor(
    name: string,
    help: string,
    registry: Registry,
    readonly buckets: number[] = LATENCY_BUCKETS,
  ) {
    super(name, help, registry);
  }
  bind(labels: Labels = {}): { observe(v: number): void } {
    const s = this.state(labels, () => ({ counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
    const b = this.buckets;
    return {
      observe: (v) => {
        s.sum += v;
        s.count++;
        for (let i = 0; i < b.length; i++) {
          if (v <= b[i]!) {
            s.counts[i]!++;
            return;
          }
        }
      },
    };
  }
  async get() {
    const values: { labels: Labels; value: number; metricName: string }[] = [];
    for (const { labels, state } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += state.counts[i]!;
        values.push({ labels: { ...labels, le: String(le) }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: state.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: state.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: state.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

/**
 * A counter or gauge whose samples are read from live state at scrape time: the state is kept once, by whoever
 * owns it, and Prometheus only looks at it (no second tally to keep in step).
 */
export class CollectedMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    registry: Registry,
    private readonly read: () => Iterable<{ labels: Labels; value: number }>,
  ) {
    registry.registerMetric(this as never);
  }
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: [...this.read()], aggregator: 'sum' };
  }
  reset(): void {}
}

export function httpMetrics(registry: Registry) {
  return {
    requests: new FastCounter('dockercoins_http_requests_total', 'HTTP requests answered, by method, route and status', registry),
    duration: new FastHistogram('dockercoins_http_request_duration_seconds', 'Time from request received to response sent, queue wait included', registry),
  };
}

/** Spans by outcome, for the process (every traced service in it). */
export const tracingCounts = { exported: 0, failed: 0, dropped: 0 };
let tracingExposed = false;

/** Shows tracingCounts on every /metrics of this process; called once tracing is on (never without it). */
export function exposeTracingCounts(): void {
  if (tracingExposed) return;
  tracingExposed = true;
  new CollectedMetric(
    'dockercoins_tracing_spans_total',
    'Spans ended, by outcome: exported; failed (the collector did not take them); dropped (OTEL_BSP_MAX_QUEUE_SIZE spans were waiting)',
    'counter',
    processMetrics(),
    function* () {
      for (const [outcome, value] of Object.entries(tracingCounts)) yield { labels: { outcome }, value };
    },
  );
}
