// The all-in-one system of `npm start`, as one supervisor runs it, and the lab's control of it: workers, rng and
// hasher instances added and removed at runtime, delays and rng's concurrency turned, faults injected per service.
// Instances reach the workers through a readiness-driven rotation (rotation.ts), as a Service would route them.
import { availableParallelism } from 'node:os';
import type { Config } from '../config.js';
import { Deadline } from '../platform/deadline.js';
import { Supervisor } from '../platform/lifecycle.js';
import { getPrefixWidth, type Logger } from '../platform/logger.js';
import type { LabChange, LabFaults, LabScale, LabSettings } from '../telemetry.js';
import type { LabControl } from '../webui/lab.js';
import {
  type ComponentSpec,
  type Context,
  hasherComponent,
  type InstanceHandle,
  LedgerComponent,
  openLedger,
  rngComponent,
  type ServiceComponent,
  SplitWorkers,
  shares,
  type WorkersHandle,
  webuiComponent,
  workersComponent,
} from './components.js';
import { Rotation } from './rotation.js';
import { ThreadComponent } from './thread-component.js';
import { ThreadsAdmin } from './threads-admin.js';

type Scaled = 'rng' | 'hasher';

/** A lab removal: the instance left the rotation already; what it still serves is cut after this. */
const REMOVE_WITHIN_MS = 2000;

/**
 * Threads the work loops share in turbo (TURBO_THREADS = 0). One rng and one hasher thread each keep about a third
 * of a core busy at 12k units/s; a thread of work loops most of one. Measured on 2 cores: one worker thread
 * 12–14.6k units/s, two 9–10k (more threads than cores only add switching). Bigger machines get one per core beyond
 * two, up to four.
 */
const WORKER_THREADS = Math.min(4, Math.max(1, availableParallelism() - 2));

export interface AllInOneOptions {
  scale: LabScale;
  useRedis: boolean;
  /** rng and hasher instances and the work loops each in a worker thread, to use every core (turbo). */
  threads: boolean;
  log: (name: string) => Logger;
}

export class AllInOne implements LabControl {
  readonly controllable = true;
  readonly supervisor: Supervisor;
  ledger?: LedgerComponent;
  webui?: ServiceComponent;
  workers?: WorkersHandle;
  private readonly instances: Record<Scaled, InstanceHandle[]> = { rng: [], hasher: [] };
  private readonly serial: Record<Scaled, number> = { rng: 0, hasher: 0 };
  private readonly rotation: Record<Scaled, Rotation>;
  private readonly settings: LabSettings;
  private readonly faults: LabFaults;
  private ctx?: Context;

  constructor(
    private readonly config: Config,
    private readonly opts: AllInOneOptions,
  ) {
    const main = opts.log('dockercoins');
    this.supervisor = new Supervisor(main);
    const publish = (kind: Scaled) => async (urls: string[]) => {
      await this.workers?.setTargets({ [kind]: urls });
    };
    this.rotation = { rng: new Rotation('rng', publish('rng'), main), hasher: new Rotation('hasher', publish('hasher'), main) };
    this.settings = {
      rngConcurrency: config.rng.concurrency,
      rngDelayMs: config.rng.delayMs,
      hasherDelayMs: config.hasher.delayMs,
      workerDelayMs: config.worker.delayMs,
    };
    const noFaults = { ...config.server.faults };
    this.faults = { rng: { ...noFaults }, hasher: { ...noFaults } };
  }

  async start(): Promise<void> {
    const { config, opts } = this;
    const ledger = new LedgerComponent(await openLedger(config, opts.useRedis, opts.log('ledger')));
    await this.supervisor.add('ledger', ledger);
    this.ledger = ledger;
    this.ctx = { config, log: opts.log, ledger: ledger.ledger };
    // The workers first, with no rng or hasher yet: their loops begin with their sleep while the instances start,
    // and their first calls wait for the rotation to name them (rotation.add publishes each instance).
    const workerConfig: Config = { ...config, worker: { ...config.worker, rngUrls: [], hasherUrls: [] } };
    const spec = { kind: 'workers', name: 'workers', replica: config.server.hostname, count: opts.scale.worker } as const;
    if (opts.threads) {
      const parts = Math.min(config.up.turboThreads || WORKER_THREADS, Math.max(1, opts.scale.worker));
      const each = shares(opts.scale.worker, parts);
      // One admin listener (METRICS_PORT) per process, here: it sums every thread's registry (ThreadsAdmin).
      const inThreads: Config = { ...workerConfig, worker: { ...workerConfig.worker, metricsPort: 0 } };
      const groups = each.map((count, index) => this.inThread({ ...spec, name: `workers-${index + 1}`, count, part: { index, of: parts } }, inThreads));
      this.workers = new SplitWorkers('workers', groups);
      await this.supervisor.add('workers', this.workers);
      if (config.worker.metricsPort) await this.supervisor.add('workers', new ThreadsAdmin(groups, config, opts.log('worker')));
    } else {
      this.workers = workersComponent(spec, { ...this.ctx, config: workerConfig });
      await this.supervisor.add('workers', this.workers);
    }
    await this.scaleService('rng', opts.scale.rng);
    await this.scaleService('hasher', opts.scale.hasher);
    this.webui = webuiComponent({ kind: 'webui', name: 'webui', replica: 'webui', port: config.up.webuiPort }, this.ctx, this);
    await this.supervisor.add('webui', this.webui);
    this.rotation.rng.start();
    this.rotation.hasher.start();
  }

