// The services as separate processes, as containers run them, around a real redis-server:
// nothing lost on SIGTERM, Redis and rng failing mid-run, tenants side by side.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, json, metric, waitFor } from '../helpers/net.js';
import { type Proc, startService, startWorker, stopAll } from '../helpers/proc.js';
import { TestRedis } from '../helpers/redis.js';
import { Relay } from '../helpers/relay.js';

const FAST = { RNG_DELAY_MS: '5', HASHER_DELAY_MS: '5', WORKER_DELAY_MS: '5', RNG_CONCURRENCY: '0', FLUSH_INTERVAL_MS: '200', RETRY_MAX_MS: '500' };

async function service(kind: 'rng' | 'hasher' | 'webui', env: Record<string, string>, procs: Proc[]): Promise<{ p: Proc; url: string }> {
  const s = await startService(kind, env);
  procs.push(s.p);
  return s;
}

async function worker(env: Record<string, string>, procs: Proc[]) {
  const w = await startWorker(env);
  procs.push(w.p);
  return w;
}

/** The worker's last words: "stopped: N units done, M flushed". */
function finalCounts(p: Proc): { done: number; flushed: number } {
  const m = /stopped: (\d+) units done, (\d+) flushed/.exec(p.output);
  assert.ok(m, `no final line in: ${p.output.slice(-400)}`);
  return { done: Number(m[1]), flushed: Number(m[2]) };
}

