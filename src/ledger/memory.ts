// The embedded ledger of `npm start` when no Redis is given: the same semantics, in this process.
import type { WorkerStats } from '../telemetry.js';
import type { Accounting, Coin, FlushBatch, Ledger, StatsBoard, Totals } from './ledger.js';

const RECENT = 50;

export class MemoryAccounting implements Accounting {
  private hashes = 0;
  private readonly wallet = new Map<string, Buffer>();
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
      this.recent.unshift({ hex, at: Date.now() });
      this.recent.length = Math.min(this.recent.length, RECENT);
    }
    return fresh;
  }

  async totals(): Promise<Totals> {
    return { hashes: this.hashes, coins: this.wallet.size };
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

export function memoryLedger(): Ledger {
  return {
    kind: 'memory',
    where: 'in-memory',
    accounts: new MemoryAccounting(),
    board: new MemoryStatsBoard(),
    ping: async () => undefined,
    close: async () => undefined,
  };
}
