import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRng } from '../../src/rng/app.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { get, metric } from '../helpers/net.js';
import { silentLogger, testConfig } from '../helpers/quiet.js';

async function start(env: Record<string, string> = {}): Promise<{ svc: HttpService; url: string }> {
  const svc = await createRng({ config: testConfig(env), logger: silentLogger(), replica: 'rng-test' });
  const port = await svc.listen(0, '127.0.0.1');
  return { svc, url: `http://127.0.0.1:${port}` };
}

/** Fires n GET /<bytes> at once; resolves with the total wall time and each request's completion order. */
async function burst(url: string, n: number, bytes = 10): Promise<{ ms: number; sizes: number[] }> {
  const t0 = performance.now();
  const sizes = await Promise.all(Array.from({ length: n }, async () => (await (await get(`${url}/${bytes}`, { timeoutMs: 20_000 })).arrayBuffer()).byteLength));
  return { ms: performance.now() - t0, sizes };
}

describe('rng routes', () => {
  let svc: HttpService;
  let url: string;
  before(async () => ({ svc, url } = await start({ RNG_MAX_BYTES: '1000' })));
  after(() => svc.close(0, 500));

  it('GET / is the banner with the hostname', async () => {
    const res = await get(`${url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/plain/);
    assert.equal(await res.text(), 'RNG running on test-host\n');
    assert.equal(res.headers.get('x-served-by'), 'rng-test');
    assert.ok(res.headers.get('x-dockercoins-version'));
  });

  it('GET /<n> answers exactly n random bytes as octet-stream', async () => {
    const a = await get(`${url}/32`);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), 'application/octet-stream');
    const x = Buffer.from(await a.arrayBuffer());
    const y = Buffer.from(await (await get(`${url}/32`)).arrayBuffer());
    assert.equal(x.length, 32);
    assert.notDeepEqual(x, y);
    assert.equal((await (await get(`${url}/0`)).arrayBuffer()).byteLength, 0);
    assert.equal((await (await get(`${url}/0007`)).arrayBuffer()).byteLength, 7);
    assert.equal((await (await get(`${url}/1000`)).arrayBuffer()).byteLength, 1000);
  });

  for (const path of ['/abc', '/-1', '/1e3', '/0x10', '/%20', '/1.5', '/%E2%82%AC']) {
    it(`GET ${path} is 404 with an explanation`, async () => {
      const res = await get(`${url}${path}`);
      assert.equal(res.status, 404);
      assert.match(await res.text(), /^rng: .*not a byte count.*\n$/);
    });
  }

  it('GET /<n> over RNG_MAX_BYTES is 413 at once', async () => {
    for (const n of ['1001', '99999999999', '9'.repeat(500)]) {
      const t0 = performance.now();
      const res = await get(`${url}/${n}`);
      assert.equal(res.status, 413);
      assert.match(await res.text(), /RNG_MAX_BYTES \(1000\)/);
      assert.ok(performance.now() - t0 < 90, 'no delay before a 413');
    }
  });

  it('unknown routes are 404, wrong methods 405 with Allow', async () => {
    assert.equal((await get(`${url}/a/b`)).status, 404);
    const res = await get(`${url}/32`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 405);
    assert.match(res.headers.get('allow')!, /GET/);
    assert.match(await res.text(), /POST not allowed/);
  });

  it('has probes and Prometheus metrics', async () => {
    assert.equal((await get(`${url}/healthz`)).status, 200);
    assert.equal((await get(`${url}/readyz`)).status, 200);
    const m = await get(`${url}/metrics`);
    assert.match(m.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await m.text();
    assert.match(text, /^dockercoins_rng_queue_depth\{service="rng",replica="rng-test"\} 0$/m);
    assert.match(text, /^process_resident_memory_bytes /m);
    assert.ok((await metric(`${url}/metrics`, 'dockercoins_http_requests_total', 'route="/:n"')) > 0);
  });
});

describe('rng serialisation', () => {
  it('with concurrency 1, 10 parallel requests take ~10 delays, in FIFO order; healthz and banner do not wait', async () => {
    const { svc, url } = await start({ RNG_DELAY_MS: '50' });
    try {
      const running = burst(url, 10);
      await new Promise((r) => setTimeout(r, 60));
      const t0 = performance.now();
      assert.equal((await get(`${url}/healthz`)).status, 200);
      assert.equal((await get(`${url}/`)).status, 200);
      assert.ok(performance.now() - t0 < 50, 'probe and banner answered while the queue is full');
      assert.ok((await metric(`${url}/metrics`, 'dockercoins_rng_queue_depth')) >= 5);
      const { ms } = await running;
      assert.ok(ms >= 480, `10 × 50 ms serialised took ${ms.toFixed(0)} ms`);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('with RNG_CONCURRENCY=0, 10 parallel requests take ~1 delay', async () => {
    const { svc, url } = await start({ RNG_DELAY_MS: '50', RNG_CONCURRENCY: '0' });
    try {
      const { ms } = await burst(url, 10);
      assert.ok(ms < 400, `took ${ms.toFixed(0)} ms`);
      assert.ok(ms >= 50);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('RNG_CONCURRENCY=3 lets three in at once', async () => {
    const { svc, url } = await start({ RNG_DELAY_MS: '60', RNG_CONCURRENCY: '3' });
    try {
      const { ms } = await burst(url, 6);
      assert.ok(ms >= 120 && ms < 400, `6 requests, 3 at a time, 60 ms each: ${ms.toFixed(0)} ms`);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('refuses with 503 when RNG_QUEUE_LIMIT requests are already waiting', async () => {
    const { svc, url } = await start({ RNG_DELAY_MS: '100', RNG_QUEUE_LIMIT: '2' });
    try {
      const statuses = await Promise.all(Array.from({ length: 6 }, async () => (await get(`${url}/1`, { timeoutMs: 5000 })).status));
      assert.equal(statuses.filter((s) => s === 200).length, 3, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 503).length, 3);
      assert.equal(await metric(`${url}/metrics`, 'dockercoins_rng_rejected_total'), 3);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('a client that leaves the queue frees its place', async () => {
    const { svc, url } = await start({ RNG_DELAY_MS: '100' });
    try {
      const gone = Array.from({ length: 5 }, () => get(`${url}/1`, { timeoutMs: 150 }).catch(() => 'aborted'));
      await Promise.all(gone);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await metric(`${url}/metrics`, 'dockercoins_rng_queue_depth'), 0);
      assert.ok((await metric(`${url}/metrics`, 'dockercoins_rng_abandoned_total')) >= 3);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('LIVENESS_MODE=naive makes /healthz wait in the queue (the trap the slides show)', async () => {
    const { svc, url } = await start({ RNG_DELAY_MS: '100', LIVENESS_MODE: 'naive' });
    try {
      const running = burst(url, 5);
      await new Promise((r) => setTimeout(r, 20));
      const t0 = performance.now();
      assert.equal((await get(`${url}/healthz`)).status, 200);
      assert.ok(performance.now() - t0 >= 400, 'the naive probe queued behind real work');
      await running;
    } finally {
      await svc.close(0, 500);
    }
  });
});
