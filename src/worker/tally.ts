// A loop's accounting: units done, coins found, and the flush that adds units to the ledger. Units are never
// lost: a failed flush keeps them and is retried with the same (worker, seq), so the ledger applies it once.
// A coin is saved at once but the loop does not wait for it (a ledger round trip per coin would cost every loop a
// sixteenth of a round trip per unit); one save at a time, a coin that could not be saved goes with the next flush.
import type { Accounting, FlushBatch } from '../ledger/ledger.js';
import type { Logger } from '../platform/logger.js';
import { type Span, withParent } from '../platform/tracing.js';
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
  /** Coin hex → its bytes and the span of the unit that found it (tracing on: the save is that unit's child). */
  private readonly unsavedCoins = new Map<string, { bytes: Buffer; unit?: Span }>();
  private flushing?: Promise<number>;
  private again?: Promise<number>;
  private saving?: Promise<void>;

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

  /** Counts the coin and starts saving it; the save never fails (a coin that could not be saved is kept). */
  keepCoin(hex: string, bytes: Buffer, unit?: Span): void {
    this.coins++;
    withParent(unit, () => this.logger.info(`Coin found: ${hex.slice(0, 8)}...`));
    this.unsavedCoins.set(hex, { bytes, unit });
    void this.saveCoins();
  }

  /** Coins found but not yet in the ledger. */
  get unsaved(): number {
    return this.unsavedCoins.size;
  }

  /**
   * Adds the units done so far to the ledger; resolves with how many it added. Never runs twice at once: called while
   * one runs, it runs once more after it (that one may be past its units, waiting for a coin's save). `span`: the
   * flush's (tracing on), parent of its ledger calls.
   */
  flush(span?: Span): Promise<number> {
    if (!this.flushing) {
      this.flushing = this.flushOnce(span).finally(() => {
        this.flushing = undefined;
      });
      return this.flushing;
    }
    this.again ??= this.flushing.then(() => {
      this.again = undefined;
      return this.flush(span);
    });
    return this.again;
  }

  private async flushOnce(span?: Span): Promise<number> {
    withParent(span, () => this.logger.info(`${this.unflushed} units of work done, updating hash counter`));
    const before = this.flushed;
    while (this.unsent || this.pending > 0) {
      if (!this.unsent) {
        this.unsent = { worker: this.id, seq: ++this.seq, units: this.pending };
        this.pending = 0;
      }
      try {
        const batch = this.unsent;
        await withParent(span, () => this.accounts.addHashes(batch));
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

  /** One save at a time: coins found while one runs are taken by it (a Map's iteration sees entries added meanwhile). */
  private saveCoins(): Promise<void> {
    this.saving ??= this.saveEach().finally(() => {
      this.saving = undefined;
    });
    return this.saving;
  }

  private async saveEach(): Promise<void> {
    for (const [hex, { bytes, unit }] of this.unsavedCoins) {
      try {
        const fresh = await withParent(unit, () => this.accounts.addCoin(hex, bytes));
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
