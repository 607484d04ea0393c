// The worker against rng and hasher in this process, its requests carried by inject(): every unit counted once,
// coins valid, the spread over replicas, back-off and recovery, a failing ledger, scaling at runtime.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config.js';
import { createHasher } from '../../src/hasher/app.js';
import { memoryLedger } from '../../src/ledger/memory.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { renderMetrics } from '../../src/platform/metrics.js';
import { createRng } from '../../src/rng/app.js';
import { WorkerGroup } from '../../src/worker/group.js';
import { backoff, isCoin } from '../../src/worker/loop.js';
import { InjectTransport, metricOf } from '../helpers/inject.js';
import { sample, waitFor } from '../helpers/net.js';
import { serviceBase, silentLogger, testConfig } from '../helpers/quiet.js';

const TURBO = { RNG_DELAY_MS: '0', HASHER_DELAY_MS: '0', WORKER_DELAY_MS: '0', RNG_CONCURRENCY: '0' };

/** rng replicas and one hasher, reachable at made-up origins through inject(). */
async function services(env: Record<string, string>, rngCount = 1) {
  const config = testConfig(env);
  const apps = new Map<string, FastifyInstance>();
  const rngs: HttpService[] = [];
  for (let i = 1; i <= rngCount; i++) {
    const svc = await createRng(serviceBase(config, `rng.${i}`), config.rng);
    apps.set(`http://10.0.1.${i}:80`, svc.app);
    rngs.push(svc);
  }
  const hasher = await createHasher(serviceBase(config, 'hasher'), config.hasher);
  apps.set('http://10.0.2.1:80', hasher.app);
  const workerConfig: Config = {
    ...config,
    worker: { ...config.worker, rngUrls: rngs.map((_, i) => `http://10.0.1.${i + 1}`), hasherUrls: ['http://10.0.2.1'] },
  };
  return { config: workerConfig, apps, rngs, hasher, close: () => Promise.all([...rngs, hasher].map((s) => s.close(0, 300))) };
}

function group(s: Awaited<ReturnType<typeof services>>, ledger = memoryLedger()) {
  const transport = new InjectTransport(s.apps);
  const g = new WorkerGroup({
    settings: s.config.worker,
    server: s.config.server,
    ledger,
    replica: 'test',
    logger: (name) => silentLogger(name),
    adminLogger: silentLogger(),
    transport: () => transport,
  });
  return { g, ledger };
}

