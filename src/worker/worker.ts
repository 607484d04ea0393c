// The worker: loop forever — sleep, GET rng/<RNG_BYTES>, POST the bytes to hasher, keep the coins — and every
// FLUSH_INTERVAL_MS add the units done to the ledger. Units are never lost: a failed flush keeps them (and is
// retried idempotently), stop() abandons the in-flight unit and flushes once more.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import type { FlushBatch, Ledger } from '../ledger/ledger.js';
import type { Logger } from '../platform/logger.js';
import type { Cause, Phase, WorkerMetrics } from './metrics.js';
import { Upstream, UpstreamError } from './upstream.js';

const HEX64 = /^[0-9a-f]{64}$/;

export interface WorkerOptions {
  name: string;
  config: Config;
  ledger: Ledger;
  logger: Logger;
  metrics: WorkerMetrics;
}

/** Running totals of one worker, as published for the dashboard. */
export type WorkerSnapshot = {
  worker: string;
  name: string;
  at: number;
  startedAt: number;
  units: number;
  flushed: number;
  coins: number;
  phaseMs: Record<Phase, number>;
  rngTargets: number;
  hasherTargets: number;
  /** Per upstream replica (`rng rng-7f9c…`): calls answered, their total ms, the last queue depth it reported. */
  replicas: Record<string, ReplicaStats>;
  errors: Partial<Record<Cause, string>>;
};

export interface ReplicaStats {
  calls: number;
  ms: number;
  queue?: number;
  served?: { inc(): void };
}

export class Worker {
  readonly id: string;
  readonly startedAt = Date.now();
  private readonly rng: Upstream;
  private readonly hasher: Upstream;
  private readonly stop$ = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private flushTimer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private seq = 0;
  private pending = 0;
  private unsent: FlushBatch | null = null;
  private readonly unsavedCoins = new Map<string, Buffer>();
  private readonly phaseMs: Record<Phase, number> = { sleep: 0, rng: 0, hasher: 0, ledger: 0 };
  private readonly replicas: Record<string, ReplicaStats> = {};
  private readonly errors: Partial<Record<Cause, string>> = {};
  private readonly reached = new Set<Cause>();
  units = 0;
  flushed = 0;
  coins = 0;
  lastProgress = Date.now();

  private readonly m: ReturnType<typeof boundMetrics>;

  constructor(private readonly opts: WorkerOptions) {
    this.m = boundMetrics(opts.metrics, opts.name);
    opts.metrics.unflushed.set(opts.name, () => this.unflushed);
    this.id = `${opts.config.hostname}-${process.pid}-${opts.name}-${randomBytes(3).toString('hex')}`;
    this.rng = new Upstream('rng', opts.config.rngUrls, opts.config.httpTimeoutMs);
    this.hasher = new Upstream('hasher', opts.config.hasherUrls, opts.config.httpTimeoutMs);
  }

  get unflushed(): number {
    return this.pending + (this.unsent?.units ?? 0);
  }

  start(): void {
    this.loopDone = this.loop();
    this.flushTimer = setInterval(() => void this.flush(), this.opts.config.flushIntervalMs);
  }

  /** Abandons the unit in flight, flushes what is done, releases connections. */
  async stop(): Promise<void> {
    this.stop$.abort();
    clearInterval(this.flushTimer);
    await this.loopDone;
    await this.flush();
    await Promise.all([this.rng.close(), this.hasher.close()]);
  }

  /** null when the loop is making progress; the reason when it has stalled. */
  liveness(): string | null {
    const { httpTimeoutMs, retryMaxMs, workerDelayMs, redisTimeoutMs } = this.opts.config;
    const limit = 2 * httpTimeoutMs + retryMaxMs + workerDelayMs + redisTimeoutMs + 5000;
    const idle = Date.now() - this.lastProgress;
    return idle > limit ? `work loop stalled for ${Math.round(idle / 1000)} s` : null;
  }

  /** null when rng, hasher and the ledger were all reached on their last try. */
  readiness(): string | null {
    const failing = Object.entries(this.errors).map(([cause, msg]) => `${cause}: ${msg}`);
    if (failing.length > 0) return failing.join('; ');
    const unknown = (['rng', 'hasher', 'ledger'] as const).filter((c) => !this.reached.has(c));
    return unknown.length > 0 ? `not reached yet: ${unknown.join(', ')}` : null;
  }

  snapshot(): WorkerSnapshot {
    return {
      worker: this.id,
      // Loops under `up` are worker.1…N; a lone worker process is told apart by its host (container) and pid.
      name: this.opts.name === 'worker' ? `worker ${this.opts.config.hostname}/${process.pid}` : this.opts.name,
      at: Date.now(),
      startedAt: this.startedAt,
      units: this.units,
      flushed: this.flushed,
      coins: this.coins,
      phaseMs: { ...this.phaseMs },
      rngTargets: this.rng.knownTargets,
      hasherTargets: this.hasher.knownTargets,
      replicas: Object.fromEntries(Object.entries(this.replicas).map(([k, { calls, ms, queue }]) => [k, { calls, ms, queue }])),
      errors: { ...this.errors },
    };
  }

