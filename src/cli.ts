#!/usr/bin/env node
// dockercoins up [options] | rng | hasher | worker | webui — see `dockercoins --help`.
// Each command imports only what it runs: an rng process never loads Redis, undici or the dashboard.
import { ConfigError, loadConfig, type Config } from './config.js';
import type { Ledger } from './ledger/ledger.js';
import type { HttpService } from './platform/http-service.js';
import { replicaNames, serviceLogger, type Logger } from './platform/logger.js';
import { exitOnSignals } from './platform/shutdown.js';
import { VERSION } from './platform/version.js';
import { UsageError } from './usage.js';

const USAGE = `DockerCoins ${VERSION}

usage: dockercoins up [--scale worker=N] [--scale rng=N] [--scale hasher=N] [--turbo] [--redis URL]
       dockercoins rng | hasher | worker | webui      (one service, configured by the environment)

up: the whole system in one process: webui on WEBUI_PORT (8000), rng on RNG_PORT (8001), hasher on HASHER_PORT (8002),
    workers, and an in-memory ledger unless --redis or REDIS_URL is given. --turbo sets every delay to 0.
See README.md for every environment variable.`;

async function serve(kind: 'rng' | 'hasher' | 'webui' | 'worker', config: Config, logger: Logger): Promise<void> {
  const redis = async (): Promise<Ledger> => {
    const { RedisLedger } = await import('./ledger/redis.js');
    return RedisLedger.fromConfig(config, logger);
  };
  const innerDeadline = Math.max(500, config.shutdownTimeoutMs - config.drainMs - 500);

  if (kind === 'worker') {
    const { startWorkers } = await import('./worker/run.js');
    const ledger = await redis();
    // WORKER_CONCURRENCY loops in this process (default 1, as the original): `worker.1`, `worker.2`, …
    const names = replicaNames('worker', config.workerConcurrency);
    const loggerFor = (name: string) => (name === 'worker' ? logger : serviceLogger(config, name));
    const run = await startWorkers({ config, ledger, names, logger: loggerFor, adminLogger: logger, adminPort: config.metricsPort || undefined });
    logger.info(`worker started: rng ${config.rngUrls.join(',')} · hasher ${config.hasherUrls.join(',')} · ledger ${ledger.where}` + (config.metricsPort ? ` · admin on port ${config.metricsPort}` : ''));
    exitOnSignals(logger, config.shutdownTimeoutMs, async () => {
      await run.stop();
      await ledger.close();
      const sum = (f: (w: (typeof run.workers)[number]) => number) => run.workers.reduce((n, w) => n + f(w), 0);
      const unflushed = sum((w) => w.unflushed);
      logger.info(`stopped: ${sum((w) => w.units)} units done, ${sum((w) => w.flushed)} flushed` + (unflushed ? `, ${unflushed} NOT flushed (ledger unreachable)` : ''));
    });
    return;
  }

  const ledger = kind === 'webui' ? await redis() : undefined;
  const replica = config.hostname;
  let service: HttpService;
  if (kind === 'rng') service = await (await import('./rng/app.js')).createRng({ config, logger, replica });
  else if (kind === 'hasher') service = await (await import('./hasher/app.js')).createHasher({ config, logger, replica });
  else service = await (await import('./webui/app.js')).createWebui({ config, logger, replica, ledger: ledger! });
  await service.listen(config.port, config.host);
  exitOnSignals(logger, config.shutdownTimeoutMs, async () => {
    await service.close(config.drainMs, innerDeadline);
    await ledger?.close();
  });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') return void console.log(VERSION);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return void console.log(USAGE);
  try {
    if (command === 'up') {
      const { parseUpArgs, up } = await import('./up.js');
      return await up(parseUpArgs(rest));
    }
    if (command === 'rng' || command === 'hasher' || command === 'webui' || command === 'worker') {
      if (rest.length > 0) throw new UsageError(`${command} takes no options; configure it with environment variables`);
      const config = loadConfig();
      const logger = serviceLogger(config, command);
      return await serve(command, config, logger);
    }
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`dockercoins: bad configuration: ${err.message}`);
      process.exit(2);
    }
    if (err instanceof UsageError) {
      console.error(`dockercoins: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    console.error(`dockercoins: cannot start: ${e.code === 'EADDRINUSE' ? `port already in use (${e.message})` : e.message}`);
    process.exit(1);
  }
}

await main(process.argv.slice(2));
