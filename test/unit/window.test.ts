// The dashboard's speed over one common window, against a simulation of the workshop's system: workers sleeping
// 100 ms, one rng serving one request per 100 ms (at most 10 units/s), hasher 100 ms; each worker publishes its
// count once a second at its own phase. The speed must never show more than the system can do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkerStats } from '../../src/telemetry.js';
import { unitsAt, windowSpeed } from '../../src/webui/window.js';
import { workerStats } from '../helpers/ledger-suite.js';
import { seeded } from '../helpers/random.js';

interface SimWorker {
  id: string;
  startedAt: number;
  units: number;
  lastUnitAt: number;
  phase: number;
  snaps: WorkerStats[];
  next: number;
  state: 'sleep' | 'rng' | 'hasher';
  stoppedAt?: number;
}

function stats(w: SimWorker, at: number): WorkerStats {
  return workerStats({ worker: w.id, at, startedAt: w.startedAt, units: w.units, lastUnitAt: w.lastUnitAt || w.startedAt, flushed: w.units });
}

/** What the dashboard did before: each live worker's own rate over its own last 10 s of publications, summed. */
function naiveSum(workers: SimWorker[], t: number): number {
  let sum = 0;
  for (const w of workers) {
    const snaps = w.snaps.filter((s) => s.at <= t && s.at >= t - 10_000);
    if (w.stoppedAt !== undefined || snaps.length < 2) continue;
    const [a, b] = [snaps[0]!, snaps[snaps.length - 1]!];
    sum += (b.units - a.units) / ((b.at - a.at) / 1000);
  }
  return sum;
}

/** Millisecond steps; `plan(t)` says how many workers should run at t (newest leave first). */
function simulate(seconds: number, plan: (t: number) => number, rngPerSecond = 10, seed = 7) {
  const rand = seeded(seed);
  const workers: SimWorker[] = [];
  const queue: SimWorker[] = [];
  let rngBusyUntil = 0;
  let serving: SimWorker | undefined;
  const readings: { t: number; speed: number; truth: number; naive: number }[] = [];
  const done: number[] = [];
  for (let t = 0; t < seconds * 1000; t++) {
    const want = plan(t);
    const live = workers.filter((w) => w.stoppedAt === undefined);
    for (let i = live.length; i < want; i++) {
      workers.push({
        id: `w${workers.length}`,
        startedAt: t,
        units: 0,
        lastUnitAt: 0,
        phase: Math.floor(rand() * 1000),
        snaps: [],
        next: t + 100,
        state: 'sleep',
      });
    }
    for (const w of live.slice(want)) {
      w.stoppedAt = t;
      w.snaps.push(stats(w, t));
    }
    for (const w of workers) {
      if (w.stoppedAt !== undefined) continue;
      if (w.state === 'sleep' && t >= w.next) {
        w.state = 'rng';
        queue.push(w);
      } else if (w.state === 'hasher' && t >= w.next) {
        w.units++;
        w.lastUnitAt = t;
        done.push(t);
        w.state = 'sleep';
        w.next = t + 100;
      }
      if ((t - w.startedAt) % 1000 === w.phase) w.snaps.push(stats(w, t));
    }
    if (serving && t >= rngBusyUntil) {
      serving.state = 'hasher';
      serving.next = t + 100;
      serving = undefined;
    }
    if (!serving) {
      const w = queue.shift();
      if (w && w.stoppedAt === undefined) {
        serving = w;
        rngBusyUntil = t + 1000 / rngPerSecond;
      }
    }
    if (t % 500 === 0 && t > 0) {
      const r = windowSpeed(
        workers.map((w) => w.snaps.filter((s) => s.at <= t)).filter((s) => s.length > 0),
        10_000,
        2500,
      );
      if (r && r.end - r.start >= 2000) {
        const truth = done.filter((d) => d > r.start && d <= r.end).length / ((r.end - r.start) / 1000);
        readings.push({ t, speed: r.speed, truth, naive: naiveSum(workers, t) });
      }
    }
  }
  return readings;
}

describe('speed over one common window', () => {
  it('reads a worker’s count exactly between its last unit and its publication, and interpolates only in the gaps', () => {
    const base = workerStats({ worker: 'w', startedAt: 0 });
    const snaps: WorkerStats[] = [
      { ...base, at: 1000, units: 3, lastUnitAt: 900 },
      { ...base, at: 2000, units: 6, lastUnitAt: 1800 },
    ];
    assert.equal(unitsAt(snaps, 950), 3);
    assert.equal(unitsAt(snaps, 1900), 6);
    const mid = unitsAt(snaps, 1400)!;
    assert.ok(mid >= 3 && mid <= 5, `between 3 and 5 (unit 6 completed at 1800): ${mid}`);
    assert.equal(unitsAt(snaps, 500), null, 'before what the publications tell');
    assert.equal(unitsAt([{ ...base, at: 1000, units: 0, lastUnitAt: 0 }], 500), 0, 'nothing done yet is known');
    assert.equal(unitsAt(snaps, -5), 0, 'before it started');
  });

  it('1 → 10 workers on one rng: never above 10.5, near 10 within 12 s; 10 → 1: within 10 % of the truth after 12 s', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const readings = simulate(60, (t) => (t < 20_000 ? 1 : t < 40_000 ? 10 : 1), 10, seed);
      const peak = Math.max(...readings.map((r) => r.speed));
      assert.ok(peak <= 10.5, `seed ${seed}: peak ${peak.toFixed(2)}`);
      const at = (t: number) => readings.find((r) => r.t >= t)!;
      const settled = at(32_000);
      assert.ok(settled.speed >= 9 && settled.speed <= 10.5, `seed ${seed}: 12 s after 1 → 10: ${settled.speed.toFixed(2)}`);
      const down = at(52_000);
      assert.ok(Math.abs(down.speed - 10 / 3) / (10 / 3) <= 0.1, `seed ${seed}: 12 s after 10 → 1: ${down.speed.toFixed(2)}`);
      for (const r of readings) assert.ok(Math.abs(r.speed - r.truth) <= 0.6, `seed ${seed} at ${r.t}: ${r.speed.toFixed(2)} vs truth ${r.truth.toFixed(2)}`);
    }
  });

  it('the same simulation catches the old way of summing per-worker rates: it overshoots when workers join', () => {
    const peaks = [1, 2, 3].map((seed) => Math.max(...simulate(60, (t) => (t < 20_000 ? 1 : 10), 10, seed).map((r) => r.naive)));
    assert.ok(
      peaks.some((p) => p > 10.5),
      `naive peaks ${peaks.map((p) => p.toFixed(2)).join(', ')}`,
    );
  });
});
