// What the dashboard receives: computed once per tick by the webui, pushed to every browser.
import type { Phase } from '../worker/metrics.js';

export interface UpstreamView {
  /** Distinct replicas that answered a worker within the window. */
  replicas: number;
  /** Mean call latency seen by the workers, queueing included. */
  latencyMs: number | null;
  /** Requests waiting in rng's queue(s), as last reported by rng to the workers. */
  queue: number | null;
  callsPerSecond: number;
}

export interface WorkerView {
  name: string;
  speed: number;
  errors: string[];
}

export interface Snapshot {
  /** unix seconds, webui clock */
  now: number;
  ledger: { ok: boolean; where: string; error?: string };
  hashes: number;
  coins: number;
  /** hashes/s over the window: the workers' own rates when they publish them, else ledgerSpeed; null at first. */
  speed: number | null;
  /** hashes/s: least-squares slope of the ledger counter over the window (time = webui's reading time). */
  ledgerSpeed: number | null;
  windowSeconds: number;
  recentCoins: { hex: string; at: number }[];
  workers: {
    count: number;
    /** Sum of the workers' own rates (units over their own timestamps). */
    speed: number;
    /** Every worker has published over at least 2 s, so `speed` is meaningful. */
    measured: boolean;
    /** Share of the workers' time by phase, 0..1. */
    phases: Record<Phase, number>;
    list: WorkerView[];
  };
  rng: UpstreamView;
  hasher: UpstreamView;
}

/** [unix seconds, speed or null, hashes] */
export type Point = [number, number | null, number];
