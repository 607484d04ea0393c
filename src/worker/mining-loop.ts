// One mining loop — one of the loops the worker service runs (not a Node Worker thread): the work loop with its
// accounting (Tally) and its observer. Every FLUSH_INTERVAL_MS it adds its units to the ledger and posts its
// running totals to the stats board for the dashboard.
import { randomBytes } from 'node:crypto';
import type { WorkerSettings } from '../config.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../platform/logger.js';
import { rootSpan, type Tracer, withParent } from '../platform/tracing.js';
import type { Phase, WorkerStats } from '../telemetry.js';
import { workLoop } from './loop.js';
import type { LoopReading, WorkerMetrics } from './metrics.js';
import { LoopObserver } from './observer.js';
import { Tally } from './tally.js';
import type { Upstream } from './upstream.js';

export interface MiningLoopOptions {
  name: string;
  settings: WorkerSettings;
  ledger: Pick<Ledger, 'accounts' | 'board'>;
  rng: Upstream;
  hasher: Upstream;
  metrics: WorkerMetrics;
  logger: Logger;
  tracer?: Tracer;
}

export class MiningLoop implements LoopReading {
  readonly name: string;
  readonly id: string;
  readonly startedAt = Date.now();
  readonly observer: LoopObserver;
  readonly tally: Tally;
  private readonly finish = new AbortController();
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private flushTimer?: NodeJS.Timeout;
  private stopping?: Promise<void>;

  constructor(private readonly opts: MiningLoopOptions) {
    this.name = opts.name;
    this.id = `${opts.settings.hostname}-${process.pid}-${opts.name}-${randomBytes(3).toString('hex')}`;
    this.observer = new LoopObserver(opts.metrics);
    this.tally = new Tally(this.id, opts.ledger.accounts, this.observer, opts.logger);
  }

  get units(): number {
    return this.tally.units;
  }
  get flushed(): number {
    return this.tally.flushed;
  }
  get coins(): number {
    return this.tally.coins;
  }
  get unflushed(): number {
    return this.tally.unflushed;
  }
  get phaseMs(): Readonly<Record<Phase, number>> {
    return this.observer.phaseMs;
  }
  get lastProgress(): number {
    return this.observer.lastProgress;
  }

  start(): void {
    const { settings, rng, hasher, logger } = this.opts;
    const parts = {
      tracer: this.opts.tracer,
      settings,
      rng,
      hasher,
      tally: this.tally,
      observer: this.observer,
      logger,
    };
    this.loopDone = workLoop(parts, this.finish.signal, this.abort.signal);
    this.flushTimer = setInterval(() => void this.flush(), settings.flushIntervalMs);
  }

  /**
   * Stops the loop and flushes what it did. `finishUnit`: the unit in flight completes first (scaling down);
   * otherwise it is abandoned (SIGTERM: exit fast) — either way it is counted only if its hash came back.
   */
  stop({ finishUnit = false } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.finish.abort();
      if (!finishUnit) this.abort.abort();
      clearInterval(this.flushTimer);
      await this.loopDone;
      await this.flush();
    })();
    return this.stopping;
  }

  async flush(): Promise<void> {
    await rootSpan(this.opts.tracer, 'flush', async (span) => {
      const units = await this.tally.flush(span);
      span?.setAttribute('dockercoins.units', units);
      const ttl = Math.max(5000, 3 * this.opts.settings.flushIntervalMs);
      await withParent(span, () => this.opts.ledger.board.publish(this.stats(), ttl)).catch(() => undefined);
    });
  }

  /** null while the loop makes progress. A unit may legitimately take two HTTP timeouts, a back-off and Redis. */
  liveness(): string | null {
    const { httpTimeoutMs, retryMaxMs, delayMs, redisTimeoutMs } = this.opts.settings;
    return this.observer.liveness(2 * httpTimeoutMs + retryMaxMs + delayMs + redisTimeoutMs + 5000);
  }

  readiness(): string | null {
    return this.observer.readiness();
  }

  stats(): WorkerStats {
    const { settings, rng, hasher } = this.opts;
    return {
      worker: this.id,
      // Loops under `up` are worker.1…N; a lone worker process is told apart by its host (container) and pid.
      name: this.name === 'worker' ? `worker ${settings.hostname}/${process.pid}` : this.name,
      at: Date.now(),
      startedAt: this.startedAt,
      units: this.tally.units,
      lastUnitAt: this.tally.lastUnitAt || this.startedAt,
      flushed: this.tally.flushed,
      coins: this.tally.coins,
      rngTargets: rng.knownTargets,
      hasherTargets: hasher.knownTargets,
      ...this.observer.stats(),
    };
  }
}
