// The class page's view of every tenant: the engine's labels say who exists and which containers run; each
// tenant's own dashboard (`/api/snapshot` on its published port) says its speed and hashes. No exec healthchecks:
// a tenant is unhealthy when a container is not running, its dashboard or ledger does not answer, or it is stuck.
import type { Engine } from '../engine/docker.js';
import { isSnapshot, type Snapshot } from '../telemetry.js';
import { listTenants, type TenantInfo } from '../tenants/provision.js';

/** One row of GET /api/tenants (CONTRACT.md: name, url, speed, hashes, workers, healthy; the rest is ours). */
export interface TenantRow {
  name: string;
  url: string;
  /** hashes/s as the tenant's own dashboard shows it; null until it has a window. */
  speed: number | null;
  hashes: number;
  /** When the tenant's dashboard computed speed and hashes (Unix seconds); null without a snapshot. */
  at: number | null;
  coins: number;
  workers: number;
  healthy: boolean;
  /** No hashes for stuckMs while it should be mining. */
  stuck: boolean;
  /** Why it is not healthy, one line each (empty when healthy). */
  problems: string[];
  state: TenantInfo['state'];
}

export interface MonitorOptions {
  engine: Engine;
  classId: string;
  /** Where this process reaches the published dashboards (127.0.0.1 for a local engine). */
  probeHost: string;
  intervalMs?: number;
  /** How often the engine is asked which tenants and containers exist (each dashboard is asked every round). */
  engineEveryMs?: number;
  stuckMs?: number;
  probeTimeoutMs?: number;
}

interface Progress {
  hashes: number;
  changedAt: number;
}

export class ClassMonitor {
  private rowsNow: TenantRow[] = [];
  private readonly progress = new Map<string, Progress>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private engineError = '';
  private listed?: { at: number; tenants: TenantInfo[] };
  readonly intervalMs: number;
  readonly stuckMs: number;

  constructor(private readonly o: MonitorOptions) {
    this.intervalMs = o.intervalMs ?? 2000;
    this.stuckMs = o.stuckMs ?? 10_000;
  }

  get rows(): TenantRow[] {
    return this.rowsNow;
  }

  /** The engine's last error ('' when it answered). */
  get engineProblem(): string {
    return this.engineError;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One round: the engine's list (at most every engineEveryMs, sooner while a tenant has a problem: listing a class's
   * 120 containers costs the engine more than the round's 30 dashboards), then every dashboard in parallel. A round
   * still running is not started again.
   */
  tick(): Promise<void> {
    this.ticking ??= this.round().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async round(): Promise<void> {
    let tenants: TenantInfo[];
    const now = Date.now();
    const troubled = this.rowsNow.some((r) => !r.healthy);
    if (this.listed && !troubled && now - this.listed.at < (this.o.engineEveryMs ?? 10_000)) tenants = this.listed.tenants;
    else {
      try {
        tenants = await listTenants(this.o);
        this.listed = { at: now, tenants };
        this.engineError = '';
      } catch (err) {
        this.engineError = (err as Error).message;
        this.listed = undefined;
        return;
      }
    }
    this.rowsNow = await Promise.all(tenants.map((t) => this.row(t, now)));
    for (const name of this.progress.keys()) if (!tenants.some((t) => t.name === name)) this.progress.delete(name);
  }

  private async row(t: TenantInfo, now: number): Promise<TenantRow> {
    const problems = t.containers.filter((c) => c.state !== 'running').map((c) => `${c.name} ${c.state}`);
    let snap: Snapshot | null = null;
    if (t.port === null) problems.push('dashboard not published');
    else {
      try {
        const res = await fetch(`http://${this.o.probeHost}:${t.port}/api/snapshot`, { signal: AbortSignal.timeout(this.o.probeTimeoutMs ?? 1500) });
        const body: unknown = res.ok ? await res.json() : null;
        if (!res.ok) problems.push(`dashboard answered ${res.status}`);
        else if (!isSnapshot(body)) problems.push('dashboard sent no snapshot');
        else snap = body;
      } catch (err) {
        problems.push(
          `dashboard unreachable (${(err as Error).name === 'TimeoutError' ? 'timeout' : ((err as Error).cause as Error)?.message || (err as Error).message})`,
        );
      }
    }
    if (snap && !snap.ledger.ok) problems.push(`ledger: ${snap.ledger.error ?? 'unreachable'}`);
    for (const w of snap?.workers.list ?? []) for (const e of w.errors) problems.push(`${w.name}: ${e}`);
    // Stuck: the counter has not moved for stuckMs (measured from when this page first saw the tenant).
    let stuck = false;
    if (snap) {
      const p = this.progress.get(t.name);
      if (!p || snap.hashes !== p.hashes) this.progress.set(t.name, { hashes: snap.hashes, changedAt: now });
      const since = now - (this.progress.get(t.name)?.changedAt ?? now);
      if (since >= this.stuckMs) {
        stuck = true;
        problems.push(`no hashes for ${Math.round(since / 1000)} s`);
      }
    }
    return {
      name: t.name,
      url: t.url,
      speed: snap?.speed ?? null,
      hashes: snap?.hashes ?? 0,
      at: snap?.now ?? null,
      coins: snap?.coins ?? 0,
      workers: t.workers,
      healthy: problems.length === 0,
      stuck,
      problems,
      state: t.state,
    };
  }
}
