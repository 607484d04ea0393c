// A component placed in a Node worker thread (imported as Thread: neither the worker service nor a mining loop): the
// same ComponentSpec, started there by thread.ts and driven by calls across the thread's port, so that rng, hasher
// and the mining loops use every core. A worker group there keeps its ledger here: its flushes, coins and stats come
// back as calls to this thread's ledger.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config, FaultSettings } from '../config.js';
import type { FlushBatch, Ledger } from '../ledger/ledger.js';
import type { Deadline } from '../platform/deadline.js';
import { Rpc } from '../platform/rpc.js';
import type { WorkerStats } from '../telemetry.js';
import { type ComponentSpec, type GroupTotals, type InstanceHandle, loopbackFor, type WorkersHandle } from './components.js';

/** What thread.ts receives. */
export interface ThreadData {
  spec: ComponentSpec;
  config: Config;
  prefixWidth: number;
}

/** dist/thread.js next to the bundle's entry; src/system/thread.ts when running from the sources. */
function entry(): URL {
  const candidates = ['../thread.js', './thread.js', './thread.ts'].map((p) => new URL(p, import.meta.url));
  return candidates.find((u) => existsSync(fileURLToPath(u))) ?? candidates[0]!;
}

export class ThreadComponent implements InstanceHandle, WorkersHandle {
  port = 0;
  private thread?: Thread;
  private rpc?: Rpc;
  private count: number;
  private final?: GroupTotals;

  constructor(
    readonly name: string,
    private readonly data: ThreadData,
    private readonly ledger?: Ledger,
  ) {
    this.count = data.spec.kind === 'workers' ? data.spec.count : 0;
  }

  get url(): string {
    const host = loopbackFor(this.data.config.server.host);
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  get size(): number {
    return this.count;
  }

  async start(): Promise<void> {
    const thread = new Thread(entry(), { workerData: this.data, name: this.name });
    const rpc = new Rpc(thread);
    this.thread = thread;
    this.rpc = rpc;
    const { ledger } = this;
    if (ledger) {
      rpc.serve({
        'ledger.addHashes': (batch: FlushBatch) => ledger.accounts.addHashes(batch),
        'ledger.addCoin': (hex: string, bytes: Uint8Array) => ledger.accounts.addCoin(hex, Buffer.from(bytes)),
        'ledger.publish': (stats: WorkerStats, ttlMs: number) => ledger.board.publish(stats, ttlMs),
      });
    }
    const started = new Promise<number>((resolve, reject) => {
      rpc.serve({ started: (port: number) => resolve(port) });
      thread.once('error', reject);
      thread.once('exit', (code) => reject(new Error(`${this.name}: its thread exited (${code}) before it started`)));
    });
    this.port = await started;
    thread.on('exit', () => rpc.fail(`${this.name}: its thread has exited`));
  }

  /** Asks the thread to stop its component (workers flush) by the same deadline (threads share the clock) and
   *  end; a thread still running at the deadline is terminated. */
  async stop(deadline: Deadline): Promise<void> {
    const { thread, rpc } = this;
    if (!thread || !rpc) return;
    this.rpc = undefined;
    const stopped = rpc.callWithin<GroupTotals | null>(Math.max(1, deadline.remaining()), 'stop', deadline.at).then((totals) => {
      if (totals) this.final = totals;
    });
    await deadline.within(stopped.catch(() => undefined));
    await deadline.within(thread.terminate());
  }

  async tune(next: Record<string, number>): Promise<void> {
    await this.rpc?.call('tune', next);
  }

  async setFaults(faults: FaultSettings): Promise<void> {
    await this.rpc?.call('setFaults', faults);
  }

  async resize(count: number): Promise<void> {
    this.count = count;
    await this.rpc?.call('resize', count);
  }

  async setTargets(targets: { rng?: string[]; hasher?: string[] }): Promise<void> {
    await this.rpc?.call('setTargets', targets);
  }

  /** This thread's loops' metrics, as prom-client's JSON (for an AggregatorRegistry in this thread). */
  async metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return (await this.rpc?.call<MetricObjectWithValues<MetricValue<string>>[]>('metrics')) ?? [];
  }

  /** Its loops' liveness and readiness (null = fine). */
  async health(): Promise<{ live: string | null; ready: string | null }> {
    if (!this.rpc) return { live: 'stopped', ready: 'stopped' };
    return this.rpc.call('health');
  }

  /** After stop: the thread's final figures (zero when it was cut before it answered). */
  async totals(): Promise<GroupTotals> {
    if (this.final) return this.final;
    return (await this.rpc?.call<GroupTotals>('totals')) ?? { units: 0, flushed: 0, unflushed: 0 };
  }
}
