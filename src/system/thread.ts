// The entry of a worker thread started by ThreadComponent: builds the component its spec describes (an rng or hasher
// instance, or a group of work loops whose ledger is the parent's), starts it, says on which port, and answers the
// parent's calls until told to stop.
import { parentPort, workerData } from 'node:worker_threads';
import type { FlushBatch, Ledger } from '../ledger/ledger.js';
import { Deadline } from '../platform/deadline.js';
import { flushLogs, serviceLogger, setPrefixWidth } from '../platform/logger.js';
import { Rpc } from '../platform/rpc.js';
import type { WorkerStats } from '../telemetry.js';
import { type Context, hasherComponent, rngComponent, workersComponent } from './components.js';
import type { ThreadData } from './thread-component.js';

const { spec, config, prefixWidth } = workerData as ThreadData;
setPrefixWidth(prefixWidth);
const rpc = new Rpc(parentPort!);

const notHere = async (): Promise<never> => {
  throw new Error('not available to a worker thread');
};
/** The parent's ledger, by calls: what work loops use of it. */
const ledger: Ledger = {
  kind: 'memory',
  where: 'the parent thread',
  accounts: {
    addHashes: (batch: FlushBatch) => rpc.call('ledger.addHashes', batch),
    addCoin: (hex: string, bytes: Buffer) => rpc.call<boolean>('ledger.addCoin', hex, bytes),
    totals: notHere,
    recentCoins: notHere,
  },
  board: { publish: (stats: WorkerStats, ttlMs: number) => rpc.call('ledger.publish', stats, ttlMs), read: notHere },
  ping: async () => undefined,
  close: async () => undefined,
};

const ctx: Context = { config, ledger, log: (name) => serviceLogger(config.log, name) };

if (spec.kind === 'workers') {
  const c = workersComponent(spec, ctx);
  rpc.serve({
    resize: (count: number) => c.resize(count),
    setTargets: (t: { rng?: string[]; hasher?: string[] }) => c.setTargets(t),
    tune: (next: { delayMs: number }) => c.tune(next),
    totals: () => c.totals(),
    // For the one admin listener in the parent (METRICS_PORT under --turbo): this thread's loops.
    metrics: () => c.group?.registry.getMetricsAsJSON() ?? [],
    health: () => ({ live: c.group?.liveness() ?? null, ready: c.group?.readiness() ?? null }),
    stop: async (at: number) => {
      await c.stop(new Deadline(at));
      flushLogs();
      return c.totals();
    },
  });
  await c.start();
  await rpc.call('started', 0);
} else if (spec.kind === 'rng' || spec.kind === 'hasher') {
  const c = spec.kind === 'rng' ? rngComponent(spec, ctx) : hasherComponent(spec, ctx);
  rpc.serve({
    tune: (next: Record<string, number>) => c.tune(next),
    setFaults: (f: Parameters<typeof c.setFaults>[0]) => c.setFaults(f),
    stop: async (at: number) => {
      await c.stop(new Deadline(at));
      flushLogs();
      return null;
    },
  });
  await c.start();
  await rpc.call('started', c.port);
} else {
  throw new Error(`${spec.kind} does not run in a worker thread`);
}
