// Prometheus metrics: one registry per service instance (several share a process under `up`), plus the
// process-wide Node metrics appended to every /metrics answer.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
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

export function httpMetrics(registry: Registry) {
  const labelNames = ['method', 'route', 'status'] as const;
  return {
    requests: new Counter({
      name: 'dockercoins_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'dockercoins_http_request_duration_seconds',
      help: 'Time from request received to response sent, queue wait included',
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}
