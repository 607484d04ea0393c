// webui in this process through inject(), on the in-memory ledger (and on one that has lost its Redis).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Ledger } from '../../src/ledger/ledger.js';
import { memoryLedger } from '../../src/ledger/memory.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { createWebui } from '../../src/webui/app.js';
import { serviceBase, testConfig } from '../helpers/quiet.js';

/** The page's sources stand in for the built dashboard (dist/web): the unit tier needs no build. */
const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

function start(ledger: Ledger): Promise<HttpService> {
  const config = testConfig();
  return createWebui(serviceBase(config, 'webui-test'), { ledger, staticDir: WEB });
}

/** A ledger whose Redis is gone: every call fails, as ioredis does while disconnected. */
function unreachable(): Ledger {
  const fail = (msg: string) => async (): Promise<never> => {
    throw new Error(msg);
  };
  const l = memoryLedger();
  return {
    ...l,
    where: 'redis://nowhere:6379',
    accounts: { ...l.accounts, totals: fail("Stream isn't writeable") },
    ping: fail('connect ECONNREFUSED'),
  };
}

describe('webui', () => {
  const ledger = memoryLedger();
  let svc: HttpService;
  before(async () => {
    await ledger.accounts.addHashes({ worker: 'w', seq: 1, units: 42 });
    await ledger.accounts.addCoin('0abc', Buffer.from([1, 2, 3]));
    svc = await start(ledger);
  });
  after(() => svc.close(0, 500));

  it('GET / redirects (302) to /index.html', async () => {
    const res = await svc.app.inject('/');
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/index.html');
  });

  it('GET /json is {coins, hashes, now} as numbers', async () => {
    const res = await svc.app.inject('/json');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    const j = res.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(j).sort(), ['coins', 'hashes', 'now']);
    assert.equal(j.coins, 1);
    assert.equal(j.hashes, 42);
    assert.ok(typeof j.now === 'number' && Math.abs(j.now - Date.now() / 1000) < 5);
  });

  it('serves the dashboard with a strict CSP and nosniff', async () => {
    const res = await svc.app.inject('/index.html');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /DockerCoin/);
    assert.match(res.headers['content-security-policy'] as string, /default-src 'self'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const css = await svc.app.inject('/style.css');
    assert.equal(css.statusCode, 200);
    assert.match(css.headers['content-type'] as string, /^text\/css/);
  });

  it('never serves files outside its folder', async () => {
    for (const path of ['/../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/....//package.json', '/index.html/../../cli.js']) {
      const res = await svc.app.inject(path);
      assert.ok([400, 403, 404].includes(res.statusCode), `${path}: ${res.statusCode}`);
      assert.doesNotMatch(res.body, /"name": "dockercoins"/);
    }
  });

  it('is ready while its ledger answers', async () => {
    assert.equal((await svc.app.inject('/readyz')).statusCode, 200);
  });
});

describe('webui without its ledger', () => {
  it('answers /json 503 naming the ledger, readiness fails, liveness holds', async () => {
    const svc = await start(unreachable());
    try {
      const res = await svc.app.inject('/json');
      assert.equal(res.statusCode, 503);
      assert.match(res.body, /cannot read the ledger at redis:\/\/nowhere:6379/);
      const ready = await svc.app.inject('/readyz');
      assert.equal(ready.statusCode, 503);
      assert.match(ready.body, /ECONNREFUSED/);
      assert.equal((await svc.app.inject('/healthz')).statusCode, 200);
    } finally {
      await svc.close(0, 500);
    }
  });
});
