// The worker's Prometheus metrics, one set per process. Loops (several under `up`) are told apart by the `worker`
// label. Counts that loops keep anyway (units, coins, flushes, phase time, heartbeat) are read from them at scrape
// time; only what nothing else keeps (latency histogram, answers per replica, errors) is counted here.
import { CollectedMetric, Counter, FastCounter, FastHistogram, type Registry } from '../platform/metrics.js';
import { type Cause, ERROR_KINDS, PHASES, type Phase } from '../telemetry.js';

/** What a loop shows at scrape time. */
export interface LoopReading {
  readonly name: string;
  readonly units: number;
  readonly flushed: number;
  readonly coins: number;
  readonly unflushed: number;
  readonly phaseMs: Readonly<Record<Phase, number>>;
  readonly lastProgress: number;
}

export function workerMetrics(registry: Registry, loops: () => Iterable<LoopReading>) {
  const per = (value: (l: LoopReading) => number) =>
    function* () {
      for (const l of loops()) yield { labels: { worker: l.name }, value: value(l) };
    };
  new CollectedMetric(
    'dockercoins_worker_units_total',
    'Units of work completed (one rng call + one hasher call each)',
    'counter',
    registry,
    per((l) => l.units),
  );
  new CollectedMetric(
    'dockercoins_worker_hashes_flushed_total',
    'Units added to the ledger counter',
    'counter',
    registry,
    per((l) => l.flushed),
  );
  new CollectedMetric(
    'dockercoins_worker_coins_total',
    'Coins found (hash starting with 0)',
    'counter',
    registry,
    per((l) => l.coins),
  );
  new CollectedMetric(
    'dockercoins_worker_pending_units',
    'Units done but not yet in the ledger',
    'gauge',
    registry,
    per((l) => l.unflushed),
  );
  new CollectedMetric(
    'dockercoins_worker_last_progress_timestamp_seconds',
    'When the work loop last made progress',
    'gauge',
    registry,
    per((l) => l.lastProgress / 1000),
  );
  new CollectedMetric('dockercoins_worker_phase_seconds_total', 'Where the worker spends its time, by phase', 'counter', registry, function* () {
    for (const l of loops()) for (const phase of PHASES) yield { labels: { worker: l.name, phase }, value: l.phaseMs[phase] / 1000 };
  });
  const metrics = {
    latency: new FastHistogram('dockercoins_worker_upstream_duration_seconds', 'rng and hasher call latency seen by the worker, queueing included', registry),
    served: new FastCounter('dockercoins_worker_served_total', 'Answers received, by upstream and the replica that served them', registry),
    errors: new Counter({
      name: 'dockercoins_worker_errors_total',
      help: 'Failed calls, by cause and kind',
      labelNames: ['cause', 'kind'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'dockercoins_worker_retries_total',
      help: 'Back-off waits before retrying, by cause',
      labelNames: ['cause'] as const,
      registers: [registry],
    }),
  };
  // Zero series from the start, so rate() and alerts see a failure's first occurrence.
  for (const [cause, kinds] of Object.entries(ERROR_KINDS) as [Cause, readonly string[]][]) {
    metrics.retries.inc({ cause }, 0);
    for (const kind of kinds) metrics.errors.inc({ cause, kind }, 0);
  }
  return metrics;
}

export type WorkerMetrics = ReturnType<typeof workerMetrics>;
