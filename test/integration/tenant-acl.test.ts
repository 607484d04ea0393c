// A tenant's Redis ACL user (src/tenants/redis-acl.ts) on a real redis-server with a password on `default`: the
// whole ledger behaviour table passes as that user (so the allowed commands are enough for worker and webui), and
// every way of reaching another tenant's keys or enumerating keys is refused with NOPERM.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Ledger } from '../../src/ledger/ledger.js';
import { redisLedger } from '../../src/ledger/redis.js';
import { tenantAclRule, tenantKeyPattern, UNLINK_PREFIX_LUA } from '../../src/tenants/redis-acl.js';
import { ledgerBehaviour } from '../helpers/ledger-suite.js';
import { waitFor } from '../helpers/net.js';
import { silentLogger } from '../helpers/quiet.js';
import { TestRedis } from '../helpers/redis.js';

const ADMIN = randomBytes(12).toString('hex');
const redis = new TestRedis();
const passwords: Record<string, string> = {};
let admin: Redis;

const urlOf = (user: string) => redis.url.replace('redis://', `redis://${user}:${passwords[user]}@`);
function client(user?: string): Redis {
  // No ready check: without credentials its INFO would be refused and close the connection before our command.
  const c = new Redis(user ? urlOf(user) : redis.url, { maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => null, enableReadyCheck: !!user });
  c.on('error', () => undefined);
  return c;
}

before(async () => {
  await redis.start(['--requirepass', ADMIN]);
  admin = redis.client(ADMIN);
  for (let i = 1; i <= 12; i++) {
    const t = `t22-acl${i}`;
    passwords[t] = randomBytes(18).toString('hex');
    await admin.call('ACL', 'SETUSER', t, ...tenantAclRule(t, passwords[t]!));
  }
  passwords['t22-other'] = randomBytes(18).toString('hex');
  await admin.call('ACL', 'SETUSER', 't22-other', ...tenantAclRule('t22-other', passwords['t22-other']!));
});
after(async () => {
  admin.disconnect();
  await redis.close();
});

async function connect(tenant: string, walletMax = 0): Promise<Ledger> {
  const l = redisLedger({ url: urlOf(tenant), namespace: tenant, timeoutMs: 1000, walletMax }, silentLogger());
  await waitFor('ledger as a tenant', () => l.ping().then(() => true));
  return l;
}

// Every behaviour of the ledger, run as a tenant's ACL user in its namespace (one tenant per case: a fresh keyspace).
let n = 0;
ledgerBehaviour('redis as a tenant ACL user', (walletMax) => connect(`t22-acl${++n}`, walletMax));

describe('tenant isolation on one Redis (ACL users)', () => {
  it('a tenant reads and writes its own keys only: another tenant’s → NOPERM, KEYS/SCAN/admin → NOPERM, no credentials → NOAUTH', async () => {
    await admin.set('t22-other:hashes', '42');
    const a = client('t22-acl12');
    const anon = client();
    try {
      await a.set('t22-acl12:hashes', '7');
      assert.equal(await a.get('t22-acl12:hashes'), '7');
      const refused = async (what: string, p: Promise<unknown>, re = /NOPERM/) => assert.rejects(p, re, what);
      await refused('GET other', a.get('t22-other:hashes'));
      await refused('SET other', a.set('t22-other:hashes', '0'));
      await refused('MGET mixed', a.mget('t22-acl12:hashes', 't22-other:hashes'));
      await refused('unprefixed key', a.get('hashes'));
      await refused('KEYS *', a.keys('*'));
      await refused('SCAN', a.scan('0'));
      await refused('a script reading another tenant’s key', a.eval("return redis.call('GET', 't22-other:hashes')", 0), /can't access/);
      await refused('a script declaring it', a.eval("return redis.call('GET', KEYS[1])", 1, 't22-other:hashes'), /NOPERM|can't access/);
      for (const cmd of [
        ['CONFIG', 'GET', '*'],
        ['FLUSHALL'],
        ['FLUSHDB'],
        ['ACL', 'LIST'],
        ['CLIENT', 'LIST'],
        ['MONITOR'],
        ['SHUTDOWN'],
        ['RANDOMKEY'],
        ['SCRIPT', 'FLUSH'],
        ['SUBSCRIBE', 'x'],
        ['DBSIZE'],
      ] as const)
        await refused(cmd.join(' '), a.call(cmd[0], ...cmd.slice(1)));
      assert.equal(await admin.get('t22-other:hashes'), '42');
      await assert.rejects(anon.get('t22-other:hashes'), /NOAUTH/);
    } finally {
      a.disconnect();
      anon.disconnect();
    }
  });

  it('removing a tenant: SCAN + UNLINK of its prefix deletes its keys and nobody else’s; ACL DELUSER locks it out', async () => {
    await admin.set('t22-gone:a', '1');
    await admin.hset('t22-gone:wallet', 'x', 'y');
    await admin.set('t22-gone-not:a', '1');
    await admin.set('t22-other:keep', '1');
    passwords['t22-gone'] = randomBytes(18).toString('hex');
    await admin.call('ACL', 'SETUSER', 't22-gone', ...tenantAclRule('t22-gone', passwords['t22-gone']!));
    const gone = client('t22-gone');
    assert.equal(await gone.get('t22-gone:a'), '1');
    gone.disconnect();
    assert.equal(await admin.eval(UNLINK_PREFIX_LUA, 0, tenantKeyPattern('t22-gone')), 2);
    await admin.call('ACL', 'DELUSER', 't22-gone');
    assert.deepEqual(await admin.keys('t22-gone:*'), []);
    assert.equal(await admin.get('t22-gone-not:a'), '1');
    assert.equal(await admin.get('t22-other:keep'), '1');
    const again = client('t22-gone');
    await assert.rejects(again.get('t22-gone:a'), /WRONGPASS|NOAUTH|invalid username-password/i);
    again.disconnect();
  });
});
