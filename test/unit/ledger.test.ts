// Both ledgers against one behaviour table; the Redis one against a real redis-server, byte for byte.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Ledger } from '../../src/ledger/ledger.js';
import { MemoryLedger } from '../../src/ledger/memory.js';
import { RedisLedger } from '../../src/ledger/redis.js';
import { waitFor } from '../helpers/net.js';
import { silentLogger } from '../helpers/quiet.js';
import { TestRedis } from '../helpers/redis.js';

const redis = new TestRedis();
before(() => redis.start());
after(() => redis.stop());

let n = 0;
const kinds: [string, () => Promise<Ledger>][] = [
  ['memory', async () => new MemoryLedger()],
  [
    'redis',
    async () => {
      const l = new RedisLedger({ url: redis.url, namespace: `t${++n}`, timeoutMs: 1000, logger: silentLogger() });
      await waitFor('ledger', () => l.ping().then(() => true));
      return l;
    },
  ],
];

for (const [kind, make] of kinds) {
  describe(`${kind} ledger`, () => {
    it('counts hashes and applies a retried flush only once', async () => {
      const l = await make();
      await l.addHashes({ worker: 'a', seq: 1, units: 5 });
      await l.addHashes({ worker: 'a', seq: 1, units: 5 });
      await l.addHashes({ worker: 'b', seq: 1, units: 2 });
      await l.addHashes({ worker: 'a', seq: 2, units: 3 });
      assert.deepEqual(await l.totals(), { hashes: 10, coins: 0 });
      await l.close();
    });

    it('keeps coins, knows the new from the known, lists the recent', async () => {
      const l = await make();
      assert.equal(await l.addCoin('0aaa', Buffer.from('x')), true);
      assert.equal(await l.addCoin('0aaa', Buffer.from('x')), false);
      assert.equal(await l.addCoin('0bbb', Buffer.from('y')), true);
      assert.equal((await l.totals()).coins, 2);
      assert.deepEqual((await l.recentCoins(5)).map((c) => c.hex), ['0bbb', '0aaa']);
      await l.close();
    });

    it('publishes short-lived worker stats', async () => {
      const l = await make();
      await l.publishStats({ worker: 'w1', at: Date.now(), units: 3 }, 200);
      await l.publishStats({ worker: 'w2', at: Date.now(), units: 4 }, 5000);
      assert.deepEqual((await l.workerStats()).map((s) => s.worker).sort(), ['w1', 'w2']);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual((await l.workerStats()).map((s) => s.worker), ['w2']);
      await l.close();
    });
  });
}

describe('redis ledger, as the original sees it', () => {
  it('uses the original keys: `hashes` an integer string, `wallet` hex → raw bytes', async () => {
    const l = new RedisLedger({ url: redis.url, namespace: '', timeoutMs: 1000, logger: silentLogger() });
    await waitFor('ledger', () => l.ping().then(() => true));
    const raw = redis.client();
    try {
      await raw.del('hashes', 'wallet');
      const bytes = randomBytes(32);
      const hex = createHash('sha256').update(bytes).digest('hex');
      await l.addHashes({ worker: 'orig', seq: 1, units: 7 });
      await raw.incrby('hashes', 3); // the original worker, sharing the Redis
      await l.addCoin(hex, bytes);
      assert.equal(await raw.get('hashes'), '10');
      assert.deepEqual(await raw.hgetBuffer('wallet', hex), bytes);
      await raw.hset('wallet', 'f00d', 'from the original');
      assert.deepEqual(await l.totals(), { hashes: 10, coins: 2 });
    } finally {
      raw.disconnect();
      await l.close();
    }
  });

  it('keeps tenants apart with DOCKERCOINS_NAMESPACE', async () => {
    const make = (ns: string) => new RedisLedger({ url: redis.url, namespace: ns, timeoutMs: 1000, logger: silentLogger() });
    const [a, b] = [make('acme'), make('globex')];
    await waitFor('ledgers', async () => (await Promise.all([a.ping(), b.ping()])) && true);
    const raw = redis.client();
    try {
      await a.addHashes({ worker: 'w', seq: 1, units: 11 });
      await b.addHashes({ worker: 'w', seq: 1, units: 22 });
      await a.addCoin('0123', Buffer.from('a'));
      assert.deepEqual(await a.totals(), { hashes: 11, coins: 1 });
      assert.deepEqual(await b.totals(), { hashes: 22, coins: 0 });
      assert.equal(await raw.get('acme:hashes'), '11');
      assert.equal(await raw.get('globex:hashes'), '22');
      assert.equal(await raw.hlen('acme:wallet'), 1);
    } finally {
      raw.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fails fast (no unbounded wait) while Redis is down, and recovers', async () => {
    const down = new TestRedis();
    await down.start();
    const l = new RedisLedger({ url: down.url, namespace: '', timeoutMs: 500, logger: silentLogger() });
    try {
      await waitFor('ledger', () => l.ping().then(() => true));
      await down.stop();
      const t0 = Date.now();
      await assert.rejects(l.totals());
      assert.ok(Date.now() - t0 < 1000);
      await down.start();
      await waitFor('reconnect', () => l.totals().then(() => true), 10_000);
    } finally {
      await l.close();
      await down.stop();
    }
  });
});
