// Operating it: metrics move under load, probes ignore fault injection, shutdown drains then exits, logs have a shape.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { HttpService } from '../../src/platform/http-service.js';
import { createRng } from '../../src/rng/app.js';
import { freePort, get, metric } from '../helpers/net.js';
import { Proc } from '../helpers/proc.js';
import { silentLogger, testConfig } from '../helpers/quiet.js';

async function rng(env: Record<string, string> = {}): Promise<{ svc: HttpService; url: string }> {
  const svc = await createRng({ config: testConfig(env), logger: silentLogger(), replica: 'rng-ops' });
  return { svc, url: `http://127.0.0.1:${await svc.listen(0, '127.0.0.1')}` };
}

describe('metrics under load', () => {
  it('count requests by route and status, time them, and show the queue while it exists', async () => {
    const { svc, url } = await rng({ RNG_DELAY_MS: '20' });
    try {
      const burst = Promise.all(Array.from({ length: 20 }, () => get(`${url}/16`)));
      await sleep(60);
      const depth = await metric(`${url}/metrics`, 'dockercoins_rng_queue_depth');
      const inFlight = await metric(`${url}/metrics`, 'dockercoins_rng_in_flight');
      await burst;
      await Promise.all([get(`${url}/x`), get(`${url}/99999999`)]);
      const m = `${url}/metrics`;
      assert.ok(depth >= 10, `queue depth during the burst: ${depth}`);
      assert.equal(inFlight, 1);
      assert.equal(await metric(m, 'dockercoins_http_requests_total', 'route="/:n",status="200"'), 20);
      assert.equal(await metric(m, 'dockercoins_http_requests_total', 'route="/:n",status="404"'), 1);
      assert.equal(await metric(m, 'dockercoins_http_requests_total', 'route="/:n",status="413"'), 1);
      assert.equal(await metric(m, 'dockercoins_http_request_duration_seconds_count', 'route="/:n",status="200"'), 20);
      const sum = await metric(m, 'dockercoins_http_request_duration_seconds_sum', 'route="/:n",status="200"');
      assert.ok(sum >= 20 * 0.02 * 5, `queueing shows in the latency sum: ${sum}`);
      assert.equal(await metric(m, 'dockercoins_rng_bytes_total'), 320);
      assert.equal(await metric(m, 'dockercoins_rng_queue_wait_seconds_count'), 20);
      assert.equal(await metric(m, 'dockercoins_rng_queue_depth'), 0);
    } finally {
      await svc.close(0, 500);
    }
  });
});

