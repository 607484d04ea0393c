// The components DockerCoins is made of, described by plain data (ComponentSpec) so that the same description can
// be started in this process or, later, in a worker thread or a child process. Each kind imports its code only
// when started: an rng process never loads Redis, undici or the dashboard.

import type { Config, FaultSettings } from '../config.js';
import type { Ledger, Totals } from '../ledger/ledger.js';
import type { Deadline } from '../platform/deadline.js';
import type { HttpService, TunableService } from '../platform/http-service.js';
import type { Component } from '../platform/lifecycle.js';
import type { Logger } from '../platform/logger.js';
import { startTracing, stopTracing, type Tracer, type TracerKit } from '../platform/tracing.js';
import type { LabControl } from '../webui/lab.js';
import type { WorkerGroup } from '../worker/group.js';

export type ServiceKind = 'rng' | 'hasher' | 'webui';

export type ComponentSpec =
  | { kind: ServiceKind; name: string; replica: string; port: number }
  | { kind: 'workers'; name: string; replica: string; count: number; part?: { index: number; of: number } };

export interface Context {
  config: Config;
  /** The ledger workers and webui use (started before them). */
  ledger?: Ledger;
  /** A logger per name: `rng.2`, `worker.7`. */
  log: (name: string) => Logger;
  /** The process's tracing when it runs one service (serve.ts shares it with the ledger); otherwise each component
   *  starts its own (`service.name` and `service.instance.id` its own) and flushes it when it stops. */
  kit?: TracerKit;
}

/** The tracing a component uses: the context's, or one of its own (undefined when tracing is off). */
class TracingOf {
  kit?: TracerKit;
  private own = false;
  async start(ctx: Context, service: string, replica: string): Promise<TracerKit | undefined> {
    if (ctx.kit) {
      this.kit = ctx.kit;
      return this.kit;
    }
    this.kit = await startTracing(ctx.config.tracing, service, replica, ctx.config.server.version);
    this.own = this.kit !== undefined;
    return this.kit;
  }
  async stop(deadline: Deadline, logger: Logger): Promise<void> {
    if (this.own && this.kit) await stopTracing(this.kit, deadline.remaining(), logger);
  }
}

/** An HTTP service listening on a port. `url` is known once started (port 0 = any free port). */
export class ServiceComponent<S extends HttpService = HttpService> implements Component {
  service?: S;
  port = 0;
  private readonly tracing = new TracingOf();

  constructor(
    readonly name: string,
    private readonly spec: ServiceSpec,
    private readonly build: (tracing: TracerKit | undefined) => Promise<S>,
    private readonly ctx: Context,
  ) {}

  get url(): string {
    const host = loopbackFor(this.ctx.config.server.host);
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  async start(): Promise<void> {
    this.service = await this.build(await this.tracing.start(this.ctx, this.spec.kind, this.spec.replica));
    this.port = await this.service.listen(this.spec.port, this.ctx.config.server.host);
  }

  /** Drains for DRAIN_MS (at most until the deadline), closes (connections still open at the deadline are cut),
   *  then flushes its own spans with what is left. */
  async stop(deadline: Deadline): Promise<void> {
    await this.service?.close(Math.min(this.ctx.config.server.drainMs, deadline.remaining()), deadline);
    await this.tracing.stop(deadline, this.ctx.log(this.name));
  }
}

/** An rng or hasher instance, as the all-in-one drives it: where it is, its settings and its faults. */
export interface InstanceHandle extends Component {
  readonly url: string;
  readonly port: number;
  tune(next: Record<string, number>): Promise<void>;
  setFaults(faults: FaultSettings): Promise<void>;
}

export interface GroupTotals {
  units: number;
  flushed: number;
  unflushed: number;
}

/** A group of work loops, as the all-in-one drives it. */
export interface WorkersHandle extends Component {
  readonly size: number;
  resize(count: number): Promise<void>;
  setTargets(targets: { rng?: string[]; hasher?: string[] }): Promise<void>;
  tune(next: { delayMs: number }): Promise<void>;
  /** Every unit done, flushed or not; after stop, the final figures. */
  totals(): Promise<GroupTotals>;
}

export class InstanceComponent extends ServiceComponent<TunableService<object>> implements InstanceHandle {
  async tune(next: Record<string, number>): Promise<void> {
    this.service?.tune(next);
  }
  async setFaults(faults: FaultSettings): Promise<void> {
    if (this.service) this.service.faults.settings = { ...faults };
  }
}

export class WorkersComponent implements WorkersHandle {
  group?: WorkerGroup;
  private readonly tracing = new TracingOf();

