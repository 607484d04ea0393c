// The ledger: where hashes are counted and coins kept (Accounting), and where workers post their running
// totals for the dashboard (StatsBoard). Two backends: Redis (the real one, byte-compatible with the original:
// `hashes` integer, `wallet` hash of coin hex → raw bytes) and in-memory for `npm start`.
import type { Deadline } from '../platform/deadline.js';
import type { WorkerStats } from '../telemetry.js';

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

export interface Accounting {
  /** Adds batch.units to `hashes` unless this (worker, seq) was applied already. */
  addHashes(batch: FlushBatch): Promise<void>;
  /** HSET wallet hex bytes; true when the coin is new. */
  addCoin(hex: string, bytes: Buffer): Promise<boolean>;
  totals(): Promise<Totals>;
  recentCoins(limit: number): Promise<Coin[]>;
}

/** Short-lived: each worker's latest stats, gone when the worker stops publishing. */
export interface StatsBoard {
  publish(stats: WorkerStats, ttlMs: number): Promise<void>;
  read(): Promise<WorkerStats[]>;
}

export interface Ledger {
  readonly kind: 'memory' | 'redis';
  /** Where it lives, safe to log. */
  readonly where: string;
  readonly accounts: Accounting;
  readonly board: StatsBoard;
  ping(): Promise<void>;
  /** Closes politely until the deadline (Redis QUIT), then drops the connection; without one, a short wait. */
  close(deadline?: Deadline): Promise<void>;
}
