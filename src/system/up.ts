// `dockercoins up` (= `npm start`): the whole system in one process, each service on its own port, talking real
// HTTP over loopback; an embedded in-memory ledger unless a Redis URL is given. One supervisor runs it all.
import { type Config, VARIABLES } from '../config.js';
import { serviceLogger, setPrefixWidth } from '../platform/logger.js';
import { exitOnSignals } from '../platform/shutdown.js';
import { LAB_LIMITS } from '../telemetry.js';
import { UsageError } from '../usage.js';
import { AllInOne } from './all-in-one.js';

/** The contract: on SIGINT/SIGTERM everything stops within 1 s, counts flushed — the deadline every component
 *  is given (what one has not finished by then is cut, and the summary says what was not flushed). */
const STOP_WITHIN_MS = 1000;

export interface UpOptions {
  scale: { worker: number; rng: number; hasher: number };
  turbo: boolean;
  redis?: string;
}

export function parseUpArgs(argv: string[]): UpOptions {
  const opts: UpOptions = { scale: { worker: 1, rng: 1, hasher: 1 }, turbo: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--turbo') opts.turbo = true;
    else if (flag === '--redis') opts.redis = VARIABLES.REDIS_URL.parse(value().trim(), '--redis');
    else if (flag === '--scale') {
      const m = /^(worker|rng|hasher)=(\d{1,4})$/.exec(value());
      if (!m) throw new UsageError('--scale expects worker=N, rng=N or hasher=N');
      const service = m[1] as keyof UpOptions['scale'];
      const n = Number(m[2]);
      const { min, max } = LAB_LIMITS[service];
      if (n < min || n > max) throw new UsageError(`--scale ${service}=${n}: expected ${min} to ${max} (the lab's limits)`);
      opts.scale[service] = n;
    } else throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
  }
  return opts;
}

const TURBO_WALLET_MAX = 10_000;

/** The settings `up` runs with: --turbo zeroes every delay, lifts rng's limit, turns the access log off unless
 *  ACCESS_LOG says otherwise and bounds the wallet unless WALLET_MAX does; no drain unless DRAIN_MS is set. */
export function upConfig(config: Config, opts: UpOptions): Config {
  const c: Config = { ...config, server: { ...config.server, drainMs: config.given.has('DRAIN_MS') ? config.server.drainMs : 0 } };
  if (opts.redis) c.ledger = { ...c.ledger, url: opts.redis };
  if (!opts.turbo) return c;
  const server = { ...c.server, accessLog: c.given.has('ACCESS_LOG') ? c.server.accessLog : false };
  // ~1 hash in 16 is a coin: at 15,000 hashes/s an unbounded wallet would grow by ~2 GB a day.
  const ledger = { ...c.ledger, walletMax: c.given.has('WALLET_MAX') ? c.ledger.walletMax : TURBO_WALLET_MAX };
  return { ...c, server, ledger, rng: { ...c.rng, delayMs: 0, concurrency: 0 }, hasher: { ...c.hasher, delayMs: 0 }, worker: { ...c.worker, delayMs: 0 } };
}

export async function up(opts: UpOptions, baseConfig: Config): Promise<void> {
  const config = upConfig(baseConfig, opts);
  // Every name fits: dockercoins, worker.200, hasher.20.
  setPrefixWidth('dockercoins'.length);
  const log = (name: string) => serviceLogger(config.log, name);
  const main = log('dockercoins');
  const startedAt = Date.now();
  const system = new AllInOne(config, { scale: opts.scale, useRedis: Boolean(opts.redis) || config.given.has('REDIS_URL'), threads: opts.turbo, log });
  await system.start();

  const { rng, hasher, worker } = config;
  const mode = opts.turbo
    ? 'turbo (no delays, rng unlimited)'
    : `delays ${worker.delayMs}/${rng.delayMs}/${hasher.delayMs} ms, rng concurrency ${rng.concurrency || 'unlimited'}`;
  main.info(
    `DockerCoins is up — dashboard ${system.webui!.url}/ · rng ${system.ports('rng').join(',')} · hasher ${system.ports('hasher').join(',')} · ` +
      `${opts.scale.worker} worker(s) · ledger ${system.ledger!.ledger.where} · ${mode} · lab on (dockercoins scale, or the dashboard)`,
  );

  exitOnSignals(main, STOP_WITHIN_MS, async (deadline) => {
    const t0 = Date.now();
    await system.stop(deadline);
    const totals = system.ledger!.finalTotals;
    const run = (await system.workers?.totals()) ?? { units: 0, flushed: 0, unflushed: 0 };
    const secs = (Date.now() - startedAt) / 1000;
    main.info(
      `stopped in ${Date.now() - t0} ms — ledger: ${totals ? `${totals.hashes} hashes, ${totals.coins} coins` : 'unreachable'}; ` +
        `this run: ${run.flushed} hashes in ${secs.toFixed(1)} s (${(run.flushed / secs).toFixed(2)} hashes/s average), ${run.units} units done` +
        (run.unflushed > 0 ? `; ${run.unflushed} units could not be flushed (ledger unreachable)` : ''),
    );
  });
}
