import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, FifoLimiter, QueueFullError } from '../../src/platform/limiter.js';

describe('FifoLimiter', () => {
  it('lets at most `limit` in at once and serves waiters in arrival order', async () => {
    const l = new FifoLimiter(2);
    const order: number[] = [];
    let inside = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const release = await l.acquire();
        inside++;
        peak = Math.max(peak, inside);
        order.push(i);
        await sleep(5);
        inside--;
        release();
      }),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(l.inFlight, 0);
    assert.equal(l.depth, 0);
  });

  it('0 means unlimited', async () => {
    const l = new FifoLimiter(0);
    const releases = await Promise.all(Array.from({ length: 100 }, () => l.acquire()));
    assert.equal(l.inFlight, 100);
    for (const release of releases) release();
    assert.equal(l.inFlight, 0);
  });

  it('drops an abandoned waiter without giving it a slot', async () => {
    const l = new FifoLimiter(1);
    const first = await l.acquire();
    const ac = new AbortController();
    const abandoned = l.acquire(ac.signal) as Promise<() => void>;
    const third = l.acquire() as Promise<() => void>;
    assert.equal(l.depth, 2);
    ac.abort();
    await assert.rejects(abandoned, AbortedError);
    assert.equal(l.depth, 1);
    first();
    const r = await third;
    assert.equal(l.inFlight, 1);
    r();
    r(); // a second release is ignored
    assert.equal(l.inFlight, 0);
  });

  it('refuses beyond the queue limit instead of growing without bound', async () => {
    const l = new FifoLimiter(1, 2);
    const held = await l.acquire();
    const a = l.acquire();
    const b = l.acquire();
    assert.throws(() => l.acquire(), QueueFullError);
    held();
    (await a)();
    (await b)();
  });
});
