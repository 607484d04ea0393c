// A group of work loops in one process, sharing one set of metrics, one keep-alive pool per upstream replica and
// (with METRICS_PORT) one admin listener: /healthz (every loop makes progress), /readyz (rng, hasher and the ledger
// reached), /metrics. The group grows and shrinks at runtime (lab mode), and follows the rng/hasher rotation.
import type { ServerSettings, WorkerSettings } from '../config.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Deadline } from '../platform/deadline.js';
import type { HttpService } from '../platform/http-service.js';
import type { Logger } from '../platform/logger.js';
import { createRegistry, type Registry } from '../platform/metrics.js';
import type { TracerKit } from '../platform/tracing.js';
import { type WorkerMetrics, workerMetrics } from './metrics.js';
import { MiningLoop } from './mining-loop.js';
import { type Transport, Upstream } from './upstream.js';

/** When stop() is given no deadline (tests, a group used on its own). */
const ADMIN_CLOSE_MS = 500;

export interface WorkerGroupOptions {
  settings: WorkerSettings;
  /** For the admin listener (METRICS_PORT). */
  server: ServerSettings;
  ledger: Pick<Ledger, 'accounts' | 'board'>;
  /** The registry's replica label: the hostname for a worker process, `workers` under `up`. */
  replica: string;
  logger: (name: string) => Logger;
  adminLogger: Logger;
  /** How requests travel (tests pass one built on inject()). */
  transport?: () => Transport;
  /** This group's share of loop numbers when several groups (threads) make one worker service: the k-th loop of
   *  group `part` of `parts` is worker.(k × parts + part + 1). */
  part?: { index: number; of: number };
  /** Tracing on: a trace per unit and per flush. */
  tracing?: TracerKit;
}

export class WorkerGroup {
  readonly registry: Registry;
  readonly rng: Upstream;
  readonly hasher: Upstream;
  private readonly metrics: WorkerMetrics;
  private readonly active: MiningLoop[] = [];
  /** Totals of loops that were removed at runtime, so the group's summary stays whole. */
  private readonly retired = { units: 0, flushed: 0, unflushed: 0 };
  private serial = 0;
  private admin?: HttpService;
  /** The loops read it at every unit. */
  readonly settings: WorkerSettings;

  constructor(private readonly opts: WorkerGroupOptions) {
    const settings = { ...opts.settings };
    this.settings = settings;
    this.registry = createRegistry('worker', opts.replica);
    this.metrics = workerMetrics(this.registry, () => this.active);
    this.rng = new Upstream('rng', settings.rngUrls, settings.httpTimeoutMs, opts.transport?.(), opts.tracing);
    this.hasher = new Upstream('hasher', settings.hasherUrls, settings.httpTimeoutMs, opts.transport?.(), opts.tracing);
  }

  /** The loops running now. */
  get loops(): readonly MiningLoop[] {
    return this.active;
  }

  get size(): number {
    return this.active.length;
  }

  /** Every unit done by this group, flushed or not, including loops removed since. */
  totals(): { units: number; flushed: number; unflushed: number } {
    const t = { ...this.retired };
    for (const w of this.active) {
      t.units += w.units;
      t.flushed += w.flushed;
      t.unflushed += w.unflushed;
    }
    return t;
  }

  async start(count: number): Promise<void> {
    const port = this.opts.settings.metricsPort;
    if (port) await (await this.adminService()).listen(port, this.opts.server.host);
    await this.resize(count);
  }

  /** The admin listener: probes and metrics of every loop in this group (built once; fastify loads only then). */
  async adminService(): Promise<HttpService> {
    const { createHttpService } = await import('../platform/http-service.js');
    this.admin ??= await createHttpService(
      { service: 'worker', replica: this.opts.replica, server: this.opts.server, logger: this.opts.adminLogger, registry: this.registry },
      async (app) => {
        app.health.live = () => this.liveness();
        app.health.ready = () => this.readiness();
      },
    );
    return this.admin;
  }

  /** null while every loop makes progress, else the first loop's reason. */
  liveness(): string | null {
    return this.active.map((w) => w.liveness()).find((r) => r !== null) ?? null;
  }

  /** null while every loop reaches rng, hasher and the ledger, else the first loop's reason. */
  readiness(): string | null {
    return this.active.map((w) => w.readiness()).find((r) => r !== null) ?? null;
  }

  /** New loops start at once; removed ones (the newest) finish their unit, flush, then stop.
   *  A group started with one loop calls it `worker`, as the original; otherwise loops are `worker.1` … */
  async resize(count: number): Promise<void> {
    while (this.active.length < count) {
      const { index, of } = this.opts.part ?? { index: 0, of: 1 };
      const name = of === 1 && this.serial === 0 && count === 1 ? 'worker' : `worker.${this.serial * of + index + 1}`;
      this.serial++;
      const w = new MiningLoop({
        name,
        settings: this.settings,
        ledger: this.opts.ledger,
        rng: this.rng,
        hasher: this.hasher,
        metrics: this.metrics,
        logger: this.opts.logger(name),
        tracer: this.opts.tracing?.tracer,
      });
      this.active.push(w);
      w.start();
    }
    const leaving = this.active.splice(count);
    await Promise.all(
      leaving.map(async (w) => {
        await w.stop({ finishUnit: true });
        this.retired.units += w.units;
        this.retired.flushed += w.flushed;
        this.retired.unflushed += w.unflushed;
      }),
    );
  }

  /** The lab changes the delay between units while the loops run. */
  tune(next: Partial<Pick<WorkerSettings, 'delayMs'>>): void {
    Object.assign(this.settings, next);
  }

  /** Where rng and hasher are now (lab mode adds and removes replicas); resolves once those that left are drained. */
  async setTargets(targets: { rng?: string[]; hasher?: string[] }): Promise<void> {
    await Promise.all([targets.rng && this.rng.setUrls(targets.rng), targets.hasher && this.hasher.setUrls(targets.hasher)]);
  }

  /** Abandons the units in flight (closing the upstreams ends their calls), flushes everything done; the admin
   *  listener closes last, its connections cut at the deadline (without one, after ADMIN_CLOSE_MS). */
  async stop(deadline: Deadline | number = ADMIN_CLOSE_MS): Promise<void> {
    const loops = this.active.map((w) => w.stop());
    await Promise.all([this.rng.close(), this.hasher.close()]);
    await Promise.all(loops);
    await this.admin?.close(0, deadline);
  }
}
