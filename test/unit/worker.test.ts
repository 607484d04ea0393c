// The worker against real rng and hasher servers (in this process, on loopback) and a ledger.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config.js';
import { createHasher } from '../../src/hasher/app.js';
import { MemoryLedger } from '../../src/ledger/memory.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { createRegistry } from '../../src/platform/metrics.js';
import { createRng } from '../../src/rng/app.js';
import { workerMetrics } from '../../src/worker/metrics.js';
import { Upstream } from '../../src/worker/upstream.js';
import { backoff, Worker } from '../../src/worker/worker.js';
import { freePort, metric, waitFor } from '../helpers/net.js';
import { silentLogger, testConfig } from '../helpers/quiet.js';

const TURBO = { RNG_DELAY_MS: '0', HASHER_DELAY_MS: '0', WORKER_DELAY_MS: '0', RNG_CONCURRENCY: '0' };

async function services(env: Record<string, string>, rngCount = 1, rngPorts: number[] = []) {
  const config = testConfig(env);
  const rngs: HttpService[] = [];
  const rngUrls: string[] = [];
  for (let i = 0; i < rngCount; i++) {
    const svc = await createRng({ config, logger: silentLogger(), replica: `rng.${i + 1}` });
    rngUrls.push(`http://127.0.0.1:${await svc.listen(rngPorts[i] ?? 0, '127.0.0.1')}`);
    rngs.push(svc);
  }
  const hasher = await createHasher({ config, logger: silentLogger(), replica: 'hasher' });
  const hasherUrl = `http://127.0.0.1:${await hasher.listen(0, '127.0.0.1')}`;
  return {
    rngs,
    hasher,
    hasherUrl,
    config: { ...config, rngUrls, hasherUrls: [hasherUrl] } as Config,
    close: () => Promise.all([...rngs, hasher].map((s) => s.close(0, 300))),
  };
}

function worker(config: Config, ledger = new MemoryLedger(), name = 'worker') {
  const metrics = workerMetrics(createRegistry('worker', name));
  return { w: new Worker({ name, config, ledger, metrics, logger: silentLogger(name) }), ledger };
}

