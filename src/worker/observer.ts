// One observer per work loop: everything the loop does is reported here, once, and feeds both outputs — the
// stats the dashboard reads (phase time, calls per replica, last errors) and Prometheus (the same numbers read
// at scrape time, plus the latency histogram and error counters). It also answers the loop's probes.
import type { FastHistogram } from '../platform/metrics.js';
import { type Cause, type Phase, type ReplicaCalls, type UpstreamName, type WorkerStats, zeroPhases } from '../telemetry.js';
import type { WorkerMetrics } from './metrics.js';
import { type Answer, UpstreamError } from './upstream.js';

type Observe = ReturnType<FastHistogram['bind']>;
const DEPENDENCIES: Cause[] = ['rng', 'hasher', 'ledger'];

export class LoopObserver {
  readonly phaseMs = zeroPhases();
  lastProgress = Date.now();
  private readonly replicas = new Map<string, { calls: ReplicaCalls; served: { inc(): void } }>();
  private readonly errors: Partial<Record<Cause, string>> = {};
  private readonly reached = new Set<Cause>();
  private readonly latency: Record<UpstreamName, Observe>;

  constructor(private readonly metrics: WorkerMetrics) {
    this.latency = { rng: metrics.latency.bind({ upstream: 'rng' }), hasher: metrics.latency.bind({ upstream: 'hasher' }) };
  }

  /** Runs one phase of the loop and adds its duration, whatever the outcome. */
  async timed<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.phaseMs[phase] += performance.now() - t0;
      this.progress();
    }
  }

  /** A call to rng or hasher: its time, which replica answered, how long rng's queue was. */
  async call(upstream: UpstreamName, fn: () => Promise<Answer>): Promise<Answer> {
    const t0 = performance.now();
    const answer = await this.timed(upstream, fn);
    const ms = performance.now() - t0;
    this.latency[upstream].observe(ms / 1000);
    this.ok(upstream);
    const key = `${upstream} ${answer.servedBy}`;
    let r = this.replicas.get(key);
    if (!r) {
      r = { calls: { upstream, replica: answer.servedBy, calls: 0, ms: 0 }, served: this.metrics.served.bind({ upstream, replica: answer.servedBy }) };
      this.replicas.set(key, r);
    }
    r.calls.calls++;
    r.calls.ms += ms;
    if (answer.queueDepth !== undefined) r.calls.queue = answer.queueDepth;
    r.served.inc();
    return answer;
  }

  /** A failure the loop will retry after a back-off. */
  failed(cause: Cause, err: Error): void {
    this.errors[cause] = err.message;
    this.metrics.errors.inc({ cause, kind: err instanceof UpstreamError ? err.kind : cause === 'ledger' ? 'redis' : 'other' });
    this.metrics.retries.inc({ cause });
  }

  /** The ledger failed (a flush or a coin kept for later); true the first time in a row, to log it once. */
  ledgerFailed(err: Error): boolean {
    const first = this.errors.ledger === undefined;
    this.errors.ledger = err.message;
    this.metrics.errors.inc({ cause: 'ledger', kind: 'redis' });
    return first;
  }

  ok(cause: Cause): void {
    this.reached.add(cause);
    delete this.errors[cause];
  }

  progress(): void {
    this.lastProgress = Date.now();
  }

  /** null while the loop makes progress; the reason once it has been stuck longer than stallMs. */
  liveness(stallMs: number): string | null {
    const idle = Date.now() - this.lastProgress;
    return idle > stallMs ? `work loop stalled for ${Math.round(idle / 1000)} s` : null;
  }

  /** null when rng, hasher and the ledger were all reached on their last try. */
  readiness(): string | null {
    const failing = Object.entries(this.errors).map(([cause, msg]) => `${cause}: ${msg}`);
    if (failing.length > 0) return failing.join('; ');
    const unknown = DEPENDENCIES.filter((c) => !this.reached.has(c));
    return unknown.length > 0 ? `not reached yet: ${unknown.join(', ')}` : null;
  }

  stats(): Pick<WorkerStats, 'phaseMs' | 'replicas' | 'errors'> {
    return { phaseMs: { ...this.phaseMs }, replicas: [...this.replicas.values()].map((r) => ({ ...r.calls })), errors: { ...this.errors } };
  }
}