describe('worker', () => {
  it('counts every unit the hasher served, keeps only valid coins, and loses nothing on stop', async () => {
    const s = await services({ ...TURBO, FLUSH_INTERVAL_MS: '200' });
    const ledger = memoryLedger();
    const coins: [string, Buffer][] = [];
    const addCoin = ledger.accounts.addCoin.bind(ledger.accounts);
    ledger.accounts.addCoin = async (hex, bytes) => {
      coins.push([hex, Buffer.from(bytes)]);
      return addCoin(hex, bytes);
    };
    const { g } = group(s, ledger);
    try {
      await g.start(1);
      await waitFor('some coins', async () => coins.length >= 5, 15_000);
      await g.stop();
      const w = g.loops[0]!;
      const served = await metricOf(s.hasher.app, 'dockercoins_hasher_hashes_total');
      const { hashes, coins: kept } = await ledger.accounts.totals();
      assert.equal(hashes, w.units, 'every unit done is in the ledger');
      assert.equal(w.unflushed, 0);
      assert.ok(served - hashes <= 1, `hasher served ${served}, ledger has ${hashes}: at most the abandoned in-flight unit differs`);
      assert.equal(kept, new Set(coins.map(([h]) => h)).size);
      for (const [hex, bytes] of coins) {
        assert.ok(hex.startsWith('0'));
        assert.equal(createHash('sha256').update(bytes).digest('hex'), hex);
        assert.equal(bytes.length, 32);
      }
      // Coins are ~1/16 of hashes.
      assert.ok(kept > hashes / 40 && kept < hashes / 6, `${kept} coins for ${hashes} hashes`);
    } finally {
      await g.stop();
      await s.close();
    }
  });

  it('spreads its requests over every rng URL', async () => {
    const s = await services(TURBO, 3);
    const { g } = group(s);
    try {
      await g.start(1);
      await waitFor('300 units', async () => g.totals().units >= 300);
      await g.stop();
      const counts = await Promise.all(s.rngs.map((r) => metricOf(r.app, 'dockercoins_http_requests_total', 'route="/:n"')));
      for (const c of counts) assert.ok(c >= g.totals().units / 5, `uneven spread: ${counts.join(', ')}`);
    } finally {
      await g.stop();
      await s.close();
    }
  });

  it('follows the rotation when replicas join and leave (lab mode)', async () => {
    const s = await services(TURBO, 3);
    const { g } = group(s);
    const served = () => Promise.all(s.rngs.map((r) => metricOf(r.app, 'dockercoins_http_requests_total', 'route="/:n"').catch(() => 0)));
    try {
      await g.start(2);
      await g.setTargets({ rng: ['http://10.0.1.1'] });
      const before = await served();
      await waitFor('100 more units', async () => g.totals().units >= 100);
      await sleep(20);
      const mid = await served();
      // At most the requests already in flight when the rotation changed reach the replicas that left.
      assert.ok(mid[1]! - before[1]! <= 2 && mid[2]! - before[2]! <= 2, `${before} → ${mid}`);
      await g.setTargets({ rng: ['http://10.0.1.2', 'http://10.0.1.3'] });
      const units = g.totals().units;
      await waitFor('100 more units', async () => g.totals().units >= units + 100);
      const after = await served();
      assert.ok(after[1]! > mid[1]! + 20 && after[2]! > mid[2]! + 20);
      assert.ok(
        g.loops.every((w) => w.readiness() === null),
        'no errors while the rotation changed',
      );
    } finally {
      await g.stop();
      await s.close();
    }
  });

  it('grows and shrinks at runtime: new loops start at once, removed ones finish their unit and flush', async () => {
    const s = await services({ RNG_DELAY_MS: '20', HASHER_DELAY_MS: '20', WORKER_DELAY_MS: '20', RNG_CONCURRENCY: '0', FLUSH_INTERVAL_MS: '100' });
    const { g, ledger } = group(s);
    try {
      await g.start(1);
      await g.resize(6);
      assert.deepEqual(
        g.loops.map((w) => w.name),
        ['worker', 'worker.2', 'worker.3', 'worker.4', 'worker.5', 'worker.6'],
      );
      await waitFor('every loop working', async () => g.loops.every((w) => w.units > 2));
      await g.resize(2);
      assert.equal(g.size, 2);
      const t = g.totals();
      assert.equal(t.unflushed - g.loops.reduce((n, w) => n + w.unflushed, 0), 0, 'loops that left flushed everything');
      const abandoned = await metricOf(s.rngs[0]!.app, 'dockercoins_rng_abandoned_total');
      assert.equal(abandoned, 0, 'no unit was cut short');
      await g.stop();
      const served = await metricOf(s.hasher.app, 'dockercoins_hasher_hashes_total');
      assert.equal((await ledger.accounts.totals()).hashes, g.totals().units);
      assert.ok(served - g.totals().units <= 2, 'only the two running loops could abandon a unit at stop');
    } finally {
      await g.stop();
      await s.close();
    }
  });

  it('survives rng going away: backs off (no spin), keeps its count, recovers when rng returns', async () => {
    const s = await services({ ...TURBO, RETRY_MAX_MS: '400', FLUSH_INTERVAL_MS: '100' });
    const { g, ledger } = group(s);
    const rngApp = s.apps.get('http://10.0.1.1:80')!;
    try {
      await g.start(1);
      const w = g.loops[0]!;
      await waitFor('units', async () => w.units >= 50);
      s.apps.delete('http://10.0.1.1:80');
      const before = w.units;
      await sleep(300);
      const failedAt = await metricOf(s.hasher.app, 'dockercoins_hasher_hashes_total');
      await sleep(1500);
      assert.ok(w.readiness()?.includes('rng'), `readiness names rng: ${w.readiness()}`);
      assert.equal(w.liveness(), null, 'a worker in back-off is alive');
      assert.equal(await metricOf(s.hasher.app, 'dockercoins_hasher_hashes_total'), failedAt, 'no unit while rng is down');
      const retries = sample(await renderMetrics(g.registry), 'dockercoins_worker_retries_total', 'cause="rng"');
      assert.ok(retries >= 3 && retries <= 12, `backed off, did not spin: ${retries} retries in ~1.8 s`);
      s.apps.set('http://10.0.1.1:80', rngApp);
      await waitFor('recovery', async () => w.units > before + 20, 5000);
      await g.stop();
      assert.equal((await ledger.accounts.totals()).hashes, w.units);
    } finally {
      await g.stop();
      await s.close();
    }
  });

  it('keeps units when the ledger fails and flushes them once it is back', async () => {
    const s = await services({ ...TURBO, FLUSH_INTERVAL_MS: '100' });
    const ledger = memoryLedger();
    const { accounts } = ledger;
    const addHashes = accounts.addHashes.bind(accounts);
    const addCoin = accounts.addCoin.bind(accounts);
    let down = true;
    let calls = 0;
    accounts.addCoin = async (hex, bytes) => {
      if (down) throw new Error('connection lost');
      return addCoin(hex, bytes);
    };
    accounts.addHashes = async (batch) => {
      calls++;
      if (down) {
        // Ambiguous failure: applied, but the reply is lost. The retry must not count it twice.
        if (calls === 1) await addHashes(batch);
        throw new Error('connection lost');
      }
      return addHashes(batch);
    };
    const { g } = group(s, ledger);
    try {
      await g.start(1);
      const w = g.loops[0]!;
      await sleep(500);
      assert.match(w.readiness() ?? '', /ledger/);
      down = false;
      await sleep(300);
      await g.stop();
      assert.equal((await accounts.totals()).hashes, w.units);
      assert.equal((await accounts.totals()).coins, w.coins, 'coins found while the ledger was down are saved too');
    } finally {
      await g.stop();
      await s.close();
    }
  });

  it('shows the same counts to Prometheus and to the dashboard', async () => {
    const s = await services({ ...TURBO, FLUSH_INTERVAL_MS: '100' });
    const { g } = group(s);
    try {
      await g.start(1);
      await waitFor('units', async () => g.totals().units >= 100);
      await g.stop();
      const w = g.loops[0]!;
      const text = await renderMetrics(g.registry);
      const stats = w.stats();
      assert.equal(sample(text, 'dockercoins_worker_units_total', 'worker="worker"'), stats.units);
      assert.equal(sample(text, 'dockercoins_worker_coins_total', 'worker="worker"'), stats.coins);
      for (const phase of ['sleep', 'rng', 'hasher', 'ledger'] as const) {
        assert.equal(sample(text, 'dockercoins_worker_phase_seconds_total', `phase="${phase}"`), stats.phaseMs[phase] / 1000);
      }
      const served = stats.replicas.filter((r) => r.upstream === 'rng').reduce((n, r) => n + r.calls, 0);
      assert.equal(sample(text, 'dockercoins_worker_served_total', 'upstream="rng"'), served);
    } finally {
      await g.stop();
      await s.close();
    }
  });

  it('back-off is capped and jittered', () => {
    assert.ok(backoff(1, 5000) >= 160 && backoff(1, 5000) <= 240);
    for (let i = 0; i < 50; i++) assert.ok(backoff(30, 5000) <= 6000);
  });
});