  private async loop(): Promise<void> {
    const { workerDelayMs, rngBytes, retryMaxMs } = this.opts.config;
    const signal = this.stop$.signal;
    let failures = 0;
    while (!signal.aborted) {
      let cause: Cause = 'rng';
      try {
        if (workerDelayMs > 0) await this.timed('sleep', () => sleep(workerDelayMs, undefined, { signal }));
        const random = await this.call('rng', () => this.rng.request('GET', `/${rngBytes}`, undefined, signal));
        if (random.body.length !== rngBytes) throw new UpstreamError('rng', 'answer', `rng answered ${random.body.length} bytes, asked ${rngBytes}`);
        cause = 'hasher';
        const hashed = await this.call('hasher', () => this.hasher.request('POST', '/', random.body, signal));
        const hex = hashed.body.toString('latin1');
        if (!HEX64.test(hex)) throw new UpstreamError('hasher', 'answer', `hasher answered something that is not a SHA-256 hex: ${JSON.stringify(hex.slice(0, 80))}`);
        this.units++;
        this.pending++;
        this.m.units.inc();
        if (hex.startsWith('0')) await this.keepCoin(hex, random.body);
        else this.opts.logger.debug('No coin found');
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        const wait = backoff(failures, retryMaxMs);
        const kind = err instanceof UpstreamError ? err.kind : 'other';
        this.errors[cause] = (err as Error).message;
        this.opts.metrics.errors.inc({ cause, kind });
        this.opts.metrics.retries.inc({ cause });
        this.opts.logger.warn(`${(err as Error).message} — retrying in ${(wait / 1000).toFixed(1)} s`);
        await sleep(wait, undefined, { signal }).catch(() => undefined);
      }
      this.progress();
    }
  }

  private async call(cause: Cause, fn: () => ReturnType<Upstream['request']>) {
    const t0 = performance.now();
    const answer = await this.timed(cause as Phase, fn);
    this.reached.add(cause);
    delete this.errors[cause];
    const stats = (this.replicas[`${cause} ${answer.servedBy}`] ??= { calls: 0, ms: 0 });
    stats.calls++;
    stats.ms += performance.now() - t0;
    if (answer.queueDepth !== undefined) stats.queue = answer.queueDepth;
    (stats.served ??= this.opts.metrics.served.bind({ upstream: cause, replica: answer.servedBy })).inc();
    return answer;
  }

  private async timed<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const ms = performance.now() - t0;
      this.phaseMs[phase] += ms;
      this.m.phase[phase].inc(ms / 1000);
      if (phase === 'rng' || phase === 'hasher') this.m.latency[phase].observe(ms / 1000);
      this.progress();
    }
  }

  private progress(): void {
    this.lastProgress = Date.now();
  }

  private async keepCoin(hex: string, bytes: Buffer): Promise<void> {
    this.coins++;
    this.m.coins.inc();
    this.opts.logger.info(`Coin found: ${hex.slice(0, 8)}...`);
    this.unsavedCoins.set(hex, bytes);
    await this.timed('ledger', () => this.saveCoins());
  }

  private async saveCoins(): Promise<void> {
    for (const [hex, bytes] of this.unsavedCoins) {
      try {
        const fresh = await this.opts.ledger.addCoin(hex, bytes);
        this.unsavedCoins.delete(hex);
        this.ledgerOk();
        if (!fresh) this.opts.logger.info('We already had that coin');
      } catch (err) {
        this.ledgerFailed(err as Error, `coin ${hex.slice(0, 8)} kept for the next try`);
        return;
      }
    }
  }

  /** Adds the units done since the last flush to the ledger. Never runs twice at once. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const { ledger, logger, metrics, name } = this.opts;
    logger.info(`${this.unflushed} units of work done, updating hash counter`);
    while (this.unsent || this.pending > 0) {
      if (!this.unsent) {
        this.unsent = { worker: this.id, seq: ++this.seq, units: this.pending };
        this.pending = 0;
      }
      try {
        await ledger.addHashes(this.unsent);
      } catch (err) {
        this.ledgerFailed(err as Error, `${this.unflushed} units kept for the next flush`);
        break;
      }
      this.flushed += this.unsent.units;
      metrics.flushed.inc({ worker: name }, this.unsent.units);
      this.unsent = null;
      this.ledgerOk();
    }
    metrics.heartbeat.set({ worker: name }, this.lastProgress / 1000);
    if (this.unsavedCoins.size > 0) await this.saveCoins();
    await ledger.publishStats(this.snapshot(), Math.max(5000, 3 * this.opts.config.flushIntervalMs)).catch(() => undefined);
  }

  private ledgerOk(): void {
    this.reached.add('ledger');
    delete this.errors.ledger;
  }

  private ledgerFailed(err: Error, what: string): void {
    const first = this.errors.ledger === undefined;
    this.errors.ledger = err.message;
    this.opts.metrics.errors.inc({ cause: 'ledger', kind: 'redis' });
    if (first) this.opts.logger.warn(`ledger unreachable (${err.message}); ${what}`);
  }
}

/** The labelled series one worker writes on its hot path, resolved once. */
function boundMetrics(m: WorkerMetrics, worker: string) {
  const phase = (p: Phase) => m.phase.bind({ worker, phase: p });
  return {
    units: m.units.bind({ worker }),
    coins: m.coins.bind({ worker }),
    phase: { sleep: phase('sleep'), rng: phase('rng'), hasher: phase('hasher'), ledger: phase('ledger') },
    latency: { rng: m.latency.bind({ upstream: 'rng' }), hasher: m.latency.bind({ upstream: 'hasher' }) },
  };
}

/** Capped exponential back-off with jitter: 200 ms, 400 ms, … up to RETRY_MAX_MS. */
export function backoff(failures: number, maxMs: number): number {
  const base = Math.min(maxMs, 200 * 2 ** Math.min(failures - 1, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
