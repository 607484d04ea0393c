// One behaviour table for every ledger: the unit tier runs it on the in-memory ledger, the integration tier on a
// real redis-server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Ledger } from '../../src/ledger/ledger.js';
import type { WorkerStats } from '../../src/telemetry.js';

/** A worker's published stats: an idle worker's, with what the test sets. */
export function workerStats(set: Partial<WorkerStats> & Pick<WorkerStats, 'worker'>): WorkerStats {
  const now = Date.now();
  return {
    name: set.worker,
    at: now,
    startedAt: now,
    units: 0,
    lastUnitAt: now,
    flushed: 0,
    coins: 0,
    phaseMs: { sleep: 0, rng: 0, hasher: 0, ledger: 0 },
    rngTargets: 1,
    hasherTargets: 1,
    replicas: [],
    errors: {},
    ...set,
  };
}

export function stats(worker: string, units: number): WorkerStats {
  return workerStats({ worker, units, flushed: units, replicas: [{ upstream: 'rng', replica: 'rng-1', calls: units, ms: 100 * units, queue: 2 }] });
}

export function ledgerBehaviour(kind: string, make: (walletMax?: number) => Promise<Ledger>): void {
  describe(`${kind} ledger`, () => {
    it('counts hashes and applies a retried flush only once', async () => {
      const l = await make();
      await l.accounts.addHashes({ worker: 'a', seq: 1, units: 5 });
      await l.accounts.addHashes({ worker: 'a', seq: 1, units: 5 });
      await l.accounts.addHashes({ worker: 'b', seq: 1, units: 2 });
      await l.accounts.addHashes({ worker: 'a', seq: 2, units: 3 });
      assert.deepEqual(await l.accounts.totals(), { hashes: 10, coins: 0 });
      await l.close();
    });

    it('keeps coins, knows the new from the known, lists the recent', async () => {
      const l = await make();
      assert.equal(await l.accounts.addCoin('0aaa', Buffer.from('x')), true);
      assert.equal(await l.accounts.addCoin('0aaa', Buffer.from('x')), false);
      assert.equal(await l.accounts.addCoin('0bbb', Buffer.from('y')), true);
      assert.equal((await l.accounts.totals()).coins, 2);
      assert.deepEqual(
        (await l.accounts.recentCoins(5)).map((c) => c.hex),
        ['0bbb', '0aaa'],
      );
      await l.close();
    });

    it('WALLET_MAX: keeps the newest N coins, counts every coin found exactly once', async () => {
      const l = await make(3);
      const hexes = Array.from({ length: 10 }, (_, i) => `0${i.toString(16)}${'a'.repeat(62)}`);
      for (const hex of hexes) assert.equal(await l.accounts.addCoin(hex, Buffer.from(hex)), true);
      // A save retried after a lost reply: the newest are still in the wallet, so it is not counted again.
      assert.equal(await l.accounts.addCoin(hexes[9]!, Buffer.from('x')), false);
      assert.equal((await l.accounts.totals()).coins, 10);
      assert.deepEqual(
        (await l.accounts.recentCoins(3)).map((c) => c.hex),
        [hexes[9], hexes[8], hexes[7]],
      );
      await l.close();
    });

    it('posts short-lived worker stats on its board, typed as they were sent', async () => {
      const l = await make();
      const w2 = stats('w2', 4);
      await l.board.publish(stats('w1', 3), 200);
      await l.board.publish(w2, 5000);
      assert.deepEqual((await l.board.read()).map((s) => s.worker).sort(), ['w1', 'w2']);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await l.board.read(), [w2]);
      await l.close();
    });
  });
}
