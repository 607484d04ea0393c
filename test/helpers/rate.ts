// Rates measured as users see them: a reading every 250 ms, a least-squares line through the readings.
import { setTimeout as sleep } from 'node:timers/promises';
import { slope } from '../../src/webui/speed.js';
import { json, metric } from './net.js';

/** The slope of `read()` (a [seconds, count] pair) over `seconds`; a failed reading only thins the fit. */
export async function fitRate(read: () => Promise<[number, number]>, seconds: number): Promise<number> {
  const points: [number, number][] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    try {
      points.push(await read());
    } catch {
      // a missed sample only thins the fit
    }
    await sleep(250);
  }
  const s = slope(points);
  if (s === null) throw new Error(`too few samples (${points.length}) to measure a rate`);
  return s;
}

/** Hashes/s from the webui's /json (its own clock). */
export function measureRate(webui: string, seconds: number): Promise<number> {
  return fitRate(async () => {
    const j = await json<{ now: number; hashes: number }>(`${webui}/json`);
    return [j.now, j.hashes];
  }, seconds);
}

/** Units/s of a worker process, from its dockercoins_worker_units_total (the test's clock). */
export function measureUnitRate(metricsUrl: string, seconds: number): Promise<number> {
  return fitRate(async () => [Date.now() / 1000, await metric(`${metricsUrl}/metrics`, 'dockercoins_worker_units_total')], seconds);
}
