// A loop's accounting: units done, coins found, and the flush that adds units to the ledger. Units are never
// lost: a failed flush keeps them and is retried with the same (worker, seq), so the ledger applies it once;
// a coin that could not be saved is kept and saved with the next flush.
import type { Accounting, FlushBatch } from '../ledger/ledger.js';
import type { Logger } from '../platform/logger.js';
import type { LoopObserver } from './observer.js';

export class Tally {
  units = 0;
  /** When the last unit completed (unix ms, 0 before the first). */
  lastUnitAt = 0;
  flushed = 0;
  coins = 0;
  private seq = 0;
  private pending = 0;
  private unsent: FlushBatch | null = null;
  private readonly unsavedCoins = new Map<string, Buffer>();
  private flushing?: Promise<number>;

  constructor(
    /** Unique per loop and run: the ledger's idempotency key. */
    readonly id: string,
    private readonly accounts: Accounting,
    private readonly observer: LoopObserver,
    private readonly logger: Logger,
  ) {}

  /** Done but not yet in the ledger. */
  get unflushed(): number {
    return this.pending + (this.unsent?.units ?? 0);
  }

  unitDone(): void {
    this.units++;
    this.pending++;
    this.lastUnitAt = Date.now();
  }

  async keepCoin(hex: string, bytes: Buffer): Promise<void> {
    this.coins++;
    this.logger.info(`Coin found: ${hex.slice(0, 8)}...`);
    this.unsavedCoins.set(hex, bytes);
    await this.saveCoins();
  }

  /** Adds the units done since the last flush to the ledger; resolves with how many it added. Never runs twice at once. */
  flush(): Promise<number> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<number> {
    this.logger.info(`${this.unflushed} units of work done, updating hash counter`);
    const before = this.flushed;
    while (this.unsent || this.pending > 0) {
      if (!this.unsent) {
        this.unsent = { worker: this.id, seq: ++this.seq, units: this.pending };
        this.pending = 0;
      }
      try {
        await this.accounts.addHashes(this.unsent);
      } catch (err) {
        this.ledgerFailed(err as Error, `${this.unflushed} units kept for the next flush`);
        break;
      }
      this.flushed += this.unsent.units;
      this.unsent = null;
      this.observer.ok('ledger');
    }
    if (this.unsavedCoins.size > 0) await this.saveCoins();
    return this.flushed - before;
  }

  private async saveCoins(): Promise<void> {
    for (const [hex, bytes] of this.unsavedCoins) {
      try {
        const fresh = await this.accounts.addCoin(hex, bytes);
        this.unsavedCoins.delete(hex);
        this.observer.ok('ledger');
        if (!fresh) this.logger.info('We already had that coin');
      } catch (err) {
        this.ledgerFailed(err as Error, `coin ${hex.slice(0, 8)} kept for the next try`);
        return;
      }
    }
  }

  private ledgerFailed(err: Error, what: string): void {
    if (this.observer.ledgerFailed(err)) this.logger.warn(`ledger unreachable (${err.message}); ${what}`);
  }
}
