// Redis as a hostile or secured dependency: wrong password and unreachable host (clear log line, readiness false,
// retries, recovery once fixed, the password never printed), and TLS (rediss://) with a CA of our own.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { freePort, get, json, waitFor } from '../helpers/net.js';
import { Proc } from '../helpers/proc.js';
import { TestRedis } from '../helpers/redis.js';

const SECRET = 'correct-horse-battery';

async function webui(redisUrl: string, env: Record<string, string> = {}): Promise<{ p: Proc; url: string }> {
  const port = await freePort();
  const p = new Proc(['webui'], { HOST: '127.0.0.1', PORT: String(port), DRAIN_MS: '0', REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '500', ...env });
  const url = `http://127.0.0.1:${port}`;
  await p.waitHttp(`${url}/healthz`);
  return { p, url };
}

describe('Redis faults and security', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(() => Promise.all(cleanup.map((f) => f())));

  it('wrong password: a clear log line, readiness false, recovery when the password is fixed, never the secret', async () => {
    const redis = await new TestRedis().start(['--requirepass', 'something-else']);
    cleanup.push(() => redis.stop());
    const w = await webui(`redis://:${SECRET}@127.0.0.1:${redis.port}`);
    cleanup.push(() => w.p.stop());
    await w.p.waitOutput(/WRONGPASS|NOAUTH|invalid username-password/i);
    const ready = await get(`${w.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /not ready: /);
    const admin = new Redis(`redis://:something-else@127.0.0.1:${redis.port}`, { maxRetriesPerRequest: 1 });
    await admin.config('SET', 'requirepass', SECRET);
    admin.disconnect();
    await waitFor('recovery', async () => (await get(`${w.url}/readyz`)).status === 200, 15_000, 250);
    assert.equal((await get(`${w.url}/json`)).status, 200);
    assert.doesNotMatch(w.p.output, new RegExp(SECRET));
  });

  it('unreachable host: readiness false with the reason, retries, recovery when Redis appears', async () => {
    const port = await freePort();
    const w = await webui(`redis://127.0.0.1:${port}`);
    cleanup.push(() => w.p.stop());
    const ready = await get(`${w.url}/readyz`);
    assert.equal(ready.status, 503);
    await w.p.waitOutput(/ECONNREFUSED/);
    const redis = new TestRedis();
    redis.port = port;
    await redis.start();
    cleanup.push(() => redis.stop());
    await waitFor('recovery', async () => (await get(`${w.url}/readyz`)).status === 200, 15_000, 250);
    assert.deepEqual(Object.keys(await json(`${w.url}/json`)).sort(), ['coins', 'hashes', 'now']);
  });

  it('rediss:// (TLS) works, with the CA given by NODE_EXTRA_CA_CERTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-tls-'));
    const conf = join(dir, 'san.cnf');
    writeFileSync(conf, '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:TRUE\n');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-config', conf, '-extensions', 'ext'], { stdio: 'ignore' });
    const tlsPort = await freePort();
    const server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', '0', '--save', '', '--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-auth-clients', 'no'], { stdio: 'ignore' });
    cleanup.push(async () => server.kill('SIGKILL'));
    const w = await webui(`rediss://127.0.0.1:${tlsPort}`, { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') });
    cleanup.push(() => w.p.stop());
    await waitFor('TLS ready', async () => (await get(`${w.url}/readyz`)).status === 200, 15_000, 250);
    assert.equal((await get(`${w.url}/json`)).status, 200);
  });
});
