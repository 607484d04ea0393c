// The all-in-one system of `npm start`, as one supervisor runs it, and the lab's control of it: workers, rng and
// hasher instances added and removed at runtime, delays and rng's concurrency turned, faults injected per service.
// Instances reach the workers through a readiness-driven rotation (rotation.ts), as a Service would route them.
import type { Config } from '../config.js';
import type { TunableService } from '../platform/http-service.js';
import { Supervisor } from '../platform/lifecycle.js';
import type { Logger } from '../platform/logger.js';
import type { LabChange, LabFaults, LabScale, LabSettings } from '../telemetry.js';
import type { LabControl } from '../webui/lab.js';
import {
  type Context,
  hasherComponent,
  LedgerComponent,
  openLedger,
  rngComponent,
  type ServiceComponent,
  type WorkersComponent,
  webuiComponent,
  workersComponent,
} from './components.js';
import { Rotation } from './rotation.js';

type Scaled = 'rng' | 'hasher';
type Instance = ServiceComponent<TunableService<object>>;

export interface AllInOneOptions {
  scale: LabScale;
  useRedis: boolean;
  log: (name: string) => Logger;
}

export class AllInOne implements LabControl {
  readonly controllable = true;
  readonly supervisor: Supervisor;
  ledger?: LedgerComponent;
  webui?: ServiceComponent;
  workers?: WorkersComponent;
  private readonly instances: Record<Scaled, Instance[]> = { rng: [], hasher: [] };
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
      await this.workers?.group?.setTargets({ [kind]: urls });
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
    await this.scaleService('rng', opts.scale.rng);
    await this.scaleService('hasher', opts.scale.hasher);
    this.webui = webuiComponent({ kind: 'webui', name: 'webui', replica: 'webui', port: config.up.webuiPort }, this.ctx, this);
    await this.supervisor.add('webui', this.webui);
    const urls = (kind: Scaled) => this.instances[kind].map((c) => c.url);
    const workerConfig: Config = { ...config, worker: { ...config.worker, rngUrls: urls('rng'), hasherUrls: urls('hasher') } };
    const replica = opts.scale.worker === 1 ? config.server.hostname : 'workers';
    this.workers = workersComponent({ kind: 'workers', name: 'workers', replica, count: opts.scale.worker }, { ...this.ctx, config: workerConfig });
    await this.supervisor.add('workers', this.workers);
    this.rotation.rng.start();
    this.rotation.hasher.start();
  }

  async stop(deadlineMs: number): Promise<void> {
    this.rotation.rng.stop();
    this.rotation.hasher.stop();
    await this.supervisor.stop(deadlineMs);
  }

  ports(kind: Scaled): number[] {
    return this.instances[kind].map((c) => c.port);
  }

  current(): { scale: LabScale; settings: LabSettings; faults: LabFaults } {
    const scale = { worker: this.workers?.group?.size ?? this.opts.scale.worker, rng: this.instances.rng.length, hasher: this.instances.hasher.length };
    return { scale, settings: { ...this.settings }, faults: { rng: { ...this.faults.rng }, hasher: { ...this.faults.hasher } } };
  }

  /** A lab change: settings first (new instances start with them), then faults, then the scale. */
  async apply(change: LabChange): Promise<void> {
    const { worker, rng, hasher, faults, ...settings } = change;
    Object.assign(this.settings, settings);
    for (const c of this.instances.rng) c.service?.tune(this.rngTuning());
    for (const c of this.instances.hasher) c.service?.tune(this.hasherTuning());
    this.workers?.group?.tune({ delayMs: this.settings.workerDelayMs });
    for (const kind of ['rng', 'hasher'] as const) {
      if (!faults?.[kind]) continue;
      Object.assign(this.faults[kind], faults[kind]);
      for (const [i, c] of this.instances[kind].entries()) this.injectFaults(kind, c, i);
      await this.rotation[kind].probe();
    }
    if (rng !== undefined) await this.scaleService('rng', rng);
    if (hasher !== undefined) await this.scaleService('hasher', hasher);
    if (worker !== undefined) await this.workers?.group?.resize(worker);
  }

  /** Latency and errors hit every instance of a service; `unready` only the first, so the rotation can route around it. */
  private injectFaults(kind: Scaled, c: Instance, index: number): void {
    if (c.service) c.service.faults.settings = { ...this.faults[kind], unready: index === 0 && this.faults[kind].unready };
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
      const c: Instance = kind === 'rng' ? rngComponent(spec, ctx) : hasherComponent(spec, ctx);
      await this.supervisor.add(kind, c);
      c.service!.tune(kind === 'rng' ? this.rngTuning() : this.hasherTuning());
      list.push(c);
      this.injectFaults(kind, c, list.length - 1);
      await this.rotation[kind].add(c);
    }
    while (list.length > count) {
      const c = list.pop()!;
      await this.rotation[kind].remove(c);
      await this.supervisor.remove(c.name, 2000);
    }
  }
}