describe('worker', () => {
  it('counts every unit the hasher served, keeps only valid coins, and loses nothing on stop', async () => {
    const s = await services({ ...TURBO, FLUSH_INTERVAL_MS: '200' });
    const ledger = new MemoryLedger();
    const spy = { ...ledger, coins: [] as [string, Buffer][] };
    const original = ledger.addCoin.bind(ledger);
    ledger.addCoin = async (hex, bytes) => {
      spy.coins.push([hex, Buffer.from(bytes)]);
      return original(hex, bytes);
    };
    const { w } = worker(s.config, ledger);
    try {
      w.start();
      await waitFor('some coins', async () => spy.coins.length >= 5, 15_000);
      await w.stop();
      const served = await metric(`${s.hasherUrl}/metrics`, 'dockercoins_hasher_hashes_total');
      const { hashes, coins } = await ledger.totals();
      assert.equal(hashes, w.units, 'every unit done is in the ledger');
      assert.equal(w.unflushed, 0);
      assert.ok(served - hashes <= 1, `hasher served ${served}, ledger has ${hashes}: at most the abandoned in-flight unit differs`);
      assert.equal(coins, new Set(spy.coins.map(([h]) => h)).size);
      for (const [hex, bytes] of spy.coins) {
        assert.ok(hex.startsWith('0'));
        assert.equal(createHash('sha256').update(bytes).digest('hex'), hex);
        assert.equal(bytes.length, 32);
      }
      // Coins are ~1/16 of hashes.
      assert.ok(coins > hashes / 40 && coins < hashes / 6, `${coins} coins for ${hashes} hashes`);
    } finally {
      await w.stop();
      await s.close();
    }
  });

  it('spreads its requests over every rng URL', async () => {
    const s = await services(TURBO, 3);
    const { w } = worker(s.config);
    try {
      w.start();
      await waitFor('300 units', async () => w.units >= 300);
      await w.stop();
      const counts = await Promise.all(
        s.rngs.map(async (r) => metric(`http://127.0.0.1:${(r.app.server.address() as { port: number }).port}/metrics`, 'dockercoins_http_requests_total', 'route="/:n"')),
      );
      for (const c of counts) assert.ok(c >= w.units / 5, `uneven spread: ${counts.join(', ')}`);
    } finally {
      await w.stop();
      await s.close();
    }
  });

  it('spreads over every address a name resolves to, despite keep-alive', async () => {
    // `localhost` resolves to 127.0.0.1 and ::1 here; one server listens on both.
    const seen = new Map<string, number>();
    const server = createServer((req, res) => {
      const from = req.socket.remoteAddress?.includes(':') && !req.socket.remoteAddress.startsWith('::ffff:') ? 'v6' : 'v4';
      seen.set(from, (seen.get(from) ?? 0) + 1);
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '::', r));
    const port = (server.address() as { port: number }).port;
    const up = new Upstream('rng', [`http://localhost:${port}`], 2000);
    try {
      const { lookup } = await import('node:dns/promises');
      const families = new Set((await lookup('localhost', { all: true })).map((a) => a.family));
      for (let i = 0; i < 20; i++) await up.request('GET', '/1', undefined, new AbortController().signal);
      if (families.size === 2) {
        assert.equal(seen.get('v4'), 10);
        assert.equal(seen.get('v6'), 10);
      } else {
        assert.equal([...seen.values()].reduce((a, b) => a + b), 20);
      }
    } finally {
      await up.close();
      server.close();
    }
  });

  it('survives rng going away: backs off (no spin), keeps its count, recovers when rng returns', async () => {
    const rngPort = await freePort();
    const s = await services({ ...TURBO, RETRY_MAX_MS: '400', FLUSH_INTERVAL_MS: '100' }, 1, [rngPort]);
    const { w, ledger } = worker(s.config);
    try {
      w.start();
      await waitFor('units', async () => w.units >= 50);
      await s.rngs[0]!.close(0, 200);
      const before = w.units;
      await sleep(300);
      const failedAt = await metric(`${s.hasherUrl}/metrics`, 'dockercoins_hasher_hashes_total');
      await sleep(1500);
      assert.ok(w.readiness()?.includes('rng'), `readiness names rng: ${w.readiness()}`);
      assert.equal(w.liveness(), null, 'a worker in back-off is alive');
      assert.equal(await metric(`${s.hasherUrl}/metrics`, 'dockercoins_hasher_hashes_total'), failedAt, 'no unit while rng is down');
      const restarted = await createRng({ config: s.config, logger: silentLogger(), replica: 'rng.again' });
      await restarted.listen(rngPort, '127.0.0.1');
      await waitFor('recovery', async () => w.units > before + 20, 5000);
      await w.stop();
      await restarted.close(0, 200);
      assert.equal((await ledger.totals()).hashes, w.units);
    } finally {
      await w.stop();
      await s.close();
    }
  });

  it('keeps units when the ledger fails and flushes them once it is back', async () => {
    const s = await services({ ...TURBO, FLUSH_INTERVAL_MS: '100' });
    const ledger = new MemoryLedger();
    const { w } = worker(s.config, ledger);
    const real = ledger.addHashes.bind(ledger);
    const realCoin = ledger.addCoin.bind(ledger);
    let down = true;
    let calls = 0;
    ledger.addCoin = async (hex, bytes) => {
      if (down) throw new Error('connection lost');
      return realCoin(hex, bytes);
    };
    ledger.addHashes = async (batch) => {
      calls++;
      if (down) {
        // Ambiguous failure: applied, but the reply is lost. The retry must not count it twice.
        if (calls === 1) await real(batch);
        throw new Error('connection lost');
      }
      return real(batch);
    };
    try {
      w.start();
      await sleep(500);
      assert.match(w.readiness() ?? '', /ledger/);
      down = false;
      await sleep(300);
      await w.stop();
      assert.equal((await ledger.totals()).hashes, w.units);
      assert.equal((await ledger.totals()).coins, w.coins, 'coins found while the ledger was down are saved too');
    } finally {
      await w.stop();
      await s.close();
    }
  });

  it('back-off is capped and jittered', () => {
    assert.ok(backoff(1, 5000) >= 160 && backoff(1, 5000) <= 240);
    for (let i = 0; i < 50; i++) assert.ok(backoff(30, 5000) <= 6000);
  });
});
