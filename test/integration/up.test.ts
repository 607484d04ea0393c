// `dockercoins up` as users run it: a real process, real ports, the contract's routes and its stop.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, json, metric, waitFor } from '../helpers/net.js';
import { startUp } from '../helpers/proc.js';
import { TestRedis } from '../helpers/redis.js';

describe('dockercoins up', () => {
  let sys: Awaited<ReturnType<typeof startUp>>;
  before(async () => (sys = await startUp()));
  after(() => sys.p.stop('SIGKILL'));

  it('serves the contract on 3 ports', async () => {
    assert.match(await (await get(`${sys.rng}/`)).text(), /^RNG running on /);
    assert.match(await (await get(`${sys.hasher}/`)).text(), /^HASHER running on /);
    assert.equal((await (await get(`${sys.rng}/32`)).arrayBuffer()).byteLength, 32);
    assert.equal((await get(`${sys.webui}/`, { redirect: 'manual' })).status, 302);
    for (const base of [sys.rng, sys.hasher, sys.webui]) {
      for (const route of ['healthz', 'readyz', 'metrics']) assert.equal((await get(`${base}/${route}`)).status, 200, `${base}/${route}`);
      const res = await get(`${base}/nope/nope`);
      assert.equal(res.status, 404);
      assert.match(await res.text(), /no route for GET \/nope\/nope/);
    }
  });

  it('mines: hashes and coins grow in /json', async () => {
    const a = await json<{ hashes: number; coins: number; now: number }>(`${sys.webui}/json`);
    await new Promise((r) => setTimeout(r, 2200));
    const b = await json<{ hashes: number; coins: number; now: number }>(`${sys.webui}/json`);
    assert.ok(b.hashes > a.hashes, `${a.hashes} → ${b.hashes}`);
    assert.ok(b.now > a.now);
  });

  it('writes one line per event, prefixed with the service name, worker lines like the original', async () => {
    await sys.p.waitOutput(/^worker\s+\| .* \d+ units of work done, updating hash counter$/m);
    assert.match(sys.p.output, /^rng\s+\| .*INFO +GET \/32 200 \d+\.\dms$/m);
    assert.match(sys.p.output, /^hasher\s+\| .*INFO +POST \/ 200 \d+\.\dms$/m);
  });

  // The contract's 1 s is the program's own deadline, passed to every component (what is unfinished then is cut):
  // asserted here is what it does — exit 0, every component stopped, in order — not how fast this machine is.
  it('stops on SIGINT with exit 0, every component in order (workers first, the ledger last), and a summary naming the total', async () => {
    const { code } = await sys.p.stop('SIGINT');
    assert.equal(code, 0);
    assert.doesNotMatch(sys.p.output, /still stopping at the/);
    assert.match(sys.p.output, /^dockercoins \| .*stopped workers → webui → hasher → rng → ledger( \(cut at the deadline: [^)]+\))?$/m);
    const summary = sys.p.output.trim().split('\n').pop()!;
    assert.match(summary, /stopped in \d+ ms — ledger: \d+ hashes, \d+ coins; this run: \d+ hashes in [\d.]+ s \([\d.]+ hashes\/s average\)/);
  });
});

describe('dockercoins up --turbo --scale … --redis', () => {
  const redis = new TestRedis();
  before(() => redis.start());
  after(() => redis.close());

  it('runs N replicas, logs them by number, and flushes every unit to Redis on SIGTERM', async () => {
    const sys = await startUp(['--turbo', '--scale', 'worker=4', '--scale=rng=2', '--scale', 'hasher=2', '--redis', redis.url]);
    try {
      await sys.p.waitOutput(/^worker\.4 +\|/m);
      await sys.p.waitOutput(/^rng\.2 +\|/m);
      assert.ok((await metric(`${sys.rng}/metrics`, 'dockercoins_rng_bytes_total')) > 0);
      await waitFor('hashes flushed', async () => (await json<{ hashes: number }>(`${sys.webui}/json`)).hashes > 100);
      const { code } = await sys.p.stop('SIGTERM');
      assert.equal(code, 0);
      assert.match(sys.p.output, /stopped workers → webui → hasher\.1 \+ hasher\.2 → rng\.1 \+ rng\.2 → ledger/);
      const raw = redis.client();
      const hashes = Number(await raw.get('hashes'));
      raw.disconnect();
      assert.ok(hashes > 100);
      const summary = sys.p.output.trim().split('\n').pop()!;
      assert.match(summary, new RegExp(`ledger: ${hashes} hashes.*this run: ${hashes} hashes`));
    } finally {
      await sys.p.stop('SIGKILL');
    }
  });
});
