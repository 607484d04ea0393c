// The ledger: where hashes are counted and coins kept. Two implementations: Redis (the real one, byte-compatible
// with the original: `hashes` integer, `wallet` hash of coin hex → raw bytes) and an in-memory one for `npm start`.

export interface Totals {
  hashes: number;
  coins: number;
}

/** One flush of a worker's count. (worker, seq) makes it idempotent: a retried flush is never counted twice. */
export interface FlushBatch {
  worker: string;
  seq: number;
  units: number;
}

export interface Coin {
  hex: string;
  /** When this ledger learned of it (unix ms); 0 when unknown (coins written by the original worker). */
  at: number;
}

/** What a worker publishes about itself every flush, for the dashboard's bottleneck view. Short-lived. */
export interface WorkerStats {
  worker: string;
  at: number;
  [field: string]: unknown;
}

export interface Ledger {
  readonly kind: 'memory' | 'redis';
  /** Where it lives, safe to log. */
  readonly where: string;
  /** Adds batch.units to `hashes` unless this (worker, seq) was applied already. */
  addHashes(batch: FlushBatch): Promise<void>;
  /** HSET wallet hex bytes; true when the coin is new. */
  addCoin(hex: string, bytes: Buffer): Promise<boolean>;
  totals(): Promise<Totals>;
  recentCoins(limit: number): Promise<Coin[]>;
  publishStats(stats: WorkerStats, ttlMs: number): Promise<void>;
  workerStats(): Promise<WorkerStats[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