describe('separate processes on a real Redis', () => {
  const procs: Proc[] = [];
  const redis = new TestRedis();
  let rng: { p: Proc; url: string };
  let hasher: { p: Proc; url: string };
  before(async () => {
    await redis.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    rng = await service('rng', FAST, procs);
    hasher = await service('hasher', FAST, procs);
  });
  after(async () => {
    await stopAll(procs);
    await redis.close();
  });

  const env = (ns: string) => ({ ...FAST, REDIS_URL: redis.url, RNG_URL: rng.url, HASHER_URL: hasher.url, DOCKERCOINS_NAMESPACE: ns });

  it('worker: probes and metrics on METRICS_PORT; SIGTERM loses no unit', async () => {
    const served0 = await metric(`${hasher.url}/metrics`, 'dockercoins_hasher_hashes_total');
    const w = await worker(env('sigterm'), procs);
    await waitFor('worker ready', async () => (await get(`${w.url}/readyz`)).status === 200);
    await waitFor('units', async () => (await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total')) > 100);
    const { code } = await w.p.stop('SIGTERM');
    assert.equal(code, 0);
    assert.doesNotMatch(w.p.output, /still stopping at the deadline/, 'nothing cut at the SHUTDOWN_TIMEOUT_MS deadline');
    const { done, flushed } = finalCounts(w.p);
    const raw = redis.client();
    const inRedis = Number(await raw.get('sigterm:hashes'));
    raw.disconnect();
    const served = (await metric(`${hasher.url}/metrics`, 'dockercoins_hasher_hashes_total')) - served0;
    assert.equal(inRedis, done);
    assert.equal(flushed, done);
    assert.ok(served - inRedis >= 0 && served - inRedis <= 1, `hasher served ${served}, Redis has ${inRedis} (only the abandoned in-flight unit may differ)`);
  });

  it('WORKER_CONCURRENCY runs several loops in one process, each counted, all flushed on SIGTERM', async () => {
    const w = await worker({ ...env('loops'), WORKER_CONCURRENCY: '3' }, procs);
    await waitFor('units', async () => (await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total')) > 60);
    for (const name of ['worker.1', 'worker.2', 'worker.3']) {
      assert.ok((await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total', `worker="${name}"`)) > 0, name);
    }
    await w.p.stop('SIGTERM');
    const raw = redis.client();
    assert.equal(Number(await raw.get('loops:hashes')), finalCounts(w.p).done);
    raw.disconnect();
    assert.match(w.p.output, /^worker\.3 +\|/m);
  });

  it('Redis stopped and restarted mid-run: the worker survives, keeps counting, and catches up exactly', async () => {
    const w = await worker(env('outage'), procs);
    const web = await service('webui', { REDIS_URL: redis.url, DOCKERCOINS_NAMESPACE: 'outage' }, procs);
    await waitFor('flushes', async () => (await json<{ hashes: number }>(`${web.url}/json`)).hashes > 50);
    await redis.stop();
    const unitsAtOutage = await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total');
    await sleep(1500);
    assert.ok(w.p.alive, 'worker still running');
    assert.ok((await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total')) > unitsAtOutage, 'still mining while Redis is down');
    assert.ok((await metric(`${w.url}/metrics`, 'dockercoins_worker_pending_units')) > 0, 'units held for the ledger');
    const ready = await get(`${w.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /ledger/);
    assert.equal((await get(`${web.url}/json`)).status, 503);
    assert.equal((await get(`${web.url}/readyz`)).status, 503);
    assert.equal((await get(`${web.url}/healthz`)).status, 200, 'liveness does not depend on Redis');
    await redis.start();
    await waitFor('webui recovers', async () => (await get(`${web.url}/readyz`)).status === 200, 10_000);
    await waitFor('worker recovers', async () => (await get(`${w.url}/readyz`)).status === 200, 10_000);
    await w.p.stop('SIGTERM');
    const { done } = finalCounts(w.p);
    assert.equal((await json<{ hashes: number }>(`${web.url}/json`)).hashes, done, 'every unit reached Redis once');
  });

  it('rng killed and restarted: the worker backs off, then recovers by itself', async () => {
    // rng comes back at the same address: a relay holds the address while rng itself gets a new port.
    const ownRng = await service('rng', FAST, procs);
    const relay = await new Relay().start();
    relay.retarget(Number(new URL(ownRng.url).port));
    const w = await worker({ ...env('rngdown'), RNG_URL: relay.url }, procs);
    await waitFor('units', async () => (await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total')) > 20);
    await ownRng.p.stop('SIGKILL');
    relay.retarget(undefined);
    const killedAt = Date.now();
    await sleep(300);
    const stuck = await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total');
    await sleep(1200);
    assert.equal(await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total'), stuck);
    const retries = await metric(`${w.url}/metrics`, 'dockercoins_worker_retries_total', 'cause="rng"');
    const elapsed = Date.now() - killedAt;
    // Back-off 200 ms, 400 ms, then RETRY_MAX_MS (500 ms), with jitter: no more than one retry per 100 ms of the time
    // that really passed (a late timer only lengthens it); a loop without back-off would retry every ~5 ms.
    assert.ok(retries >= 1, `the worker retries rng: ${retries}`);
    assert.ok(retries <= elapsed / 100, `backs off instead of spinning: ${retries} retries in ${elapsed} ms`);
    assert.equal((await get(`${w.url}/healthz`)).status, 200);
    assert.equal((await get(`${w.url}/readyz`)).status, 503);
    const again = await service('rng', FAST, procs);
    relay.retarget(Number(new URL(again.url).port));
    await waitFor('recovery', async () => (await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total')) > stuck + 20, 10_000);
    await w.p.stop('SIGTERM');
    const raw = redis.client();
    assert.equal(Number(await raw.get('rngdown:hashes')), finalCounts(w.p).done);
    raw.disconnect();
    await relay.stop();
  });

  it('two namespaces on one Redis stay separate', async () => {
    const [a, b] = await Promise.all([worker(env('acme'), procs), worker({ ...env('globex'), WORKER_DELAY_MS: '50' }, procs)]);
    const [wa, wb] = await Promise.all([
      service('webui', { REDIS_URL: redis.url, DOCKERCOINS_NAMESPACE: 'acme' }, procs),
      service('webui', { REDIS_URL: redis.url, DOCKERCOINS_NAMESPACE: 'globex' }, procs),
    ]);
    await sleep(1500);
    await Promise.all([a.p.stop(), b.p.stop()]);
    const [ja, jb] = [await json<{ hashes: number }>(`${wa.url}/json`), await json<{ hashes: number }>(`${wb.url}/json`)];
    assert.equal(ja.hashes, finalCounts(a.p).done);
    assert.equal(jb.hashes, finalCounts(b.p).done);
    assert.notEqual(ja.hashes, jb.hashes);
    const raw = redis.client();
    assert.equal(await raw.exists('hashes'), 0, 'nothing written without the prefix');
    raw.disconnect();
  });
});
