import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Ledger } from '../../src/ledger/ledger.js';
import { MemoryLedger } from '../../src/ledger/memory.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { createWebui } from '../../src/webui/app.js';
import { get } from '../helpers/net.js';
import { silentLogger, testConfig } from '../helpers/quiet.js';

async function start(ledger: Ledger): Promise<{ svc: HttpService; url: string }> {
  const svc = await createWebui({ config: testConfig(), logger: silentLogger(), replica: 'webui-test', ledger });
  const port = await svc.listen(0, '127.0.0.1');
  return { svc, url: `http://127.0.0.1:${port}` };
}

/** A ledger whose Redis is gone: every call fails, as ioredis does while disconnected. */
class UnreachableLedger extends MemoryLedger {
  override readonly where: string = 'redis://nowhere:6379';
  override async totals(): Promise<never> {
    throw new Error("Stream isn't writeable");
  }
  override async ping(): Promise<never> {
    throw new Error('connect ECONNREFUSED');
  }
}

describe('webui', () => {
  const ledger = new MemoryLedger();
  let svc: HttpService;
  let url: string;
  before(async () => {
    await ledger.addHashes({ worker: 'w', seq: 1, units: 42 });
    await ledger.addCoin('0abc', Buffer.from([1, 2, 3]));
    ({ svc, url } = await start(ledger));
  });
  after(() => svc.close(0, 500));

  it('GET / redirects (302) to /index.html', async () => {
    const res = await get(`${url}/`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/index.html');
  });

  it('GET /json is {coins, hashes, now} as numbers', async () => {
    const res = await get(`${url}/json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    const j = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j).sort(), ['coins', 'hashes', 'now']);
    assert.equal(j.coins, 1);
    assert.equal(j.hashes, 42);
    assert.ok(typeof j.now === 'number' && Math.abs(j.now - Date.now() / 1000) < 5);
  });

  it('serves the dashboard with a strict CSP and nosniff', async () => {
    const res = await get(`${url}/index.html`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /DockerCoin/);
    assert.match(res.headers.get('content-security-policy')!, /default-src 'self'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await get(`${url}/app.js`)).status, 200);
    assert.equal((await get(`${url}/uplot.css`)).status, 200);
  });

  it('never serves files outside its folder', async () => {
    for (const path of ['/../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/....//package.json', '/index.html/../../cli.js']) {
      const res = await get(`${url}${path}`);
      assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status}`);
      assert.doesNotMatch(await res.text(), /"name": "dockercoins"/);
    }
  });

  it('is ready while its ledger answers', async () => {
    assert.equal((await get(`${url}/readyz`)).status, 200);
  });
});

describe('webui without its ledger', () => {
  it('answers /json 503 naming the ledger, readiness fails, liveness holds', async () => {
    const { svc, url } = await start(new UnreachableLedger());
    try {
      const res = await get(`${url}/json`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /cannot read the ledger at redis:\/\/nowhere:6379/);
      const ready = await get(`${url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), /ECONNREFUSED/);
      assert.equal((await get(`${url}/healthz`)).status, 200);
    } finally {
      await svc.close(0, 500);
    }
  });
});
