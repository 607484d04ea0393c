// One service alone (`dockercoins rng | hasher | worker | webui`, the containers): its component, and the ledger
// for worker and webui, run by the supervisor; SIGTERM drains and stops them in order.
import type { Config } from '../config.js';
import { Supervisor } from '../platform/lifecycle.js';
import { serviceLogger } from '../platform/logger.js';
import { exitOnSignals } from '../platform/shutdown.js';
import { startTracing } from '../platform/tracing.js';
import { LedgerComponent, openLedger, serviceComponent, TracingComponent, workersComponent } from './components.js';

export async function serve(kind: 'rng' | 'hasher' | 'webui' | 'worker', config: Config): Promise<void> {
  const logger = serviceLogger(config.log, kind);
  const log = (name: string) => (name === kind ? logger : serviceLogger(config.log, name));
  const supervisor = new Supervisor(logger);
  const replica = config.server.hostname;
  const kit = await startTracing(config.tracing, kind, replica, config.server.version);
  if (kit) await supervisor.add('tracing', new TracingComponent(kit, logger));

  if (kind === 'rng' || kind === 'hasher') {
    await supervisor.add(kind, serviceComponent({ kind, name: kind, replica, port: config.server.port }, { config, log, kit }));
    exitOnSignals(logger, config.server.shutdownTimeoutMs, (deadline) => supervisor.stop(deadline), config.server.sigtermMode);
    return;
  }

  const ledger = new LedgerComponent(await openLedger(config, true, logger, kit?.tracer));
  await supervisor.add('ledger', ledger);
  const ctx = { config, log, ledger: ledger.ledger, kit };
  if (kind === 'webui') {
    await supervisor.add(kind, serviceComponent({ kind, name: kind, replica, port: config.server.port }, ctx));
    exitOnSignals(logger, config.server.shutdownTimeoutMs, (deadline) => supervisor.stop(deadline), config.server.sigtermMode);
    return;
  }

  const workers = workersComponent({ kind: 'workers', name: 'workers', replica, count: config.worker.loops }, ctx);
  await supervisor.add('workers', workers);
  const { rngUrls, hasherUrls, metricsPort } = config.worker;
  logger.info(
    `worker started: rng ${rngUrls.join(',')} · hasher ${hasherUrls.join(',')} · ledger ${ledger.ledger.where}` +
      (metricsPort ? ` · admin on port ${metricsPort}` : ''),
  );
  exitOnSignals(
    logger,
    config.server.shutdownTimeoutMs,
    async (deadline) => {
      await supervisor.stop(deadline);
      const t = workers.group?.totals() ?? { units: 0, flushed: 0, unflushed: 0 };
      logger.info(`stopped: ${t.units} units done, ${t.flushed} flushed${t.unflushed ? `, ${t.unflushed} NOT flushed (ledger unreachable)` : ''}`);
    },
    config.server.sigtermMode,
  );
}
