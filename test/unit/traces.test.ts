// The slowest traced units, from each loop's observer through the stats board to the dashboard's snapshot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { memoryLedger } from '../../src/ledger/memory.js';
import { isWorkerStats } from '../../src/telemetry.js';
import { Feed } from '../../src/webui/feed.js';
import { workerMetrics } from '../../src/worker/metrics.js';
import { LoopObserver } from '../../src/worker/observer.js';
import { stats } from '../helpers/ledger-suite.js';

const id = (n: number) => n.toString(16).padStart(32, '0');

describe('slowest traced units', () => {
  it('a loop keeps its three slowest of the last 10 s, slowest first, and publishes them only when there are some', () => {
    const observer = new LoopObserver(workerMetrics(new Registry(), () => []));
    assert.equal(observer.stats().slowest, undefined, 'untraced: nothing published');
    for (const [n, ms] of [
      [1, 120],
      [2, 900],
      [3, 45],
      [4, 300],
      [5, 600],
    ] as const) {
      observer.traced(id(n), ms);
    }
    assert.deepEqual(
      observer.stats().slowest?.map((u) => [u.traceId, u.ms]),
      [
        [id(2), 900],
        [id(5), 600],
        [id(4), 300],
      ],
    );
  });

  it('what comes back from the board is checked: a trace id is 32 hex digits', () => {
    const good = { ...stats('w', 1), slowest: [{ traceId: id(7), ms: 10, at: Date.now() }] };
    assert.ok(isWorkerStats(JSON.parse(JSON.stringify(good))));
    for (const traceId of ['x', `${id(7)}0`, 'javascript:alert(1)//00000000000000000', 'AB'.repeat(16)]) {
      assert.equal(isWorkerStats({ ...good, slowest: [{ traceId, ms: 10, at: Date.now() }] }), false, traceId);
    }
    assert.equal(isWorkerStats({ ...good, slowest: 'many' }), false);
  });

  it('the snapshot merges the workers’ lists: the five slowest of the window, with the viewer; none without TRACING_UI_URL', async () => {
    const ledger = memoryLedger();
    const now = Date.now();
    await ledger.board.publish({ ...stats('a', 5), slowest: [900, 300, 100].map((ms, i) => ({ traceId: id(i + 1), ms, at: now - 1000 })) }, 5000);
    await ledger.board.publish(
      {
        ...stats('b', 5),
        slowest: [
          { traceId: id(10), ms: 5000, at: now - 60_000 }, // older than the window
          { traceId: id(11), ms: 700, at: now },
          { traceId: id(12), ms: 200, at: now },
          { traceId: id(13), ms: 150, at: now },
        ],
      },
      5000,
    );
    const snapshot = await new Feed(ledger, { tracingUi: 'http://jaeger:16686' }).tick();
    assert.equal(snapshot.traces?.ui, 'http://jaeger:16686');
    assert.deepEqual(
      snapshot.traces?.slowest.map((u) => [u.ms, u.worker]),
      [
        [900, 'a'],
        [700, 'b'],
        [300, 'a'],
        [200, 'b'],
        [150, 'b'],
      ],
    );
    assert.equal((await new Feed(ledger).tick()).traces, null);
    await ledger.close();
  });
});
