// The workshop's own tools on the real services (default delays, as the slides run them): ab on rng and hasher,
// httping on both while ten workers wait on rng (rng's / as the slides type it: the banner waits in the queue).
// Debian's apache2-utils and httping (scripts/test.sh installs them).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type Proc, startService, startWorker, stopAll } from '../helpers/proc.js';
import { TestRedis } from '../helpers/redis.js';

const run = promisify(execFile);

/** ab's figures: total seconds, the mean time per request (ms), requests that failed. */
async function ab(concurrency: number, url: string, postFile?: string) {
  const args = ['-q', '-c', String(concurrency), '-n', '50', ...(postFile ? ['-T', 'application/octet-stream', '-p', postFile] : []), url];
  const { stdout } = await run('ab', args, { timeout: 120_000 });
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? Number.NaN);
  const r = {
    seconds: num(/Time taken for tests:\s+([\d.]+) seconds/),
    meanMs: num(/Time per request:\s+([\d.]+) \[ms\] \(mean\)/),
    complete: num(/Complete requests:\s+(\d+)/),
    failed: num(/Failed requests:\s+(\d+)/),
  };
  assert.ok(Object.values(r).every(Number.isFinite), `cannot read ab's output:\n${stdout}`);
  return r;
}

/** httping's average round trip (ms) over `count` pings (HEAD requests, as the workshop runs it). */
async function httping(url: string, count = 5): Promise<number> {
  const { stdout } = await run('httping', ['-c', String(count), '-i', '0.2', '-t', '10', url], { timeout: 60_000 });
  const m = /round-trip min\/avg\/max[^=]*= ([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(stdout);
  assert.ok(m, `cannot read httping's output:\n${stdout}`);
  return Number(m[2]);
}

describe("the workshop's commands", () => {
  const procs: Proc[] = [];
  const redis = new TestRedis();
  let rng: string;
  let hasher: string;
  let body: string;
  before(async () => {
    await redis.start();
    const [r, h] = await Promise.all([startService('rng', {}), startService('hasher', {})]);
    procs.push(r.p, h.p);
    [rng, hasher] = [r.url, h.url];
    body = join(mkdtempSync(join(tmpdir(), 'dc-ab-')), 'random');
    writeFileSync(body, Buffer.alloc(32, 7));
  });
  after(async () => {
    await stopAll(procs);
    await redis.close();
  });

  it('ab on rng/10: 100 ms each one by one, and 50 at once take as long — rng serves one at a time', async () => {
    const one = await ab(1, `${rng}/10`);
    const fifty = await ab(50, `${rng}/10`);
    console.log(
      `ab rng/10: -c 1 ${one.seconds.toFixed(2)} s (${one.meanMs.toFixed(0)} ms/request), -c 50 ${fifty.seconds.toFixed(2)} s (${fifty.meanMs.toFixed(0)} ms/request)`,
    );
    for (const r of [one, fifty]) assert.deepEqual([r.complete, r.failed], [50, 0]);
    assert.ok(one.seconds >= 4.9, `50 × 100 ms one after the other: ${one.seconds} s`);
    assert.ok(fifty.seconds >= 4.9, `serialised: 50 at once still take 50 × 100 ms (${fifty.seconds} s)`);
    assert.ok(fifty.meanMs > 10 * one.meanMs, `latency explodes with -c 50: ${fifty.meanMs} ms vs ${one.meanMs} ms`);
  });

  it('ab on hasher: 100 ms each one by one, 50 at once in a fraction of that — hasher works in parallel', async () => {
    const one = await ab(1, `${hasher}/`, body);
    const fifty = await ab(50, `${hasher}/`, body);
    console.log(`ab hasher: -c 1 ${one.seconds.toFixed(2)} s, -c 50 ${fifty.seconds.toFixed(2)} s`);
    for (const r of [one, fifty]) assert.deepEqual([r.complete, r.failed], [50, 0]);
    assert.ok(one.seconds >= 4.9, `50 × 100 ms one after the other: ${one.seconds} s`);
    assert.ok(fifty.seconds < one.seconds / 4, `in parallel: ${fifty.seconds} s vs ${one.seconds} s`);
  });

  it('httping with ten workers running: rng / answers slowly (it waits in the queue), hasher / and rng /healthz at once', async () => {
    const w = await startWorker({ REDIS_URL: redis.url, RNG_URL: rng, HASHER_URL: hasher, WORKER_CONCURRENCY: '10' });
    procs.push(w.p);
    await sleep(3000);
    // As the slides type it: httping on the bare address, HEAD / — the banner waits its turn behind the workers.
    const [r, h] = await Promise.all([httping(`${rng}/`), httping(`${hasher}/`)]);
    const live = await httping(`${rng}/healthz`);
    console.log(`httping with 10 workers: rng / ${r.toFixed(0)} ms, hasher / ${h.toFixed(1)} ms, rng /healthz ${live.toFixed(1)} ms`);
    assert.ok(r >= 300, `rng / waits behind ten workers: ${r} ms`);
    assert.ok(r >= 20 * h, `rng / ${r} ms vs hasher / ${h} ms: at least 20×`);
    assert.ok(r >= 20 * live, `rng / ${r} ms vs rng /healthz ${live} ms: liveness never waits`);
    await w.p.stop('SIGTERM');
  });
});