describe('fault injection', () => {
  it('FAULT_ERROR_RATE=1 fails every request but never the probes or /metrics', async () => {
    const { svc, url } = await rng({ RNG_DELAY_MS: '0', FAULT_ERROR_RATE: '1' });
    try {
      const res = await get(`${url}/8`);
      assert.equal(res.status, 500);
      assert.match(await res.text(), /injected fault/);
      for (const p of ['healthz', 'readyz', 'metrics']) assert.equal((await get(`${url}/${p}`)).status, 200, p);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('is changed at runtime on /admin/faults: latency, unready, hang; probes stay fast', async () => {
    const { svc, url } = await rng({ RNG_DELAY_MS: '0' });
    try {
      let res = await get(`${url}/admin/faults?latency_ms=200&unready=on`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { latencyMs: 200, errorRate: 0, hangRate: 0, unready: true });
      let t0 = performance.now();
      assert.equal((await get(`${url}/8`)).status, 200);
      assert.ok(performance.now() - t0 >= 190, 'latency added');
      t0 = performance.now();
      assert.equal((await get(`${url}/healthz`)).status, 200);
      const ready = await get(`${url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), /fault injection: unready/);
      assert.ok(performance.now() - t0 < 100, 'probes are not delayed');

      await get(`${url}/admin/faults?latency_ms=0&unready=off&hang_rate=1`, { method: 'POST' });
      await assert.rejects(get(`${url}/8`, { timeoutMs: 300 }), /abort|timeout/i);
      assert.equal((await get(`${url}/healthz`)).status, 200);

      res = await get(`${url}/admin/faults?error_rate=7`, { method: 'POST' });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /error_rate/);
      res = await get(`${url}/admin/faults?explode=1`, { method: 'POST' });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /unknown fault setting\(s\): explode/);

      res = await get(`${url}/admin/faults`, { method: 'DELETE' });
      assert.deepEqual(await res.json(), { latencyMs: 0, errorRate: 0, hangRate: 0, unready: false });
      assert.equal((await get(`${url}/8`)).status, 200);
      assert.equal((await get(`${url}/readyz`)).status, 200);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('ADMIN_ROUTES=off removes the admin route', async () => {
    const { svc, url } = await rng({ ADMIN_ROUTES: 'off' });
    try {
      assert.equal((await get(`${url}/admin/faults`)).status, 404);
    } finally {
      await svc.close(0, 500);
    }
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM: readiness fails at once, requests are still served through DRAIN_MS, then exit 0', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const p = new Proc(['rng'], { HOST: '127.0.0.1', PORT: String(port), DRAIN_MS: '800', RNG_DELAY_MS: '10' });
    await p.waitHttp(`${url}/healthz`);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    await sleep(150);
    const ready = await get(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /shutting down/);
    assert.equal((await get(`${url}/32`)).status, 200, 'still serving while draining');
    const code = await p.exited;
    const ms = Date.now() - t0;
    assert.equal(code, 0);
    assert.ok(ms >= 800 && ms < 2000, `exit after ${ms} ms (drain 800)`);
    assert.match(p.output, /draining for 800 ms/);
  });

  it('with DRAIN_MS=0 a service exits within 300 ms, finishing the request in flight', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const p = new Proc(['hasher'], { HOST: '127.0.0.1', PORT: String(port), DRAIN_MS: '0', HASHER_DELAY_MS: '150' });
    await p.waitHttp(`${url}/healthz`);
    const inFlight = get(`${url}/`, { method: 'POST', body: 'abc' });
    await sleep(30);
    const { code, ms } = await p.stop('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200, 'the in-flight request was finished');
    assert.equal((await res.text()).length, 64);
    assert.equal(code, 0);
    assert.ok(ms < 400, `exit ${ms} ms after SIGTERM`);
  });
});

describe('logs', () => {
  it('LOG_FORMAT=json: one JSON object per line, access lines with method, path, status, ms, replica', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const p = new Proc(['rng'], { HOST: '127.0.0.1', PORT: String(port), DRAIN_MS: '0', LOG_FORMAT: 'json', HOSTNAME: 'rng-7f9c', RNG_DELAY_MS: '0' });
    try {
      await p.waitHttp(`${url}/healthz`);
      await get(`${url}/32`);
      await get(`${url}/nope`);
      await p.waitOutput(/"path":"\/nope"/);
    } finally {
      await p.stop();
    }
    const lines = p.output.trim().split('\n');
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = objs.find((o) => o.path === '/32')!;
    assert.equal(access.level, 'info');
    assert.equal(access.svc, 'rng');
    assert.equal(access.method, 'GET');
    assert.equal(access.status, 200);
    assert.equal(access.replica, 'rng-7f9c');
    assert.equal(typeof access.ms, 'number');
    assert.ok(objs.every((o) => typeof o.time === 'number' && typeof o.msg === 'string'));
    assert.ok(!objs.some((o) => o.path === '/healthz'), 'probes are logged at debug only');
  });

  it('never prints the Redis password', async () => {
    const port = await freePort();
    const p = new Proc(['webui'], { HOST: '127.0.0.1', PORT: String(port), DRAIN_MS: '0', REDIS_URL: `redis://:hunter2secret@127.0.0.1:${await freePort()}` });
    try {
      await p.waitHttp(`http://127.0.0.1:${port}/healthz`);
      await get(`http://127.0.0.1:${port}/json`);
      await p.waitOutput(/ledger/);
    } finally {
      await p.stop();
    }
    assert.doesNotMatch(p.output, /hunter2secret/);
    assert.match(p.output, /redis:\/\/:\*\*\*@127\.0\.0\.1/);
  });
});
