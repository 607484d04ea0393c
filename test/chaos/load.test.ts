// Floods: 1,000 concurrent connections for LOAD_SECONDS (30 by default) against rng and against hasher, each a real
// process with default delays. Nothing crashes, memory stays bounded (peak RSS reported), rng's queue is bounded:
// requests beyond RNG_QUEUE_LIMIT get a clear 503 at once, the others are served in order.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { get } from '../helpers/net.js';
import { type Proc, startService } from '../helpers/proc.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 30);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function flood(kind: 'rng' | 'hasher', env: Record<string, string>) {
  const { p, url } = await startService(kind, { LOG_LEVEL: 'warn', ...env });
  let peak = rssMb(p.child.pid!);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(p.child.pid!))), 250);
  const statuses: Record<string, number> = {};
  const result = await autocannon({
    url: `${url}${kind === 'rng' ? '/32' : '/'}`,
    connections: 1000,
    duration: SECONDS,
    timeout: 20,
    ...(kind === 'hasher' ? { method: 'POST', body: Buffer.alloc(32, 1), headers: { 'content-type': 'application/octet-stream' } } : {}),
    setupClient: (client: { on(e: string, f: (status: number) => void): void }) =>
      client.on('response', (status: number) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
      }),
  } as autocannon.Options);
  clearInterval(sampler);
  const t0 = performance.now();
  const health = await get(`${url}/healthz`);
  const healthMs = performance.now() - t0;
  const after = await get(`${url}${kind === 'rng' ? '/32' : '/'}`, kind === 'hasher' ? { method: 'POST', body: 'x' } : {});
  return { p, result, statuses, peak, healthOk: health.status === 200, healthMs, afterStatus: after.status };
}

describe(`floods of 1,000 connections for ${SECONDS} s`, () => {
  const procs: Proc[] = [];
  after(() => Promise.all(procs.map((p) => p.stop('SIGKILL'))));

  it('rng: bounded queue (503 beyond RNG_QUEUE_LIMIT), ~10 served per second, alive, bounded memory', async () => {
    const r = await flood('rng', { RNG_QUEUE_LIMIT: '50' });
    procs.push(r.p);
    console.log(`rng flood: ${JSON.stringify(r.statuses)}, ${r.result.errors} client errors, peak RSS ${r.peak.toFixed(0)} MB`);
    assert.ok(r.p.alive, 'rng survived');
    const served = r.statuses['200'] ?? 0;
    assert.ok(served >= SECONDS * 4 && served <= SECONDS * 11, `${served} served in ${SECONDS} s (one at a time, 100 ms each, while answering the 503s)`);
    assert.ok((r.statuses['503'] ?? 0) > 0, 'the queue limit answered 503');
    assert.deepEqual(
      Object.keys(r.statuses).filter((s) => s !== '200' && s !== '503'),
      [],
    );
    assert.ok(r.peak < 250, `peak RSS ${r.peak.toFixed(0)} MB`);
    assert.ok(r.healthOk, `liveness answered right after the flood (in ${r.healthMs.toFixed(0)} ms)`);
    assert.equal(r.afterStatus, 200);
  });

  it('hasher: every request answered 200, alive, bounded memory', async () => {
    const r = await flood('hasher', {});
    procs.push(r.p);
    console.log(
      `hasher flood: ${JSON.stringify(r.statuses)}, ${r.result.errors} client errors, ${Math.round(r.result.requests.average)} req/s, peak RSS ${r.peak.toFixed(0)} MB`,
    );
    assert.ok(r.p.alive, 'hasher survived');
    assert.deepEqual(Object.keys(r.statuses), ['200']);
    assert.equal(r.result.errors, 0);
    assert.ok(r.peak < 250, `peak RSS ${r.peak.toFixed(0)} MB`);
    assert.ok(r.healthOk, `liveness answered right after the flood (in ${r.healthMs.toFixed(0)} ms)`);
    assert.equal(r.afterStatus, 200);
  });
});
