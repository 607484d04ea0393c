// The fast lanes of rng and hasher (turbo, and the workshop's delays and queue) answer on node:http exactly as the
// fastify routes would: same status, headers and body, counted in the same series; anything else (a fault, a full
// queue, a traced request in rng's queue, a body without a length, a stop) goes through fastify. Real sockets in this process: the lanes sit below fastify's inject().
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createHasher } from '../../src/hasher/app.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { createLogger } from '../../src/platform/logger.js';
import { createRng } from '../../src/rng/app.js';
import { metricOf } from '../helpers/inject.js';
import { serviceBase, testConfig } from '../helpers/quiet.js';

const TURBO = { RNG_DELAY_MS: '0', RNG_CONCURRENCY: '0', HASHER_DELAY_MS: '0', ACCESS_LOG: 'off' };

async function serve(make: (env: Record<string, string>) => Promise<HttpService>, env: Record<string, string>) {
  const svc = await make(env);
  return { svc, port: await svc.listen(0, '127.0.0.1') };
}
const rng = (env: Record<string, string>) =>
  serve(async (e) => {
    const c = testConfig(e);
    return createRng(serviceBase(c, 'rng-lane'), c.rng);
  }, env);
const hasher = (env: Record<string, string>) =>
  serve(async (e) => {
    const c = testConfig(e);
    return createHasher(serviceBase(c, 'hasher-lane'), c.hasher);
  }, env);

/** One raw HTTP exchange: status, headers, body. `chunked` sends the body without a length. */
function call(port: number, method: string, path: string, body?: Buffer, chunked = false) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const headers: Record<string, string> = body ? { 'content-type': 'application/octet-stream' } : {};
    if (body && !chunked) headers['content-length'] = String(body.length);
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const shape = (r: Awaited<ReturnType<typeof call>>) => ({
  status: r.status,
  type: r.headers['content-type'],
  length: r.headers['content-length'],
  servedBy: r.headers['x-served-by'],
  version: typeof r.headers['x-dockercoins-version'],
});

