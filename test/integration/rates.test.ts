// The numbers the workshop expects, measured as users see them (a fit over /json samples, >= 10 s):
// 1 worker 3.33/s; 10 workers on one rng plateau near 10/s; three rng lift the plateau.
// The three systems run side by side: the rates are set by sleeps and rng's queue, not by CPU.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/net.js';
import { Proc } from '../helpers/proc.js';
import { measureRate } from '../helpers/rate.js';

async function rateOf(args: string[], seconds = 12): Promise<number> {
  const [webui, rng, hasher] = [await freePort(), await freePort(), await freePort()];
  const p = new Proc(['up', ...args], { WEBUI_PORT: String(webui), RNG_PORT: String(rng), HASHER_PORT: String(hasher), LOG_LEVEL: 'warn' });
  try {
    await p.waitHttp(`http://127.0.0.1:${webui}/json`);
    await sleep(3000);
    return await measureRate(`http://127.0.0.1:${webui}`, seconds);
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
