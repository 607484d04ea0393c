// The Redis ledger against the ledgers' behaviour table, and byte for byte as the original sees it, on a real
// redis-server.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger } from '../../src/ledger/ledger.js';
import { redisLedger } from '../../src/ledger/redis.js';
import { ledgerBehaviour } from '../helpers/ledger-suite.js';
import { waitFor } from '../helpers/net.js';
import { silentLogger } from '../helpers/quiet.js';
import { TestRedis } from '../helpers/redis.js';

const redis = new TestRedis();
before(() => redis.start());
after(() => redis.stop());

async function connect(url: string, namespace: string, timeoutMs = 1000, walletMax = 0): Promise<Ledger> {
  const l = redisLedger({ url, namespace, timeoutMs, walletMax }, silentLogger());
  await waitFor('ledger', () => l.ping().then(() => true));
  return l;
}

let n = 0;
ledgerBehaviour('redis', (walletMax) => connect(redis.url, `t${++n}`, 1000, walletMax));

describe('redis ledger, as the original sees it', () => {
  it('uses the original keys: `hashes` an integer string, `wallet` hex → raw bytes', async () => {
    const l = await connect(redis.url, '');
    const raw = redis.client();
    try {
      await raw.del('hashes', 'wallet', 'coins:found', 'wallet:order');
      const bytes = randomBytes(32);
      const hex = createHash('sha256').update(bytes).digest('hex');
      await l.accounts.addHashes({ worker: 'orig', seq: 1, units: 7 });
      await raw.incrby('hashes', 3); // the original worker, sharing the Redis
      await l.accounts.addCoin(hex, bytes);
      assert.equal(await raw.get('hashes'), '10');
      assert.deepEqual(await raw.hgetBuffer('wallet', hex), bytes);
      await raw.hset('wallet', 'f00d', 'from the original');
      assert.deepEqual(await l.accounts.totals(), { hashes: 10, coins: 2 });
    } finally {
      raw.disconnect();
      await l.close();
    }
  });

  it('WALLET_MAX: the wallet hash holds the newest N, `coins:found` every coin, and the original still reads it', async () => {
    const l = await connect(redis.url, 'bounded', 1000, 5);
    const raw = redis.client();
    try {
      const found: string[] = [];
      for (let i = 0; i < 40; i++) {
        const bytes = randomBytes(32);
        const hex = `0${createHash('sha256').update(bytes).digest('hex').slice(1)}`;
        found.push(hex);
        await l.accounts.addCoin(hex, bytes);
      }
      assert.equal(await raw.hlen('bounded:wallet'), 5);
      assert.deepEqual((await raw.hkeys('bounded:wallet')).sort(), found.slice(-5).sort());
      assert.equal(await raw.llen('bounded:wallet:order'), 5);
      assert.equal(await raw.get('bounded:coins:found'), '40');
      assert.equal((await l.accounts.totals()).coins, 40);
    } finally {
      raw.disconnect();
      await l.close();
    }
  });

  it('keeps tenants apart with DOCKERCOINS_NAMESPACE', async () => {
    const [a, b] = await Promise.all([connect(redis.url, 'acme'), connect(redis.url, 'globex')]);
    const raw = redis.client();
    try {
      await a.accounts.addHashes({ worker: 'w', seq: 1, units: 11 });
      await b.accounts.addHashes({ worker: 'w', seq: 1, units: 22 });
      await a.accounts.addCoin('0123', Buffer.from('a'));
      assert.deepEqual(await a.accounts.totals(), { hashes: 11, coins: 1 });
      assert.deepEqual(await b.accounts.totals(), { hashes: 22, coins: 0 });
      assert.equal(await raw.get('acme:hashes'), '11');
      assert.equal(await raw.get('globex:hashes'), '22');
      assert.equal(await raw.hlen('acme:wallet'), 1);
    } finally {
      raw.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('drops stats on its board that are not WorkerStats (another writer, an older version)', async () => {
    const l = await connect(redis.url, 'board');
    const raw = redis.client();
    try {
      await raw.set('board:worker:bogus', JSON.stringify({ worker: 'bogus', at: 1 }), 'PX', 5000);
      await raw.zadd('board:workers', Date.now() + 5000, 'bogus');
      assert.deepEqual(await l.board.read(), []);
    } finally {
      raw.disconnect();
      await l.close();
    }
  });

  it('fails fast (no unbounded wait) while Redis is down, and recovers', async () => {
    const down = new TestRedis();
    await down.start();
    const l = await connect(down.url, '', 500);
    try {
      await down.stop();
      // An order, not a stopwatch: the command fails before a sentinel of 20 command timeouts (an unbounded wait
      // would lose the race however busy the machine is; a bounded one wins it however late its timers are).
      const outcome = await Promise.race([
        l.accounts.totals().then(
          () => 'answered',
          () => 'failed',
        ),
        sleep(20 * 500).then(() => 'still waiting'),
      ]);
      assert.equal(outcome, 'failed', 'failed (no unbounded wait) while Redis is down');
      await down.start();
      await waitFor('reconnect', () => l.accounts.totals().then(() => true), 10_000);
    } finally {
      await l.close();
      await down.stop();
    }
  });
});