describe('coins', () => {
  it('COIN_DIFFICULTY: leading zero hex digits (1 = the original: 1 hash in 16)', async () => {
    assert.ok(isCoin('0f', 1) && !isCoin('f0', 1) && isCoin('00a', 2) && !isCoin('0a0', 2));
    const s = await services({ ...TURBO, COIN_DIFFICULTY: '2', FLUSH_INTERVAL_MS: '100' });
    const ledger = memoryLedger();
    const kept: string[] = [];
    const addCoin = ledger.accounts.addCoin.bind(ledger.accounts);
    ledger.accounts.addCoin = async (hex, bytes) => {
      kept.push(hex);
      return addCoin(hex, bytes);
    };
    const { g } = group(s, ledger);
    try {
      await g.start(2);
      await waitFor('3000 units', async () => g.loops.reduce((n, w) => n + w.units, 0) >= 3000, 30_000);
      await g.stop();
      assert.ok(
        kept.every((hex) => hex.startsWith('00')),
        kept.filter((h) => !h.startsWith('00')).join(),
      );
      // 1 in 256 at difficulty 2: ~12 of 3,000 units (1 in 16 would give ~190).
      assert.ok(kept.length < 60, `${kept.length} coins`);
    } finally {
      await s.close();
    }
  });
});
