// `dockercoins up` (= `npm start`): the whole system in one process, each service on its own port, talking
// real HTTP over loopback; an embedded in-memory ledger unless a Redis URL is given.
import { integer, loadConfig, type Config, type Env } from './config.js';
import type { Ledger } from './ledger/ledger.js';
import { MemoryLedger } from './ledger/memory.js';
import { RedisLedger } from './ledger/redis.js';
import { createHasher } from './hasher/app.js';
import { replicaNames as names, serviceLogger, setPrefixWidth, type Logger } from './platform/logger.js';
import type { HttpService } from './platform/http-service.js';
import { exitOnSignals } from './platform/shutdown.js';
import { createRng } from './rng/app.js';
import { createWebui } from './webui/app.js';
import { UsageError } from './usage.js';
import { startWorkers } from './worker/run.js';

export interface UpOptions {
  scale: { worker: number; rng: number; hasher: number };
  turbo: boolean;
  redis?: string;
}


export function parseUpArgs(argv: string[]): UpOptions {
  const opts: UpOptions = { scale: { worker: 1, rng: 1, hasher: 1 }, turbo: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--turbo') opts.turbo = true;
    else if (flag === '--redis') opts.redis = value();
    else if (flag === '--scale') {
      const m = /^(worker|rng|hasher)=(\d{1,4})$/.exec(value());
      if (!m) throw new UsageError(`--scale expects worker=N, rng=N or hasher=N`);
      const n = Number(m[2]);
      if (m[1] !== 'worker' && n < 1) throw new UsageError(`--scale ${m[1]} needs at least 1 instance`);
      opts.scale[m[1] as keyof UpOptions['scale']] = n;
    } else throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
  }
  return opts;
}

export async function up(opts: UpOptions, env: Env = process.env): Promise<void> {
  const turbo = opts.turbo ? { RNG_DELAY_MS: '0', HASHER_DELAY_MS: '0', WORKER_DELAY_MS: '0', RNG_CONCURRENCY: '0' } : {};
  const base = loadConfig({ ...env, ...turbo, ...(opts.redis ? { REDIS_URL: opts.redis } : {}) });
  const ports = {
    webui: integer(env, 'WEBUI_PORT', 8000, 0, 65_535),
    rng: integer(env, 'RNG_PORT', 8001, 0, 65_535),
    hasher: integer(env, 'HASHER_PORT', 8002, 0, 65_535),
  };
  const useRedis = Boolean(opts.redis || env.REDIS_URL?.trim());
  const config: Config = { ...base, drainMs: env.DRAIN_MS ? base.drainMs : 0 };
  const all = [...names('rng', opts.scale.rng), ...names('hasher', opts.scale.hasher), ...names('worker', opts.scale.worker), 'webui', 'ledger', 'dockercoins'];
  setPrefixWidth(Math.max(...all.map((n) => n.length)));
  const log = (service: string): Logger => serviceLogger(config, service);
  const main = log('dockercoins');
  const startedAt = Date.now();

  const ledger: Ledger = useRedis ? RedisLedger.fromConfig(config, log('ledger')) : new MemoryLedger();
  const services: HttpService[] = [];
  const listen = async (svc: HttpService, port: number) => {
    services.push(svc);
    return svc.listen(port, config.host);
  };
  const local = config.host === '::' || config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = (port: number) => `http://${local.includes(':') ? `[${local}]` : local}:${port}`;

  const rngPorts: number[] = [];
  for (const [i, name] of names('rng', opts.scale.rng).entries()) {
    rngPorts.push(await listen(await createRng({ config, logger: log(name), replica: name }), i === 0 ? ports.rng : 0));
  }
  const hasherPorts: number[] = [];
  for (const [i, name] of names('hasher', opts.scale.hasher).entries()) {
    hasherPorts.push(await listen(await createHasher({ config, logger: log(name), replica: name }), i === 0 ? ports.hasher : 0));
  }
  const webuiPort = await listen(await createWebui({ config, logger: log('webui'), replica: 'webui', ledger }), ports.webui);

  const workerConfig: Config = { ...config, rngUrls: rngPorts.map(url), hasherUrls: hasherPorts.map(url) };
  const workers = await startWorkers({
    config: workerConfig,
    ledger,
    names: names('worker', opts.scale.worker),
    logger: log,
    adminLogger: log('worker'),
    adminPort: config.metricsPort || undefined,
  });

  const mode = opts.turbo ? 'turbo (no delays, rng unlimited)' : `delays ${config.workerDelayMs}/${config.rngDelayMs}/${config.hasherDelayMs} ms, rng concurrency ${config.rngConcurrency || 'unlimited'}`;
  main.info(
    `DockerCoins is up — dashboard ${url(webuiPort)}/ · rng ${rngPorts.join(',')} · hasher ${hasherPorts.join(',')} · ` +
      `${opts.scale.worker} worker(s) · ledger ${ledger.where} · ${mode}`,
  );

  exitOnSignals(main, 950, async () => {
    const t0 = Date.now();
    await workers.stop();
    await Promise.all(services.map((s) => s.close(0, 300)));
    const totals = await Promise.race([ledger.totals(), new Promise<null>((r) => setTimeout(() => r(null), 300))]).catch(() => null);
    const run = workers.workers.reduce((n, w) => n + w.flushed, 0);
    const lost = workers.workers.reduce((n, w) => n + w.unflushed, 0);
    const secs = (Date.now() - startedAt) / 1000;
    main.info(
      `stopped in ${Date.now() - t0} ms — ledger: ${totals ? `${totals.hashes} hashes, ${totals.coins} coins` : 'unreachable'}; ` +
        `this run: ${run} hashes in ${secs.toFixed(1)} s (${(run / secs).toFixed(2)} hashes/s average)` +
        (lost > 0 ? `; ${lost} units could not be flushed (ledger unreachable)` : ''),
    );
    await ledger.close();
  });
}