  /** Stops every component by the deadline; the names of those cut there. */
  async stop(deadline: Deadline): Promise<string[]> {
    this.rotation.rng.stop();
    this.rotation.hasher.stop();
    return this.supervisor.stop(deadline);
  }

  ports(kind: Scaled): number[] {
    return this.instances[kind].map((c) => c.port);
  }

  endpoints(kind: Scaled): string[] {
    return this.instances[kind].map((c) => c.url);
  }

  current(): { scale: LabScale; settings: LabSettings; faults: LabFaults } {
    const scale = { worker: this.workers?.size ?? this.opts.scale.worker, rng: this.instances.rng.length, hasher: this.instances.hasher.length };
    return { scale, settings: { ...this.settings }, faults: { rng: { ...this.faults.rng }, hasher: { ...this.faults.hasher } } };
  }

  /** A lab change: settings first (new instances start with them), then faults, then the scale. */
  async apply(change: LabChange): Promise<void> {
    const { worker, rng, hasher, faults, ...settings } = change;
    Object.assign(this.settings, settings);
    await Promise.all([
      ...this.instances.rng.map((c) => c.tune(this.rngTuning())),
      ...this.instances.hasher.map((c) => c.tune(this.hasherTuning())),
      this.workers?.tune({ delayMs: this.settings.workerDelayMs }),
    ]);
    for (const kind of ['rng', 'hasher'] as const) {
      if (!faults?.[kind]) continue;
      Object.assign(this.faults[kind], faults[kind]);
      await Promise.all(this.instances[kind].map((c, i) => this.injectFaults(kind, c, i)));
      await this.rotation[kind].probe();
    }
    if (rng !== undefined) await this.scaleService('rng', rng);
    if (hasher !== undefined) await this.scaleService('hasher', hasher);
    if (worker !== undefined) await this.workers?.resize(worker);
  }

  private inThread(spec: ComponentSpec, config: Config): ThreadComponent {
    return new ThreadComponent(spec.name, { spec, config, prefixWidth: getPrefixWidth() }, spec.kind === 'workers' ? this.ledger?.ledger : undefined);
  }

  /** Latency and errors hit every instance of a service; `unready` only the first, so the rotation can route around it. */
  private injectFaults(kind: Scaled, c: InstanceHandle, index: number): Promise<void> {
    return c.setFaults({ ...this.faults[kind], unready: index === 0 && this.faults[kind].unready });
  }

  private rngTuning() {
    return { delayMs: this.settings.rngDelayMs, concurrency: this.settings.rngConcurrency };
  }

  private hasherTuning() {
    return { delayMs: this.settings.hasherDelayMs };
  }

  /** New instances start at the current settings and join the rotation; the newest leave it, drain, then stop. */
  private async scaleService(kind: Scaled, count: number): Promise<void> {
    const ctx = this.ctx!;
    const list = this.instances[kind];
    while (list.length < count) {
      const n = ++this.serial[kind];
      // A lone instance is `rng`, as the original; scaled ones are rng.1, rng.2 … (rng.1 keeps the well-known port).
      const name = n === 1 && count === 1 ? kind : `${kind}.${n}`;
      const port = n === 1 ? (kind === 'rng' ? this.config.up.rngPort : this.config.up.hasherPort) : 0;
      const spec = { kind, name, replica: name, port };
      const c: InstanceHandle = this.opts.threads ? this.inThread(spec, this.config) : kind === 'rng' ? rngComponent(spec, ctx) : hasherComponent(spec, ctx);
      await this.supervisor.add(kind, c);
      await c.tune(kind === 'rng' ? this.rngTuning() : this.hasherTuning());
      list.push(c);
      await this.injectFaults(kind, c, list.length - 1);
      await this.rotation[kind].add(c);
    }
    while (list.length > count) {
      const c = list.pop()!;
      await this.rotation[kind].remove(c);
      await this.supervisor.remove(c.name, Deadline.in(REMOVE_WITHIN_MS));
    }
  }
}
