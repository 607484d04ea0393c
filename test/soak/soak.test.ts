// The soak suite: `npm start -- --turbo --scale worker=8` on a real Redis for SOAK_SECONDS (60 in `npm test`; `npm run soak`: 600).
// After the warm-up (the first minute, or half a short run) nothing may grow: Redis used_memory by ≤ 1 MB (the
// wallet is bounded: WALLET_MAX is 10,000 under --turbo); and at the end, after SIGTERM, `hashes` in Redis is exactly
// every unit the workers did. The process's RSS moves in a GC sawtooth whose teeth last 1–3 minutes here: a run of
// 5 minutes or more (npm run soak) asserts its floor grows ≤ 10 %; a shorter one sees only a rising edge, so it
// reports the floor and only bounds the RSS (a gross leak: 8 work loops, rng, hasher and webui stay under 512 MB).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Proc, startUp } from '../helpers/proc.js';
import { TestRedis } from '../helpers/redis.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const WARMUP = Math.min(60, Math.round(SECONDS / 2));
const SAWTOOTHS = SECONDS >= 300;
const RSS_BOUND_MB = 512;
const EVERY_S = 5;
const NS = 'soak';

const rssMb = (pid: number) => Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe(`soak: turbo on a real Redis for ${SECONDS} s`, () => {
  const redis = new TestRedis();
  let up: { p: Proc; webui: string };
  before(async () => {
    await redis.start();
    up = await startUp(['--turbo', '--scale', 'worker=8', '--redis', redis.url], { DOCKERCOINS_NAMESPACE: NS });
  });
  after(async () => {
    await up?.p.stop('SIGKILL');
    await redis.close();
  });

  it('memory stays flat after the warm-up, and every unit is in `hashes`', async () => {
    const raw = redis.client();
    const usedMb = async () => Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1]) / 1024 / 1024;
    const samples: { t: number; redis: number; rss: number; hashes: number }[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < SECONDS * 1000) {
      await sleep(EVERY_S * 1000);
      samples.push({ t: (Date.now() - t0) / 1000, redis: await usedMb(), rss: rssMb(up.p.pid), hashes: Number(await raw.get(`${NS}:hashes`)) });
    }
    // Redis: the median of the last samples of the warm-up against those of the end. RSS moves in a GC sawtooth
    // (±15 % here): its floor (the lowest sample) over the second half of the warm-up against the floor over the
    // last half of the rest — a leak raises the floor.
    const warm = samples.filter((s) => s.t <= WARMUP + 0.5);
    const rest = samples.filter((s) => s.t > WARMUP + 0.5);
    const [r0, r1] = [median(warm.slice(-3).map((s) => s.redis)), median(samples.slice(-3).map((s) => s.redis))];
    const floor = (xs: typeof samples) => Math.min(...xs.map((s) => s.rss));
    const [m0, m1] = [floor(warm.slice(Math.floor(warm.length / 2))), floor(rest.slice(Math.floor(rest.length / 2)))];
    const { code } = await up.p.stop('SIGTERM');
    assert.equal(code, 0);
    const m = /ledger: (\d+) hashes, (\d+) coins; this run: (\d+) hashes in [\d.]+ s \(([\d.]+) hashes\/s average\), (\d+) units done/.exec(up.p.output);
    assert.ok(m, `no final line: ${up.p.output.slice(-500)}`);
    const [ledgerHashes, ledgerCoins, flushed, rate, units] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
    const inRedis = Number(await raw.get(`${NS}:hashes`));
    const wallet = await raw.hlen(`${NS}:wallet`);
    const found = Number(await raw.get(`${NS}:coins:found`));
    raw.disconnect();
    console.log(
      `soak ${SECONDS} s: ${rate.toFixed(0)} hashes/s, ${inRedis} hashes, ${found} coins (wallet ${wallet}) · ` +
        `Redis used_memory ${r0.toFixed(2)} → ${r1.toFixed(2)} MB after ${WARMUP} s · RSS floor ${m0.toFixed(1)} → ${m1.toFixed(1)} MB · ` +
        `samples (s: MB redis/RSS): ${samples.map((s) => `${s.t.toFixed(0)}: ${s.redis.toFixed(1)}/${s.rss.toFixed(0)}`).join(', ')}`,
    );
    assert.ok(r1 - r0 <= 1, `Redis grew ${(r1 - r0).toFixed(2)} MB after the warm-up`);
    if (SAWTOOTHS) assert.ok(m1 <= m0 * 1.1, `RSS grew ${(((m1 - m0) / m0) * 100).toFixed(1)} % after the warm-up`);
    const peak = Math.max(...samples.map((s) => s.rss));
    assert.ok(peak < RSS_BOUND_MB, `RSS reached ${peak.toFixed(0)} MB`);
    assert.equal(inRedis, units, '`hashes` is exactly every unit done');
    assert.deepEqual([ledgerHashes, flushed], [units, units]);
    assert.equal(wallet, 10_000, 'the wallet holds the newest 10,000 coins');
    assert.equal(found, ledgerCoins, '`coins` counts every coin found');
    assert.ok(found > wallet, 'more coins were found than the wallet keeps');
  });
});