  constructor(
    readonly name: string,
    private readonly spec: WorkersSpec,
    private readonly build: (tracing: TracerKit | undefined) => Promise<WorkerGroup>,
    private readonly ctx: Context,
  ) {}

  private get count(): number {
    return this.spec.count;
  }

  get size(): number {
    return this.group?.size ?? this.count;
  }

  async start(): Promise<void> {
    this.group = await this.build(await this.tracing.start(this.ctx, 'worker', this.spec.replica));
    await this.group.start(this.count);
  }

  /** The loops abandon their units and flush; a flush still unanswered at the deadline is cut (Component.stop). */
  async stop(deadline: Deadline): Promise<void> {
    if (!(await deadline.within(this.group?.stop(deadline)))) this.ctx.log(this.name).warn('still flushing at the deadline: cut');
    await this.tracing.stop(deadline, this.ctx.log(this.name));
  }

  async resize(count: number): Promise<void> {
    await this.group?.resize(count);
  }

  async setTargets(targets: { rng?: string[]; hasher?: string[] }): Promise<void> {
    await this.group?.setTargets(targets);
  }

  async tune(next: { delayMs: number }): Promise<void> {
    this.group?.tune(next);
  }

  async totals(): Promise<GroupTotals> {
    return this.group?.totals() ?? { units: 0, flushed: 0, unflushed: 0 };
  }
}

/** Started first, stopped last: the totals it held at the end (for the summary line) are read just before it closes. */
export class LedgerComponent implements Component {
  readonly name = 'ledger';
  /** null when the ledger could not be read at the end. */
  finalTotals: Totals | null = null;
  constructor(readonly ledger: Ledger) {}
  async start(): Promise<void> {}
  async stop(deadline: Deadline): Promise<void> {
    const read = this.ledger.accounts.totals().then(
      (t) => {
        this.finalTotals = t;
      },
      () => undefined,
    );
    await deadline.within(read);
    await this.ledger.close(deadline);
  }
}

type ServiceSpec = Extract<ComponentSpec, { kind: ServiceKind }>;
type WorkersSpec = Extract<ComponentSpec, { kind: 'workers' }>;

export function rngComponent(spec: ServiceSpec, ctx: Context): InstanceComponent {
  const build = async (tracing?: TracerKit) => (await import('../rng/app.js')).createRng(serviceBase(spec, ctx, tracing), ctx.config.rng);
  return new InstanceComponent(spec.name, spec, build, ctx);
}

export function hasherComponent(spec: ServiceSpec, ctx: Context): InstanceComponent {
  const build = async (tracing?: TracerKit) => (await import('../hasher/app.js')).createHasher(serviceBase(spec, ctx, tracing), ctx.config.hasher);
  return new InstanceComponent(spec.name, spec, build, ctx);
}

export function webuiComponent(spec: ServiceSpec, ctx: Context, lab?: LabControl): ServiceComponent {
  const build = async (tracing?: TracerKit) => {
    const { createWebui, watchOnly } = await import('../webui/app.js');
    const options = {
      ledger: needLedger(spec, ctx),
      lab: lab ?? (ctx.config.lab ? watchOnly : undefined),
      adminToken: ctx.config.server.adminToken,
      tracingUi: ctx.config.tracing.uiUrl || undefined,
    };
    return createWebui(serviceBase(spec, ctx, tracing), options);
  };
  return new ServiceComponent(spec.name, spec, build, ctx);
}

export function serviceComponent(spec: ServiceSpec, ctx: Context): ServiceComponent {
  return spec.kind === 'rng' ? rngComponent(spec, ctx) : spec.kind === 'hasher' ? hasherComponent(spec, ctx) : webuiComponent(spec, ctx);
}

function serviceBase(spec: ServiceSpec, ctx: Context, tracing: TracerKit | undefined) {
  return { replica: spec.replica, server: ctx.config.server, logger: ctx.log(spec.name), tracing };
}

export function workersComponent(spec: WorkersSpec, ctx: Context): WorkersComponent {
  const { config } = ctx;
  const build = async (tracing?: TracerKit) => {
    const { WorkerGroup } = await import('../worker/group.js');
    return new WorkerGroup({
      settings: config.worker,
      server: config.server,
      ledger: needLedger(spec, ctx),
      replica: spec.replica,
      logger: ctx.log,
      adminLogger: ctx.log('worker'),
      part: spec.part,
      tracing,
    });
  };
  return new WorkersComponent(spec.name, spec, build, ctx);
}

function needLedger(spec: ComponentSpec, ctx: Context): Ledger {
  if (!ctx.ledger) throw new Error(`${spec.name} needs a ledger`);
  return ctx.ledger;
}

/** The ledger a config asks for: Redis at REDIS_URL (its commands traced when a tracer is given), or in-memory. */
export async function openLedger(config: Config, useRedis: boolean, logger: Logger, tracer?: Tracer): Promise<Ledger> {
  if (!useRedis) return (await import('../ledger/memory.js')).memoryLedger(config.ledger.walletMax);
  return (await import('../ledger/redis.js')).redisLedger(config.ledger, logger, tracer);
}

/** Stopped after everything else: the spans of the last flush and the last requests go out before the process ends. */
export class TracingComponent implements Component {
  readonly name = 'tracing';
  constructor(
    readonly kit: TracerKit,
    private readonly logger: Logger,
  ) {}
  async start(): Promise<void> {}
  async stop(deadline: Deadline): Promise<void> {
    await stopTracing(this.kit, deadline.remaining(), this.logger);
  }
}

/** Where a service listening on `host` is reached from this machine. */
export function loopbackFor(host: string): string {
  return host === '::' || host === '0.0.0.0' ? '127.0.0.1' : host;
}

/** Shares `count` loops among `parts` groups: 8 over 3 → 3, 3, 2. */
export function shares(count: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(count / parts) + (i < count % parts ? 1 : 0));
}

