// The worker's Prometheus metrics. One registry per process; in-process workers (under `up`) are told apart
// by the `worker` label.
import { Counter, FastCounter, FastHistogram, Gauge, type Registry } from '../platform/metrics.js';

export type Phase = 'sleep' | 'rng' | 'hasher' | 'ledger';
export type Cause = 'rng' | 'hasher' | 'ledger';

const KINDS: Record<Cause, string[]> = { rng: ['dns', 'connect', 'timeout', 'status', 'answer'], hasher: ['dns', 'connect', 'timeout', 'status', 'answer'], ledger: ['redis'] };

export function workerMetrics(registry: Registry) {
  const worker = ['worker'] as const;
  /** Read at scrape time, so the figure is exact at that moment (the chaos test relies on it). */
  const unflushed = new Map<string, () => number>();
  const metrics = {
    units: new FastCounter('dockercoins_worker_units_total', 'Units of work completed (one rng call + one hasher call each)', registry),
    flushed: new Counter({ name: 'dockercoins_worker_hashes_flushed_total', help: 'Units added to the ledger counter', labelNames: worker, registers: [registry] }),
    coins: new FastCounter('dockercoins_worker_coins_total', 'Coins found (hash starting with 0)', registry),
    unflushed,
    pending: new Gauge({
      name: 'dockercoins_worker_pending_units',
      help: 'Units done but not yet in the ledger',
      labelNames: worker,
      registers: [registry],
      collect() {
        for (const [name, read] of unflushed) this.set({ worker: name }, read());
      },
    }),
    phase: new FastCounter('dockercoins_worker_phase_seconds_total', 'Where the worker spends its time, by phase', registry),
    latency: new FastHistogram('dockercoins_worker_upstream_duration_seconds', 'rng and hasher call latency seen by the worker, queueing included', registry),
    served: new FastCounter('dockercoins_worker_served_total', 'Answers received, by upstream and the replica that served them', registry),
    errors: new Counter({ name: 'dockercoins_worker_errors_total', help: 'Failed calls, by cause and kind', labelNames: ['cause', 'kind'] as const, registers: [registry] }),
    retries: new Counter({ name: 'dockercoins_worker_retries_total', help: 'Back-off waits before retrying, by cause', labelNames: ['cause'] as const, registers: [registry] }),
    heartbeat: new Gauge({ name: 'dockercoins_worker_last_progress_timestamp_seconds', help: 'When the work loop last made progress', labelNames: worker, registers: [registry] }),
  };
  // Zero series from the start, so rate() and alerts see a failure's first occurrence.
  for (const [cause, kinds] of Object.entries(KINDS)) {
    metrics.retries.inc({ cause }, 0);
    for (const kind of kinds) metrics.errors.inc({ cause, kind }, 0);
  }
  return metrics;
}

export type WorkerMetrics = ReturnType<typeof workerMetrics>;
