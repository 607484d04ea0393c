// Operating it, in this process: metrics move under load, fault injection changes answers but never the probes.
// (Shutdown and logs of real processes: test/integration/process.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpService } from '../../src/platform/http-service.js';
import { createRng } from '../../src/rng/app.js';
import { FAULT_LATENCY_LIMIT } from '../../src/telemetry.js';
import { metricOf } from '../helpers/inject.js';
import { waitFor } from '../helpers/net.js';
import { serviceBase, testConfig } from '../helpers/quiet.js';

function rng(env: Record<string, string> = {}): Promise<HttpService> {
  const config = testConfig(env);
  return createRng(serviceBase(config, 'rng-ops'), config.rng);
}

describe('metrics under load', () => {
  it('count requests by route and status, time them, and show the queue while it exists', async () => {
    const svc = await rng({ RNG_DELAY_MS: '20' });
    const m = (name: string, labels = '') => metricOf(svc.app, name, labels);
    try {
      const burst = Promise.all(Array.from({ length: 20 }, () => svc.app.inject('/16')));
      await waitFor('a queue', async () => (await m('dockercoins_rng_queue_depth')) >= 10, 5000, 5);
      assert.equal(await m('dockercoins_rng_in_flight'), 1);
      await burst;
      await Promise.all([svc.app.inject('/x'), svc.app.inject('/99999999')]);
      assert.equal(await m('dockercoins_http_requests_total', 'route="/:n",status="200"'), 20);
      assert.equal(await m('dockercoins_http_requests_total', 'route="/:n",status="404"'), 1);
      assert.equal(await m('dockercoins_http_requests_total', 'route="/:n",status="413"'), 1);
      assert.equal(await m('dockercoins_http_request_duration_seconds_count', 'route="/:n",status="200"'), 20);
      const sum = await m('dockercoins_http_request_duration_seconds_sum', 'route="/:n",status="200"');
      assert.ok(sum >= 20 * 0.02 * 5, `queueing shows in the latency sum: ${sum}`);
      assert.equal(await m('dockercoins_rng_bytes_total'), 320);
      assert.equal(await m('dockercoins_rng_queue_wait_seconds_count'), 20);
      assert.equal(await m('dockercoins_rng_queue_depth'), 0);
    } finally {
      await svc.close(0, 500);
    }
  });
});

describe('fault injection', () => {
  it('FAULT_ERROR_RATE=1 fails every request but never the probes or /metrics', async () => {
    const svc = await rng({ RNG_DELAY_MS: '0', FAULT_ERROR_RATE: '1' });
    try {
      const res = await svc.app.inject('/8');
      assert.equal(res.statusCode, 500);
      assert.match(res.body, /injected fault/);
      for (const p of ['healthz', 'readyz', 'metrics']) assert.equal((await svc.app.inject(`/${p}`)).statusCode, 200, p);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('is changed at runtime on /admin/faults: latency, unready, hang; probes never wait for it', async () => {
    const svc = await rng({ RNG_DELAY_MS: '0' });
    const post = (query: string) => svc.app.inject({ method: 'POST', url: `/admin/faults?${query}` });
    try {
      // One limit for injected latency, the same as the lab's and FAULT_LATENCY_MS's.
      const over = await post(`latency_ms=${FAULT_LATENCY_LIMIT.max + 1}`);
      assert.equal(over.statusCode, 400);
      assert.match(over.body, /latency_ms: expected milliseconds 0-600000/);
      assert.equal((await post(`latency_ms=${FAULT_LATENCY_LIMIT.max}`)).statusCode, 200);
      let res = await post('latency_ms=300&unready=on');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { latencyMs: 300, errorRate: 0, hangRate: 0, unready: true });
      let done = false;
      const t0 = performance.now();
      const slow = svc.app.inject('/8').then((r) => {
        done = true;
        return r;
      });
      assert.equal((await svc.app.inject('/healthz')).statusCode, 200);
      const ready = await svc.app.inject('/readyz');
      assert.equal(ready.statusCode, 503);
      assert.match(ready.body, /fault injection: unready/);
      assert.equal(done, false, 'both probes answered while the slowed request was still waiting');
      assert.equal((await slow).statusCode, 200);
      assert.ok(performance.now() - t0 >= 290, 'latency added');

      await post('latency_ms=0&unready=off&hang_rate=1');
      // A hung request is only ended by its client: that takes a real socket.
      const url = `http://127.0.0.1:${await svc.listen(0, '127.0.0.1')}`;
      const hung = await fetch(`${url}/8`, { signal: AbortSignal.timeout(300) }).catch((err: Error) => err);
      assert.ok(hung instanceof Error, 'a hung request never answers');
      assert.equal((await svc.app.inject('/healthz')).statusCode, 200);

      res = await post('error_rate=7');
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /error_rate/);
      res = await post('explode=1');
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /unknown fault setting\(s\): explode/);

      res = await svc.app.inject({ method: 'DELETE', url: '/admin/faults' });
      assert.deepEqual(res.json(), { latencyMs: 0, errorRate: 0, hangRate: 0, unready: false });
      assert.equal((await svc.app.inject('/8')).statusCode, 200);
      assert.equal((await svc.app.inject('/readyz')).statusCode, 200);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('ADMIN_ROUTES=off removes the admin route', async () => {
    const svc = await rng({ ADMIN_ROUTES: 'off' });
    try {
      assert.equal((await svc.app.inject('/admin/faults')).statusCode, 404);
    } finally {
      await svc.close(0, 500);
    }
  });
});
