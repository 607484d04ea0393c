// Hashes/s measured as users see it: /json sampled every 250 ms, a least-squares line through the samples.
import { setTimeout as sleep } from 'node:timers/promises';
import { slope } from '../../src/webui/speed.js';
import { json } from './net.js';

export async function measureRate(webui: string, seconds: number): Promise<number> {
  const points: [number, number][] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    try {
      const j = await json<{ now: number; hashes: number }>(`${webui}/json`);
      points.push([j.now, j.hashes]);
    } catch {
      // a missed sample only thins the fit
    }
    await sleep(250);
  }
  const s = slope(points);
  if (s === null) throw new Error(`too few samples (${points.length}) to measure a rate`);
  return s;
}
