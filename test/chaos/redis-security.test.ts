// Redis as a hostile or secured dependency: wrong password and unreachable host (clear log line, readiness false,
// retries, recovery once fixed, the password never printed), and TLS (rediss://) with a CA of our own.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { get, json, waitFor } from '../helpers/net.js';
import { onFreePort } from '../helpers/ports.js';
import { type Proc, startService } from '../helpers/proc.js';
import { TestRedis } from '../helpers/redis.js';

const SECRET = 'correct-horse-battery';

function webui(redisUrl: string, env: Record<string, string> = {}): Promise<{ p: Proc; url: string }> {
  return startService('webui', { REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '500', ...env });
}

const withPassword = (url: string, password: string) => url.replace('redis://', `redis://:${password}@`);

describe('Redis faults and security', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(() => Promise.all(cleanup.map((f) => f())));

  it('wrong password: a clear log line, readiness false, recovery when the password is fixed, never the secret', async () => {
    const redis = await new TestRedis().start(['--requirepass', 'something-else']);
    cleanup.push(() => redis.close());
    const w = await webui(withPassword(redis.url, SECRET));
    cleanup.push(() => w.p.stop());
    await w.p.waitOutput(/WRONGPASS|NOAUTH|invalid username-password/i);
    const ready = await get(`${w.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /not ready: /);
    const admin = redis.client('something-else');
    await admin.config('SET', 'requirepass', SECRET);
    admin.disconnect();
    await waitFor('recovery', async () => (await get(`${w.url}/readyz`)).status === 200, 15_000, 250);
    assert.equal((await get(`${w.url}/json`)).status, 200);
    assert.doesNotMatch(w.p.output, new RegExp(SECRET));
  });

  it('unreachable host: readiness false with the reason, retries, recovery when Redis appears', async () => {
    const redis = new TestRedis();
    cleanup.push(() => redis.close());
    const w = await webui(await redis.reserve());
    cleanup.push(() => w.p.stop());
    const ready = await get(`${w.url}/readyz`);
    assert.equal(ready.status, 503);
    // Nothing behind the address yet: the connection is refused (reset) and the log says so.
    await w.p.waitOutput(/ledger: Redis at .*(ECONNREFUSED|ECONNRESET|Connection is closed)/);
    await redis.start();
    await waitFor('recovery', async () => (await get(`${w.url}/readyz`)).status === 200, 15_000, 250);
    assert.deepEqual(Object.keys(await json(`${w.url}/json`)).sort(), ['coins', 'hashes', 'now']);
  });

  it('rediss:// (TLS) works, with the CA given by NODE_EXTRA_CA_CERTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-tls-'));
    const conf = join(dir, 'san.cnf');
    writeFileSync(conf, '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:TRUE\n');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-config',
        conf,
        '-extensions',
        'ext',
      ],
      { stdio: 'ignore' },
    );
    const tlsPort = await onFreePort(async (port) => {
      const server = spawn(
        'redis-server',
        [
          '--bind',
          '127.0.0.1',
          '--port',
          '0',
          '--save',
          '',
          '--dir',
          dir,
          '--tls-port',
          String(port),
          '--tls-cert-file',
          join(dir, 'cert.pem'),
          '--tls-key-file',
          join(dir, 'key.pem'),
          '--tls-auth-clients',
          'no',
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      cleanup.push(async () => server.kill('SIGKILL'));
      let log = '';
      server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      await waitFor('redis-server with TLS', async () => {
        if (server.exitCode !== null) throw new Error(`redis-server exited: ${log.slice(-200)}`);
        return /Ready to accept connections/.test(log);
      });
      return port;
    });
    const w = await webui(`rediss://127.0.0.1:${tlsPort}`, { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') });
    cleanup.push(() => w.p.stop());
    await waitFor('TLS ready', async () => (await get(`${w.url}/readyz`)).status === 200, 15_000, 250);
    assert.equal((await get(`${w.url}/json`)).status, 200);
  });
});
