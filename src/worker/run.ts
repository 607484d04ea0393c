// A worker as its own process: the loop, the Redis ledger, and (with METRICS_PORT) an admin listener for
// /healthz (heartbeat of the loop), /readyz (rng, hasher and Redis reached) and /metrics.
import type { Config } from '../config.js';
import type { Ledger } from '../ledger/ledger.js';
import { createHttpService, type HttpService } from '../platform/http-service.js';
import type { Logger } from '../platform/logger.js';
import { createRegistry } from '../platform/metrics.js';
import { workerMetrics } from './metrics.js';
import { Worker } from './worker.js';

export interface WorkerProcess {
  workers: Worker[];
  admin?: HttpService;
  stop(): Promise<void>;
}

/** Starts `count` workers sharing one metrics registry (and one admin listener when METRICS_PORT is set). */
export async function startWorkers(opts: {
  config: Config;
  ledger: Ledger;
  names: string[];
  logger: (name: string) => Logger;
  adminLogger: Logger;
  adminPort?: number;
}): Promise<WorkerProcess> {
  const { config, ledger } = opts;
  const registry = createRegistry('worker', opts.names.length === 1 ? config.hostname : 'all');
  const metrics = workerMetrics(registry);
  const workers = opts.names.map((name) => new Worker({ name, config, ledger, metrics, logger: opts.logger(name) }));
  let admin: HttpService | undefined;
  if (opts.adminPort) {
    admin = await createHttpService(
      {
        service: 'worker',
        replica: opts.names.length === 1 ? config.hostname : 'workers',
        config,
        logger: opts.adminLogger,
        registry,
        live: () => workers.map((w) => w.liveness()).find((r) => r !== null) ?? null,
        ready: () => workers.map((w) => w.readiness()).find((r) => r !== null) ?? null,
      },
      () => undefined,
    );
    await admin.listen(opts.adminPort, config.host);
  }
  for (const w of workers) w.start();
  return {
    workers,
    admin,
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await admin?.close(0, 500);
    },
  };
}
