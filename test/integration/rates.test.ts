// The numbers the workshop expects, measured as users see them (a fit over /json samples, >= 10 s):
// 1 worker 3.33/s; 10 workers on one rng plateau near 10/s; three rng lift the plateau.
// One system at a time; ceilings from the model, floors and orders that a busy machine cannot break.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startUp } from '../helpers/proc.js';
import { measureRate } from '../helpers/rate.js';

async function rateOf(args: string[], seconds = 12): Promise<number> {
  const { p, webui } = await startUp(args);
  try {
    await sleep(3000);
    return await measureRate(webui, seconds);
  } finally {
    await p.stop('SIGTERM');
  }
}

describe('faithful rates (default delays)', () => {
  // One system at a time (three at once would share two cores and measure the machine). The model: a unit is a
  // 100 ms pause + an rng call (100 ms) + a hasher call (100 ms), so 3.33/s per worker at most — sleeps can be late,
  // never early; rng serves 10 requests/s per instance, so 10 workers on one rng plateau at 10/s at most.
  it('1 worker ≈ 3.33 hashes/s; 10 workers plateau at ≤ 10 on 1 rng; 3 rng lift the plateau', async () => {
    const one = await rateOf([], 15);
    const ten = await rateOf(['--scale', 'worker=10'], 15);
    const tenOnThree = await rateOf(['--scale', 'worker=10', '--scale', 'rng=3'], 15);
    console.log(`rates: 1 worker ${one.toFixed(2)}/s · 10 workers ${ten.toFixed(2)}/s · 10 workers + 3 rng ${tenOnThree.toFixed(2)}/s`);
    // The ceilings are the model's (+5 % for the fit over whole hashes); the floors allow late timers on a busy machine.
    assert.ok(one <= 3.33 * 1.05 && one >= 3.33 * 0.75, `1 worker: ${one.toFixed(2)} hashes/s, the model says at most 3.33`);
    assert.ok(ten <= 10 * 1.05, `10 workers, 1 rng: ${ten.toFixed(2)} hashes/s, rng's ceiling is 10`);
    assert.ok(ten >= 2 * one, `10 workers (${ten.toFixed(2)}/s) mine at least twice as fast as one (${one.toFixed(2)}/s)`);
    assert.ok(tenOnThree >= 2 * ten, `3 rng (${tenOnThree.toFixed(2)}/s) at least double the 1-rng plateau (${ten.toFixed(2)}/s)`);
  });
});
