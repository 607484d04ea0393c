// The numbers the workshop expects, measured as users see them (a fit over /json samples, >= 10 s):
// 1 worker 3.33/s; 10 workers on one rng plateau near 10/s; three rng lift the plateau.
// The three systems run side by side: the rates are set by sleeps and rng's queue, not by CPU.
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
  it('1 worker ≈ 3.33 hashes/s; 10 workers ≤ 11 on 1 rng; ≥ 25 on 3 rng', async () => {
    const [one, ten, tenOnThree] = await Promise.all([rateOf([]), rateOf(['--scale', 'worker=10']), rateOf(['--scale', 'worker=10', '--scale', 'rng=3'])]);
    console.log(`rates: 1 worker ${one.toFixed(2)}/s · 10 workers ${ten.toFixed(2)}/s · 10 workers + 3 rng ${tenOnThree.toFixed(2)}/s`);
    assert.ok(one >= 3.0 && one <= 3.67, `1 worker: ${one.toFixed(2)} hashes/s, expected 3.33 ± 10 %`);
    assert.ok(ten <= 11 && ten >= 7, `10 workers, 1 rng: ${ten.toFixed(2)} hashes/s, expected a plateau near 10`);
    assert.ok(tenOnThree >= 25, `10 workers, 3 rng: ${tenOnThree.toFixed(2)} hashes/s, expected >= 25`);
  });
});
