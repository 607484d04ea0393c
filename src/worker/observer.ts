// One observer per work loop: everything the loop does is reported here, once, and feeds both outputs — the
// stats the dashboard reads (phase time, calls per replica, last errors) and Prometheus (the same numbers read
// at scrape time, plus the latency histogram and error counters). It also answers the loop's probes.
import type { FastHistogram } from '../platform/metrics.js';
import { type Cause, type Phase, type ReplicaCalls, type SlowUnit, type UpstreamName, type WorkerStats, zeroPhases } from '../telemetry.js';
import type { WorkerMetrics } from './metrics.js';
import { type Answer, UpstreamError } from './upstream.js';

type Observe = ReturnType<FastHistogram['bind']>;
const DEPENDENCIES: Cause[] = ['rng', 'hasher', 'ledger'];
/** The slowest traced units kept: how many, over how long. */
const SLOWEST = 3;
const SLOWEST_MS = 10_000;

export class LoopObserver {
  readonly phaseMs = zeroPhases();
  lastProgress = Date.now();
  private readonly replicas: Record<UpstreamName, Map<string, { calls: ReplicaCalls; served: { inc(): void } }>> = { rng: new Map(), hasher: new Map() };
  private readonly errors: Partial<Record<Cause, string>> = {};
  private readonly reached = new Set<Cause>();
  private readonly latency: Record<UpstreamName, Observe>;
  private slowest: SlowUnit[] = [];

  constructor(private readonly metrics: WorkerMetrics) {
    this.latency = { rng: metrics.latency.bind({ upstream: 'rng' }), hasher: metrics.latency.bind({ upstream: 'hasher' }) };
  }

  /** A phase of the loop ended: adds the time since `since` to it (whatever the outcome); returns now. */
  spent(phase: Phase, since: number): number {
    const now = performance.now();
    this.phaseMs[phase] += now - since;
    this.lastProgress = Date.now();
    return now;
  }

  /** rng or hasher answered, after the call that began at `since`: its time, which replica, rng's queue. Returns now. */
  answered(upstream: UpstreamName, answer: Answer, since: number): number {
    const now = this.spent(upstream, since);
    const ms = now - since;
    this.latency[upstream].observe(ms / 1000);
    this.ok(upstream);
    const byReplica = this.replicas[upstream];
    let r = byReplica.get(answer.servedBy);
    if (!r) {
      r = { calls: { upstream, replica: answer.servedBy, calls: 0, ms: 0 }, served: this.metrics.served.bind({ upstream, replica: answer.servedBy }) };
      byReplica.set(answer.servedBy, r);
    }
    r.calls.calls++;
    r.calls.ms += ms;
    if (answer.queueDepth !== undefined) r.calls.queue = answer.queueDepth;
    r.served.inc();
    return now;
  }

  /** A traced unit ended after `ms`: kept if it is among the slowest of the last SLOWEST_MS. */
  traced(traceId: string, ms: number): void {
    const at = Date.now();
    this.slowest = this.slowest.filter((u) => u.at > at - SLOWEST_MS);
    if (this.slowest.length >= SLOWEST && ms <= this.slowest[SLOWEST - 1]!.ms) return;
    this.slowest.push({ traceId, ms: Math.round(ms * 10) / 10, at });
    this.slowest.sort((a, b) => b.ms - a.ms);
    this.slowest.length = Math.min(this.slowest.length, SLOWEST);
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
    if (this.errors[cause] !== undefined) delete this.errors[cause];
    this.reached.add(cause);
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

  stats(): Pick<WorkerStats, 'phaseMs' | 'replicas' | 'errors' | 'slowest'> {
    const replicas = [...this.replicas.rng.values(), ...this.replicas.hasher.values()].map((r) => ({ ...r.calls }));
    const stats = { phaseMs: { ...this.phaseMs }, replicas, errors: { ...this.errors } };
    const recent = this.slowest.filter((u) => u.at > Date.now() - SLOWEST_MS);
    return recent.length > 0 ? { ...stats, slowest: recent } : stats;
  }
}
