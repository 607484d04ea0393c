// A process for the shutdown test: a supervisor with a real HTTP service (its client holds a request open), a
// component whose stop never resolves, and a ledger-like one; SIGTERM stops them with SHUTDOWN_TIMEOUT_MS.
import { loadConfig } from '../../src/config.js';
import { createHttpService } from '../../src/platform/http-service.js';
import { type Component, Supervisor } from '../../src/platform/lifecycle.js';
import { serviceLogger } from '../../src/platform/logger.js';
import { exitOnSignals } from '../../src/platform/shutdown.js';

const config = loadConfig();
const logger = serviceLogger(config.log, 'fixture');
const supervisor = new Supervisor(logger);
const hang = process.argv.includes('--hang');

const service = await createHttpService({ service: 'fixture', replica: 'fixture', server: config.server, logger }, async (app) => {
  // Answers after a minute: a request in flight that only the deadline ends.
  app.get('/slow', async () => new Promise((r) => setTimeout(() => r('late'), 60_000)));
});
const record = (name: string, stop: () => Promise<void>): Component => ({
  name,
  start: async () => undefined,
  async stop() {
    logger.info(`stopping ${name}`);
    await stop();
    logger.info(`stopped ${name}`);
  },
});
await supervisor.add(
  'ledger',
  record('ledger', async () => undefined),
);
await supervisor.add('webui', { name: 'webui', start: async () => void (await service.listen(0, '127.0.0.1')), stop: (d) => service.close(0, d) });
await supervisor.add(
  'workers',
  record('workers', () => (hang ? new Promise(() => undefined) : Promise.resolve())),
);
exitOnSignals(logger, config.server.shutdownTimeoutMs, (deadline) => supervisor.stop(deadline));
logger.info(`ready on port ${(service.app.server.address() as { port: number }).port}`);
