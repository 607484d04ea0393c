// The speed shown is units done over ONE window common to all workers, [end − W, end], each worker's count read at
// both ends of it. Summing per-worker rates over windows that do not cover the same interval overshoots when workers
// join (a new worker's first seconds look like a full window). A worker's count is known exactly from its last unit
// to its publication (WorkerStats.lastUnitAt … at); between publications it is interpolated, never beyond what the
// next publication proves.
import type { WorkerStats } from '../telemetry.js';

/** A worker's count at time t from its publications (oldest first), or null when t is before what they tell. */
export function unitsAt(snaps: readonly WorkerStats[], t: number): number | null {
  const first = snaps[0];
  if (!first) return null;
  if (t < first.startedAt) return 0;
  if (t >= first.lastUnitAt && t <= first.at) return first.units;
  if (t < first.lastUnitAt) return first.units === 0 ? 0 : null;
  for (let k = 1; k < snaps.length; k++) {
    const prev = snaps[k - 1]!;
    const next = snaps[k]!;
    if (t > next.at) continue;
    if (t >= next.lastUnitAt) return next.units;
    // Between prev.at (count prev.units) and next.lastUnitAt, where unit number next.units completed.
    if (next.units <= prev.units) return prev.units;
    const span = next.lastUnitAt - prev.at;
    const frac = span > 0 ? Math.min(1, Math.max(0, (t - prev.at) / span)) : 1;
    return prev.units + (next.units - 1 - prev.units) * frac;
  }
  // After the last publication: what it said (a stopped worker stays there; a live one is read only up to its last).
  return snaps[snaps.length - 1]!.units;
}

export interface WindowReading {
  /** The window actually used: [start, end] (unix ms). */
  start: number;
  end: number;
  /** Units per worker within it. */
  units: number[];
  speed: number;
}

/**
 * Units over the common window of width `widthMs` ending at the oldest recent publication. Workers whose last
 * publication is older than `staleMs` before the newest are treated as stopped: their count stays where it was.
 */
export function windowSpeed(workers: readonly (readonly WorkerStats[])[], widthMs: number, staleMs: number): WindowReading | null {
  const lasts = workers.map((s) => s[s.length - 1]).filter((s): s is WorkerStats => s !== undefined);
  if (lasts.length === 0) return null;
  const newest = Math.max(...lasts.map((s) => s.at));
  const recent = lasts.filter((s) => s.at >= newest - staleMs);
  const end = Math.min(...recent.map((s) => s.at));
  // Never before the oldest worker started (the system did nothing before), and shortened where a worker's count
  // at the start is unknown (the webui has not seen that far back).
  let start = Math.max(end - widthMs, Math.min(...workers.map((s) => s[0]!.startedAt)));
  for (let moved = true; moved; ) {
    moved = false;
    for (const snaps of workers) {
      const from = snaps[0]!.lastUnitAt;
      if (unitsAt(snaps, start) === null && from > start && from <= end) {
        start = from;
        moved = true;
      }
    }
  }
  if (end <= start) return null;
  const units = workers.map((snaps) => Math.max(0, (unitsAt(snaps, end) ?? 0) - (unitsAt(snaps, start) ?? 0)));
  const total = units.reduce((a, b) => a + b, 0);
  return { start, end, units, speed: total / ((end - start) / 1000) };
}