describe('fast lanes', () => {
  it('rng: GET /<n> in turbo answers as the fastify route does, counted in the same series', async () => {
    const lane = await rng(TURBO);
    const slow = await rng({ ...TURBO, FAULT_LATENCY_MS: '1' }); // a fault is injected: fastify answers
    try {
      const [a, b] = [await call(lane.port, 'GET', '/32'), await call(slow.port, 'GET', '/32')];
      assert.deepEqual(shape(a), shape(b));
      assert.equal(a.body.length, 32);
      assert.deepEqual(shape(a), { status: 200, type: 'application/octet-stream', length: '32', servedBy: 'rng-lane', version: 'string' });
      for (const path of ['/abc', '/99999999999', '/32?x=1'])
        assert.equal((await call(lane.port, 'GET', path)).status, (await call(slow.port, 'GET', path)).status, path);
      assert.equal((await call(lane.port, 'POST', '/32', Buffer.from('x'))).status, 405);
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_http_requests_total', 'method="GET",route="/:n",status="200"'), 2, '/32 and /32?x=1');
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_rng_bytes_total'), 64);
    } finally {
      await Promise.all([lane.svc.close(0, 300), slow.svc.close(0, 300)]);
    }
  });

  it('writes the same access line as fastify does', async () => {
    const lines: string[] = [];
    const out = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const c = testConfig({ ...TURBO, ACCESS_LOG: 'on' });
    const svc = await createRng(
      { replica: 'rng-log', server: c.server, logger: createLogger({ service: 'rng', level: 'info', format: 'json', hostname: 'h', out }) },
      c.rng,
    );
    try {
      const port = await svc.listen(0, '127.0.0.1');
      await call(port, 'GET', '/16');
      svc.faults.settings = { ...svc.faults.settings, latencyMs: 1 };
      await call(port, 'GET', '/16');
      const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => o.path === '/16');
      assert.equal(access.length, 2, 'one line from the lane, one from fastify');
      for (const o of access) {
        assert.equal(o.method, 'GET');
        assert.equal(o.status, 200);
        assert.equal(o.replica, 'rng-log');
        assert.match(String(o.msg), /^GET \/16 200 \d+\.\dms$/);
      }
    } finally {
      await svc.close(0, 300);
    }
  });

  it('rng: a fault or a queue sends requests through fastify again', async () => {
    const lane = await rng(TURBO);
    try {
      lane.svc.faults.settings = { ...lane.svc.faults.settings, errorRate: 1 };
      assert.equal((await call(lane.port, 'GET', '/32')).status, 500, 'the injected fault is applied');
      lane.svc.faults.settings = { ...lane.svc.faults.settings, errorRate: 0 };
      assert.equal((await call(lane.port, 'GET', '/32')).status, 200);
    } finally {
      await lane.svc.close(0, 300);
    }
  });

  it("rng: with the delay and the queue (the workshop's defaults) answers as the fastify route does, in FIFO order", async () => {
    // 150 ms: the three calls below reach rng well within one delay of each other, even on a busy machine.
    const env = { RNG_DELAY_MS: '150', RNG_CONCURRENCY: '1', ACCESS_LOG: 'off' };
    const lane = await rng(env);
    const slow = await rng({ ...env, FAULT_LATENCY_MS: '1' });
    try {
      const [a, b] = [await call(lane.port, 'GET', '/32'), await call(slow.port, 'GET', '/32')];
      assert.deepEqual({ ...shape(a), depth: a.headers['x-rng-queue-depth'] }, { ...shape(b), depth: b.headers['x-rng-queue-depth'] });
      assert.deepEqual(
        { ...shape(a), depth: a.headers['x-rng-queue-depth'] },
        {
          status: 200,
          type: 'application/octet-stream',
          length: '32',
          servedBy: 'rng-lane',
          version: 'string',
          depth: '0',
        },
      );
      const started = performance.now();
      const done: string[] = [];
      await Promise.all([1, 2, 3].map((i) => call(lane.port, 'GET', `/${i}`).then((r) => done.push(String(r.headers['x-rng-queue-depth'])))));
      // Each says how many were waiting when it came (the first goes straight in); FIFO: answered in that order.
      assert.deepEqual(done, ['0', '0', '1']);
      assert.ok(performance.now() - started >= 3 * 150 - 5, 'three delays one after the other');
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_http_requests_total', 'method="GET",route="/:n",status="200"'), 4);
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_rng_bytes_total'), 32 + 1 + 2 + 3);
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_rng_queue_wait_seconds_count'), 4);
    } finally {
      await Promise.all([lane.svc.close(0, 300), slow.svc.close(0, 300)]);
    }
  });

  it("rng: a full queue is answered by fastify's route (503, retry-after)", async () => {
    const lane = await rng({ RNG_DELAY_MS: '200', RNG_CONCURRENCY: '1', RNG_QUEUE_LIMIT: '1', ACCESS_LOG: 'off' });
    try {
      const inside = call(lane.port, 'GET', '/8');
      await new Promise((r) => setTimeout(r, 50));
      const waiting = call(lane.port, 'GET', '/8');
      await new Promise((r) => setTimeout(r, 50));
      const refused = await call(lane.port, 'GET', '/8');
      assert.equal(refused.status, 503);
      assert.equal(refused.headers['retry-after'], '1');
      assert.match(refused.body.toString(), /RNG_QUEUE_LIMIT is 1/);
      assert.deepEqual([(await inside).status, (await waiting).status], [200, 200]);
    } finally {
      await lane.svc.close(0, 300);
    }
  });

  it('hasher: with its delay answers as the fastify route does, after the delay', async () => {
    const env = { HASHER_DELAY_MS: '30', ACCESS_LOG: 'off' };
    const lane = await hasher(env);
    const slow = await hasher({ ...env, FAULT_LATENCY_MS: '1' });
    try {
      const bytes = Buffer.from('hello dockercoins');
      const started = performance.now();
      const [a, b] = await Promise.all([call(lane.port, 'POST', '/', bytes), call(slow.port, 'POST', '/', bytes)]);
      assert.ok(performance.now() - started >= 30 - 5, 'after HASHER_DELAY_MS');
      assert.equal(a.body.toString(), createHash('sha256').update(bytes).digest('hex'));
      assert.deepEqual(shape(a), { ...shape(b), servedBy: 'hasher-lane' });
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_hasher_hashes_total'), 1);
    } finally {
      await Promise.all([lane.svc.close(0, 300), slow.svc.close(0, 300)]);
    }
  });

  it('hasher: POST / with a length answers as the fastify route does; without one, or too large, fastify answers', async () => {
    const lane = await hasher({ ...TURBO, HASHER_MAX_BYTES: '1000' });
    try {
      const bytes = Buffer.from('hello dockercoins');
      const hex = createHash('sha256').update(bytes).digest('hex');
      const [a, b] = [await call(lane.port, 'POST', '/', bytes), await call(lane.port, 'POST', '/', bytes, true)];
      assert.equal(a.body.toString(), hex);
      assert.equal(b.body.toString(), hex);
      assert.deepEqual(shape(a), { ...shape(b), length: '64' });
      assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal((await call(lane.port, 'POST', '/', Buffer.alloc(1001))).status, 413);
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_http_requests_total', 'method="POST",route="/",status="200"'), 2);
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_hasher_hashes_total'), 2);
      assert.equal(await metricOf(lane.svc.app, 'dockercoins_hasher_bytes_total'), 2 * bytes.length);
    } finally {
      await lane.svc.close(0, 300);
    }
  });
});
