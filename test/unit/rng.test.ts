// rng in this process through inject(). FIFO order, the queue and the probes that never wait in it are asserted by
// what happens and in which order, never by an upper bound on how long it took.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpService } from '../../src/platform/http-service.js';
import { createRng } from '../../src/rng/app.js';
import { metricOf } from '../helpers/inject.js';
import { waitFor } from '../helpers/net.js';
import { serviceBase, testConfig } from '../helpers/quiet.js';

async function start(env: Record<string, string> = {}): Promise<HttpService> {
  const config = testConfig(env);
  return createRng(serviceBase(config, 'rng-test'), config.rng);
}

describe('rng routes', () => {
  let svc: HttpService;
  before(async () => {
    svc = await start({ RNG_MAX_BYTES: '1000', RNG_DELAY_MS: '0' });
  });
  after(() => svc.close(0, 500));

  it('GET / is the banner with the hostname', async () => {
    const res = await svc.app.inject('/');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain/);
    assert.equal(res.body, 'RNG running on test-host\n');
  });

  it('GET /<n> answers exactly n random bytes as octet-stream', async () => {
    const a = await svc.app.inject('/32');
    assert.equal(a.statusCode, 200);
    assert.equal(a.headers['content-type'], 'application/octet-stream');
    const b = await svc.app.inject('/32');
    assert.equal(a.rawPayload.length, 32);
    assert.notDeepEqual(a.rawPayload, b.rawPayload);
    for (const [path, n] of [
      ['/0', 0],
      ['/0007', 7],
      ['/1000', 1000],
    ] as const)
      assert.equal((await svc.app.inject(path)).rawPayload.length, n);
  });

  for (const path of ['/abc', '/-1', '/1e3', '/0x10', '/%20', '/1.5', '/%E2%82%AC']) {
    it(`GET ${path} is 404 with an explanation`, async () => {
      const res = await svc.app.inject(path);
      assert.equal(res.statusCode, 404);
      assert.match(res.body, /^rng: .*not a byte count.*\n$/);
    });
  }

  it('unknown routes are 404, wrong methods 405 with Allow', async () => {
    assert.equal((await svc.app.inject('/a/b')).statusCode, 404);
    const res = await svc.app.inject({ method: 'POST', url: '/32', payload: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.statusCode, 405);
    assert.match(res.headers.allow as string, /GET/);
    assert.match(res.body, /POST not allowed/);
  });

  it('has probes and Prometheus metrics', async () => {
    assert.equal((await svc.app.inject('/healthz')).statusCode, 200);
    assert.equal((await svc.app.inject('/readyz')).statusCode, 200);
    const m = await svc.app.inject('/metrics');
    assert.match(m.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    assert.match(m.body, /^dockercoins_rng_queue_depth\{service="rng",replica="rng-test"\} 0$/m);
    assert.match(m.body, /^process_resident_memory_bytes /m);
    assert.ok((await metricOf(svc.app, 'dockercoins_http_requests_total', 'route="/:n"')) > 0);
  });
});

describe('rng serialisation', () => {
  /** Fires n GET /<bytes>; records the order in which they complete. */
  function burst(svc: HttpService, n: number, path = '/10') {
    const done: number[] = [];
    const all = Array.from({ length: n }, (_, i) =>
      svc.app.inject(path).then((r) => {
        done.push(i);
        return r;
      }),
    );
    return { done, all: Promise.all(all) };
  }
  const depth = (svc: HttpService) => metricOf(svc.app, 'dockercoins_rng_queue_depth');
  const inFlight = (svc: HttpService) => metricOf(svc.app, 'dockercoins_rng_in_flight');

  it('with concurrency 1, parallel requests are served one at a time, in FIFO order; the probes never wait', async () => {
    const svc = await start({ RNG_DELAY_MS: '250' });
    try {
      const t0 = performance.now();
      const b = burst(svc, 6);
      await waitFor('a full queue', async () => (await depth(svc)) === 5, 5000, 5);
      for (const probe of ['/healthz', '/readyz', '/metrics']) assert.equal((await svc.app.inject(probe)).statusCode, 200, probe);
      assert.deepEqual(b.done, [], 'the probes were answered before the first queued request');
      const max = { inside: 0 };
      const watch = setInterval(async () => (max.inside = Math.max(max.inside, await inFlight(svc))), 5);
      const results = await b.all;
      clearInterval(watch);
      assert.deepEqual(b.done, [0, 1, 2, 3, 4, 5], 'FIFO');
      assert.equal(max.inside, 1, 'never two inside at once');
      assert.ok(performance.now() - t0 >= 6 * 250, 'six delays, one after the other');
      assert.ok(results.every((r) => r.statusCode === 200 && r.rawPayload.length === 10));
      assert.equal(await depth(svc), 0);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('the banner (GET and HEAD /) waits its turn in the FIFO, with no delay of its own', async () => {
    const svc = await start({ RNG_DELAY_MS: '200' });
    try {
      const order: string[] = [];
      const track = (name: string, p: Promise<{ statusCode: number; body: string }>) =>
        p.then((r) => {
          order.push(name);
          return r;
        });
      const first = [track('/10 a', svc.app.inject('/10')), track('/10 b', svc.app.inject('/10'))];
      await waitFor('one queued', async () => (await depth(svc)) === 1, 5000, 5);
      const get = track('GET /', svc.app.inject('/'));
      const head = track('HEAD /', svc.app.inject({ method: 'HEAD', url: '/' }));
      await waitFor('banner queued', async () => (await depth(svc)) === 3, 5000, 5);
      const last = track('/10 c', svc.app.inject('/10'));
      const [g, h] = await Promise.all([get, head, ...first, last]);
      assert.deepEqual(order, ['/10 a', '/10 b', 'GET /', 'HEAD /', '/10 c'], 'FIFO, the banner included');
      assert.equal(g.statusCode, 200);
      assert.equal(g.body, 'RNG running on test-host\n');
      assert.equal(h.statusCode, 200);
      assert.equal(h.body, '', 'HEAD has no body');
      assert.ok((await metricOf(svc.app, 'dockercoins_rng_queue_wait_seconds_count')) >= 5, 'the banner waits are in the wait histogram');
    } finally {
      await svc.close(0, 500);
    }
  });

  it('with RNG_CONCURRENCY=0 the banner is immediate, even while requests are inside', async () => {
    const svc = await start({ RNG_DELAY_MS: '300', RNG_CONCURRENCY: '0' });
    try {
      const b = burst(svc, 3);
      await waitFor('all inside', async () => (await inFlight(svc)) === 3, 5000, 5);
      assert.equal((await svc.app.inject({ method: 'HEAD', url: '/' })).statusCode, 200);
      assert.equal((await svc.app.inject('/')).body, 'RNG running on test-host\n');
      assert.deepEqual(b.done, [], 'the banner came back while the three were still inside');
      await b.all;
    } finally {
      await svc.close(0, 500);
    }
  });

  it('a request over RNG_MAX_BYTES is 413 at once, ahead of a full queue', async () => {
    const svc = await start({ RNG_DELAY_MS: '200', RNG_MAX_BYTES: '1000' });
    try {
      const b = burst(svc, 3);
      await waitFor('a queue', async () => (await depth(svc)) === 2);
      for (const n of ['1001', '99999999999', '9'.repeat(500)]) {
        const res = await svc.app.inject(`/${n}`);
        assert.equal(res.statusCode, 413);
        assert.match(res.body, /RNG_MAX_BYTES \(1000\)/);
      }
      assert.deepEqual(b.done, [], 'the 413s came back before the first queued request');
      await b.all;
    } finally {
      await svc.close(0, 500);
    }
  });

  it('with RNG_CONCURRENCY=0 every request is inside at once, none waits', async () => {
    const svc = await start({ RNG_DELAY_MS: '300', RNG_CONCURRENCY: '0' });
    try {
      const b = burst(svc, 10);
      await waitFor('all inside', async () => (await inFlight(svc)) === 10, 5000, 5);
      assert.equal(await depth(svc), 0);
      assert.deepEqual(b.done, []);
      await b.all;
    } finally {
      await svc.close(0, 500);
    }
  });

  it('RNG_CONCURRENCY=3 lets three in at once, the rest wait', async () => {
    const svc = await start({ RNG_DELAY_MS: '200', RNG_CONCURRENCY: '3' });
    try {
      const b = burst(svc, 6);
      await waitFor('three inside, three waiting', async () => (await inFlight(svc)) === 3 && (await depth(svc)) === 3, 5000, 5);
      assert.deepEqual(b.done, []);
      await b.all;
      assert.deepEqual(b.done.slice(0, 3).sort(), [0, 1, 2], 'the first three finish first');
    } finally {
      await svc.close(0, 500);
    }
  });

  it('refuses with 503 and Retry-After when RNG_QUEUE_LIMIT requests are already waiting', async () => {
    const svc = await start({ RNG_DELAY_MS: '100', RNG_QUEUE_LIMIT: '2' });
    try {
      const results = await burst(svc, 6, '/1').all;
      const statuses = results.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 200).length, 3, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 503).length, 3);
      assert.ok(results.filter((r) => r.statusCode === 503).every((r) => r.headers['retry-after'] === '1'));
      assert.equal(await metricOf(svc.app, 'dockercoins_rng_rejected_total'), 3);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('LIVENESS_MODE=naive makes /healthz wait in the queue (the trap the slides show)', async () => {
    const svc = await start({ RNG_DELAY_MS: '50', LIVENESS_MODE: 'naive' });
    try {
      const b = burst(svc, 5);
      await waitFor('a queue', async () => (await depth(svc)) === 4);
      const probe = await svc.app.inject('/healthz');
      assert.equal(probe.statusCode, 200);
      assert.equal(b.done.length, 5, 'the naive probe was answered only after the five units queued before it');
      await b.all;
    } finally {
      await svc.close(0, 500);
    }
  });
});

describe('rng queue and clients that leave', () => {
  it('a client that leaves the queue frees its place', async () => {
    const svc = await start({ RNG_DELAY_MS: '100' });
    const url = `http://127.0.0.1:${await svc.listen(0, '127.0.0.1')}`;
    try {
      const gone = Array.from({ length: 5 }, () => fetch(`${url}/1`, { signal: AbortSignal.timeout(150) }).catch(() => 'aborted'));
      await Promise.all(gone);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await metricOf(svc.app, 'dockercoins_rng_queue_depth'), 0);
      assert.ok((await metricOf(svc.app, 'dockercoins_rng_abandoned_total')) >= 3);
    } finally {
      await svc.close(0, 500);
    }
  });
});