/** One worker service made of several groups (one per thread): resized, retargeted and tuned as one. */
export class SplitWorkers implements WorkersHandle {
  constructor(
    readonly name: string,
    private readonly groups: WorkersHandle[],
  ) {}

  get size(): number {
    return this.groups.reduce((n, g) => n + g.size, 0);
  }

  async start(): Promise<void> {
    await Promise.all(this.groups.map((g) => g.start()));
  }

  async stop(deadline: Deadline): Promise<void> {
    await Promise.all(this.groups.map((g) => g.stop(deadline)));
  }

  async resize(count: number): Promise<void> {
    const each = shares(count, this.groups.length);
    await Promise.all(this.groups.map((g, i) => g.resize(each[i]!)));
  }

  async setTargets(targets: { rng?: string[]; hasher?: string[] }): Promise<void> {
    await Promise.all(this.groups.map((g) => g.setTargets(targets)));
  }

  async tune(next: { delayMs: number }): Promise<void> {
    await Promise.all(this.groups.map((g) => g.tune(next)));
  }

  async totals(): Promise<GroupTotals> {
    const all = await Promise.all(this.groups.map((g) => g.totals()));
    return all.reduce((a, b) => ({ units: a.units + b.units, flushed: a.flushed + b.flushed, unflushed: a.unflushed + b.unflushed }));
  }
}
