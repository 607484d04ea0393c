// The embedded ledger of `npm start` when no Redis is given: the same semantics, in this process.
import type { WorkerStats } from '../telemetry.js';
import type { Accounting, Coin, FlushBatch, Ledger, StatsBoard, Totals } from './ledger.js';

const RECENT = 50;

export class MemoryAccounting implements Accounting {
  private hashes = 0;
  /** Every coin ever found (the wallet may keep only the newest). */
  private found = 0;
  /** In insertion order: the oldest first. */
  private readonly wallet = new Map<string, Buffer>();

  constructor(private readonly walletMax = 0) {}

  private readonly recent: Coin[] = [];
  private readonly lastSeq = new Map<string, number>();

  async addHashes({ worker, seq, units }: FlushBatch): Promise<void> {
    if ((this.lastSeq.get(worker) ?? -1) >= seq) return;
    this.lastSeq.set(worker, seq);
    this.hashes += units;
  }

  async addCoin(hex: string, bytes: Buffer): Promise<boolean> {
    const fresh = !this.wallet.has(hex);
    this.wallet.set(hex, Buffer.from(bytes));
    if (fresh) {
      this.found++;
      this.recent.unshift({ hex, at: Date.now() });
      this.recent.length = Math.min(this.recent.length, RECENT);
      if (this.walletMax > 0 && this.wallet.size > this.walletMax) this.wallet.delete(this.wallet.keys().next().value!);
    }
    return fresh;
  }

  async totals(): Promise<Totals> {
    return { hashes: this.hashes, coins: Math.max(this.found, this.wallet.size) };
  }

  async recentCoins(limit: number): Promise<Coin[]> {
    return this.recent.slice(0, limit);
  }
}

export class MemoryStatsBoard implements StatsBoard {
  private readonly stats = new Map<string, { stats: WorkerStats; expires: number }>();

  async publish(stats: WorkerStats, ttlMs: number): Promise<void> {
    this.stats.set(stats.worker, { stats, expires: Date.now() + ttlMs });
  }

  async read(): Promise<WorkerStats[]> {
    const now = Date.now();
    const live: WorkerStats[] = [];
    for (const [id, entry] of this.stats) {
      if (entry.expires < now) this.stats.delete(id);
      else live.push(entry.stats);
    }
    return live;
  }
}

export function memoryLedger(walletMax = 0): Ledger {
  return {
    kind: 'memory',
    where: 'in-memory',
    accounts: new MemoryAccounting(walletMax),
    board: new MemoryStatsBoard(),
    ping: async () => undefined,
    close: async () => undefined,
  };
}
