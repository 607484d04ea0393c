// The lab's autoscaler for rng: probes rng's `/` as httplat does (one probe at a time, round-robin over the
// instances as a Service would), takes the mean latency over the adapter's window as the metric, and every sync
// period applies the HPA algorithm (hpa.ts) to the rng count. `speed` runs the HPA's clock faster for classroom demos
// and tests: windows, sync period and metric window all shrink by that factor, the algorithm is unchanged.

import type { AutoscaleView } from '../telemetry.js';
import { type Decision, Hpa, type HpaSpec, SLIDE_BEHAVIOR, V2_DEFAULT_BEHAVIOR } from './hpa.js';

/** The autoscaler's settings: exactly the settings part of what the lab shows of it (src/telemetry.ts). */
export type AutoscalerOptions = Pick<AutoscaleView, 'target' | 'minReplicas' | 'maxReplicas' | 'behavior' | 'speed' | 'path' | 'windowSeconds' | 'syncSeconds'>;

export const AUTOSCALER_DEFAULTS: AutoscalerOptions = {
  target: 0.1,
  minReplicas: 1,
  maxReplicas: 20,
  behavior: 'slide',
  speed: 1,
  path: '/',
  windowSeconds: 120,
  syncSeconds: 15,
};

export interface AutoscalerHooks {
  /** The URLs of the rng instances now. */
  endpoints(): string[];
  /** The rng count now. */
  current(): number;
  /** Sets the rng count; `decision` says why. */
  scale(replicas: number, decision: Decision): Promise<void>;
}

const PROBE_TIMEOUT_MS = 10_000;
const KEEP_DECISIONS = 300;

export class Autoscaler {
  readonly hpa: Hpa;
  readonly decisions: (Decision & { wallAt: number })[] = [];
  private readonly probes: { at: number; seconds: number }[] = [];
  private readonly startedAt = Date.now();
  private stopped = false;
  private syncTimer?: NodeJS.Timeout;
  private probing?: Promise<void>;
  private turn = 0;
  private syncing = false;

  constructor(
    readonly options: AutoscalerOptions,
    private readonly hooks: AutoscalerHooks,
  ) {
    const behavior = options.behavior === 'slide' ? SLIDE_BEHAVIOR : V2_DEFAULT_BEHAVIOR;
    const spec: HpaSpec = { minReplicas: options.minReplicas, maxReplicas: options.maxReplicas, target: options.target, tolerance: 0.1, behavior };
    this.hpa = new Hpa(spec);
  }

  /** The HPA's clock: seconds since the start, times speed. */
  hpaNow(): number {
    return ((Date.now() - this.startedAt) / 1000) * this.options.speed;
  }

  start(): void {
    this.probing = this.probeLoop();
    this.syncTimer = setInterval(() => void this.sync(), (this.options.syncSeconds * 1000) / this.options.speed);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.syncTimer);
    await this.probing;
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** The mean latency of the probes in the window (rate(sum) / rate(count)); null without any. */
  metric(): number | null {
    const since = this.hpaNow() - this.options.windowSeconds;
    const recent = this.probes.filter((p) => p.at >= since);
    if (recent.length === 0) return null;
    return recent.reduce((sum, p) => sum + p.seconds, 0) / recent.length;
  }

  private async probeLoop(): Promise<void> {
    // httplat probes once a second; faster in proportion to speed, but never more than 5 a second.
    const every = Math.max(200, 1000 / this.options.speed);
    while (!this.stopped) {
      const started = performance.now();
      const urls = this.hooks.endpoints();
      const url = urls[this.turn++ % Math.max(1, urls.length)];
      if (url) {
        try {
          const res = await fetch(`${url}${this.options.path}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
          await res.arrayBuffer();
          if (res.ok) this.probes.push({ at: this.hpaNow(), seconds: (performance.now() - started) / 1000 });
        } catch {
          // a failed probe is not a latency (httplat counts it apart); the instance may be leaving
        }
      }
      const cutoff = this.hpaNow() - this.options.windowSeconds;
      while (this.probes.length > 0 && this.probes[0]!.at < cutoff) this.probes.shift();
      const wait = every - (performance.now() - started);
      if (wait > 0 && !this.stopped) await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async sync(): Promise<void> {
    const metric = this.metric();
    // No metric: the HPA does not scale. A scale still being applied: this period is skipped.
    if (this.stopped || metric === null || this.syncing) return;
    this.syncing = true;
    try {
      const current = this.hooks.current();
      const decision = { ...this.hpa.decide(this.hpaNow(), current, metric), wallAt: Date.now() / 1000 };
      this.decisions.push(decision);
      if (this.decisions.length > KEEP_DECISIONS) this.decisions.shift();
      if (decision.desired !== current) await this.hooks.scale(decision.desired, decision);
    } finally {
      this.syncing = false;
    }
  }
}
