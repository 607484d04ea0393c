// `up --turbo` with METRICS_PORT: the work loops run in several threads (TURBO_THREADS=2), and the one admin
// listener serves them all — /metrics counts are the sum over the threads, which the ledger's total confirms.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, json, sample, waitFor } from '../helpers/net.js';
import { type Proc, startUpWithMetrics } from '../helpers/proc.js';

describe('dockercoins up --turbo with METRICS_PORT', () => {
  let p: Proc;
  let admin: string;
  let webui: string;
  before(async () => {
    ({ p, url: admin } = await startUpWithMetrics(['--turbo', '--scale', 'worker=4'], { TURBO_THREADS: '2' }));
    webui = (await p.waitOutput(/DockerCoins is up — dashboard (http:\/\/\S+?)\//))[1]!;
  });
  after(() => p.stop('SIGKILL'));

  it("scrapes every thread's loops: the flushed counts add up to the ledger's total", async () => {
    await waitFor('hashes flushed', async () => (await json<{ hashes: number }>(`${webui}/json`)).hashes > 500, 30_000);
    const before = (await json<{ hashes: number }>(`${webui}/json`)).hashes;
    const text = await (await get(`${admin}/metrics`)).text();
    const loops = new Set([...text.matchAll(/^dockercoins_worker_units_total\{worker="([^"]+)"/gm)].map((m) => m[1]));
    assert.deepEqual([...loops].sort(), ['worker.1', 'worker.2', 'worker.3', 'worker.4'], 'the loops of both threads');
    const flushed = sample(text, 'dockercoins_worker_hashes_flushed_total');
    const units = sample(text, 'dockercoins_worker_units_total');
    // The ledger only ever holds what the loops flushed: read before the scrape it is at most their sum, and it
    // reaches that sum afterwards (a single thread's loops would be about half of it).
    assert.ok(before <= flushed, `ledger ${before} before the scrape ≤ flushed ${flushed}`);
    await waitFor(`the ledger reaching ${flushed}`, async () => (await json<{ hashes: number }>(`${webui}/json`)).hashes >= flushed, 10_000);
    assert.ok(units >= flushed, `units ${units} ≥ flushed ${flushed}`);
    assert.equal((text.match(/^# HELP dockercoins_worker_units_total /gm) ?? []).length, 1, 'one series family, not one per thread');
  });

  it("answers the probes for every thread's loops", async () => {
    assert.equal((await get(`${admin}/healthz`)).status, 200);
    assert.equal((await get(`${admin}/readyz`)).status, 200);
  });
});
