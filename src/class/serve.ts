// `dockercoins class [--port 8080] [--class ID]`: the instructor's page on every interface, polling the engine and
// each tenant's dashboard. Built on the services' HTTP base (health, metrics, access log); SIGTERM stops it.
import { type Config, loadConfig } from '../config.js';
import { connectEngine, DEFAULT_DOCKER_HOST, pingEngine } from '../engine/docker.js';
import { createHttpService, type HttpService } from '../platform/http-service.js';
import { serviceLogger } from '../platform/logger.js';
import { exitOnSignals } from '../platform/shutdown.js';
import { integerOption, parseOptions } from '../tenants/cli.js';
import { checkClassId, DEFAULT_CLASS } from '../tenants/names.js';
import { UsageError } from '../usage.js';
import { classRoutes } from './app.js';
import { ClassMonitor } from './monitor.js';

type Env = Record<string, string | undefined>;

/** Where this process reaches ports the engine publishes: loopback for a local socket, the engine's host otherwise. */
export function probeHostFor(dockerHost: string): string {
  const url = new URL(dockerHost);
  return url.protocol === 'unix:' ? '127.0.0.1' : url.hostname;
}

export async function startClassPage(
  config: Config,
  o: { classId: string; port: number; host: string; dockerHost: string; intervalMs?: number; stuckMs?: number },
): Promise<{ service: HttpService; monitor: ClassMonitor; port: number }> {
  const engine = connectEngine(o.dockerHost);
  await pingEngine(engine, o.dockerHost);
  const monitor = new ClassMonitor({ engine, classId: o.classId, probeHost: probeHostFor(o.dockerHost), intervalMs: o.intervalMs, stuckMs: o.stuckMs });
  const logger = serviceLogger(config.log, 'class');
  const service = await createHttpService({ service: 'class', replica: config.server.hostname, server: config.server, logger }, async (app) =>
    app.register(classRoutes, { monitor, classId: o.classId }),
  );
  monitor.start();
  const port = await service.listen(o.port, o.host);
  logger.info(`class ${o.classId}: http://localhost:${port}/ (every tenant of the engine at ${o.dockerHost})`);
  return { service, monitor, port };
}

export async function classCommand(args: string[], env: Env): Promise<void> {
  const { options, positional } = parseOptions(args, ['port', 'class', 'host'], []);
  if (positional.length > 0) throw new UsageError(`class takes no arguments: dockercoins class [--port 8080] [--class ID] [--host ::]`);
  const config = loadConfig(env);
  const started = await startClassPage(config, {
    classId: checkClassId(options.get('class') ?? DEFAULT_CLASS),
    port: integerOption(options.get('port'), '--port', 0, 65_535, 8080),
    host: options.get('host') ?? '::',
    dockerHost: env.DOCKER_HOST || DEFAULT_DOCKER_HOST,
  });
  // Printed for scripts and tests that asked for --port 0.
  console.log(`class page on port ${started.port}`);
  exitOnSignals(
    serviceLogger(config.log, 'class'),
    config.server.shutdownTimeoutMs,
    (deadline) => started.service.close(0, deadline),
    config.server.sigtermMode,
  );
}
