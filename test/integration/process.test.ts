// Each service as the real process users and containers run: exit 2 on bad configuration, SIGTERM drains then
// exits, logs have a shape and never a secret. Ports: 0, read back from the process's own log.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { get } from '../helpers/net.js';
import { CLI, cleanEnv, Proc, startService } from '../helpers/proc.js';

const QUIET = { HOST: '127.0.0.1', PORT: '0' };

describe('configuration errors', () => {
  for (const service of ['rng', 'hasher', 'worker', 'webui', 'up']) {
    it(`${service} exits 2 with the variable's name on a bad value`, () => {
      const r = spawnSync(process.execPath, [CLI, service], { env: cleanEnv({ RNG_DELAY_MS: 'slow' }), encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /RNG_DELAY_MS/);
    });
  }

  it('up exits 2 on a bad option and on a bad port variable', () => {
    let r = spawnSync(process.execPath, [CLI, 'up', '--scale', 'worker=lots'], { env: cleanEnv(), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--scale/);
    r = spawnSync(process.execPath, [CLI, 'up', '--redis', 'http://nope'], { env: cleanEnv(), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--redis/);
    r = spawnSync(process.execPath, [CLI, 'up'], { env: cleanEnv({ WEBUI_PORT: 'x' }), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /WEBUI_PORT/);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM: readiness fails at once, requests are still served through DRAIN_MS, then exit 0', async () => {
    const p = new Proc(['rng'], { ...QUIET, DRAIN_MS: '800', RNG_DELAY_MS: '10' });
    const url = await p.url();
    await p.waitHttp(`${url}/healthz`);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    await p.waitOutput(/draining for 800 ms/);
    const ready = await get(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /shutting down/);
    assert.equal((await get(`${url}/32`)).status, 200, 'still serving while draining');
    const code = await p.exited;
    const ms = Date.now() - t0;
    assert.equal(code, 0);
    assert.ok(ms >= 800, `exit after ${ms} ms (drain 800)`);
  });

  it('SIGTERM_MODE=ignore: SIGTERM is ignored and said so (the rollout lesson); SIGINT and SIGKILL still stop it', async () => {
    const { p, url } = await startService('hasher', { SIGTERM_MODE: 'ignore' });
    try {
      p.child.kill('SIGTERM');
      await p.waitOutput(/SIGTERM received: ignored \(SIGTERM_MODE=ignore/);
      await sleep(1000);
      assert.ok(p.alive, 'still running a second after SIGTERM');
      assert.equal((await get(`${url}/readyz`)).status, 200, 'and still ready: nothing started to stop');
      const { code } = await p.stop('SIGINT');
      assert.equal(code, 0);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  it('with DRAIN_MS=0 a service exits at once, finishing the request in flight', async () => {
    const p = new Proc(['hasher'], { ...QUIET, DRAIN_MS: '0', HASHER_DELAY_MS: '150' });
    const url = await p.url();
    await p.waitHttp(`${url}/healthz`);
    const inFlight = get(`${url}/`, { method: 'POST', body: 'abc' });
    await sleep(30);
    const { code, ms } = await p.stop('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200, 'the in-flight request was finished');
    assert.equal((await res.text()).length, 64);
    assert.equal(code, 0, `exit ${ms} ms after SIGTERM`);
    // A stop of its own: nothing had to be cut at the SHUTDOWN_TIMEOUT_MS deadline (8 s; the request takes 150 ms).
    assert.doesNotMatch(p.output, /still stopping at the deadline/);
  });
});

describe('logs', () => {
  it('LOG_FORMAT=json: one JSON object per line, access lines with method, path, status, ms, replica', async () => {
    const p = new Proc(['rng'], { ...QUIET, DRAIN_MS: '0', LOG_FORMAT: 'json', HOSTNAME: 'rng-7f9c', RNG_DELAY_MS: '0' });
    try {
      const url = await p.url();
      await p.waitHttp(`${url}/healthz`);
      await get(`${url}/32`);
      await get(`${url}/nope`);
      await p.waitOutput(/"path":"\/nope"/);
    } finally {
      await p.stop();
    }
    const lines = p.output.trim().split('\n');
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = objs.find((o) => o.path === '/32')!;
    assert.equal(access.level, 'info');
    assert.equal(access.svc, 'rng');
    assert.equal(access.method, 'GET');
    assert.equal(access.status, 200);
    assert.equal(access.replica, 'rng-7f9c');
    assert.equal(typeof access.ms, 'number');
    assert.ok(objs.every((o) => typeof o.time === 'number' && typeof o.msg === 'string'));
    assert.ok(!objs.some((o) => o.path === '/healthz'), 'probes are logged at debug only');
  });

  it('never prints the Redis password', async () => {
    // Port 9 (discard) on loopback: nothing listens there, so the ledger fails and says so.
    const p = new Proc(['webui'], { ...QUIET, DRAIN_MS: '0', REDIS_URL: 'redis://:hunter2secret@127.0.0.1:9' });
    try {
      const url = await p.url();
      await get(`${url}/json`);
      await p.waitOutput(/ledger/);
    } finally {
      await p.stop();
    }
    assert.doesNotMatch(p.output, /hunter2secret/);
    assert.match(p.output, /redis:\/\/:\*\*\*@127\.0\.0\.1/);
  });
});
