// The admin guard on every service's /admin/faults: without ADMIN_TOKEN loopback only (others 403), with it a bearer
// token from anywhere (none or wrong: 401); a cross-site change refused; every accepted change in the log, with the
// caller's address and never the token.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createHasher } from '../../src/hasher/app.js';
import { memoryLedger } from '../../src/ledger/memory.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { createLogger } from '../../src/platform/logger.js';
import { createRng } from '../../src/rng/app.js';
import { createWebui } from '../../src/webui/app.js';
import { WorkerGroup } from '../../src/worker/group.js';
import { silentLogger, testConfig } from '../helpers/quiet.js';

const TOKEN = 'correct-horse-battery-staple';

function capture() {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'test', level: 'info', format: 'json', hostname: 'h', out }) };
}

type Make = (env: Record<string, string>, logger: ReturnType<typeof capture>['logger']) => Promise<{ svc: HttpService; close: () => Promise<void> }>;

const services: Record<string, Make> = {
  rng: async (env, logger) => {
    const c = testConfig(env);
    const svc = await createRng({ replica: 'rng', server: c.server, logger }, c.rng);
    return { svc, close: () => svc.close(0, 300) };
  },
  hasher: async (env, logger) => {
    const c = testConfig(env);
    const svc = await createHasher({ replica: 'hasher', server: c.server, logger }, c.hasher);
    return { svc, close: () => svc.close(0, 300) };
  },
  webui: async (env, logger) => {
    const c = testConfig(env);
    const svc = await createWebui({ replica: 'webui', server: c.server, logger }, { ledger: memoryLedger(), staticDir: '/nonexistent' });
    return { svc, close: () => svc.close(0, 300) };
  },
  'worker (admin listener)': async (env, logger) => {
    const c = testConfig({ ...env, METRICS_PORT: '1' });
    const group = new WorkerGroup({
      settings: { ...c.worker, metricsPort: 0 },
      server: c.server,
      ledger: memoryLedger(),
      replica: 'w',
      logger: () => silentLogger(),
      adminLogger: logger,
    });
    const svc = await group.adminService();
    return { svc, close: () => svc.close(0, 300) };
  },
};

const call = (svc: HttpService, method: 'GET' | 'POST' | 'DELETE', opts: { remote?: string; token?: string; origin?: string } = {}) =>
  svc.app.inject({
    method,
    url: method === 'POST' ? '/admin/faults?latency_ms=5' : '/admin/faults',
    remoteAddress: opts.remote ?? '127.0.0.1',
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.origin ? { origin: opts.origin } : {}) },
  });

for (const [name, make] of Object.entries(services)) {
  describe(`${name}: admin routes`, () => {
    it('without ADMIN_TOKEN: loopback clients only; others get 403 saying to set ADMIN_TOKEN; the data path stays open', async () => {
      const { svc, close } = await make({}, silentLogger());
      try {
        assert.equal((await call(svc, 'POST')).statusCode, 200);
        for (const method of ['GET', 'POST', 'DELETE'] as const) {
          const res = await call(svc, method, { remote: '192.0.2.7' });
          assert.equal(res.statusCode, 403, method);
          assert.match(res.body, /set ADMIN_TOKEN/);
        }
        assert.equal((await svc.app.inject({ url: '/healthz', remoteAddress: '192.0.2.7' })).statusCode, 200);
      } finally {
        await close();
      }
    });

    it('with ADMIN_TOKEN: none or wrong is 401, from loopback too; the right one works from anywhere', async () => {
      const { svc, close } = await make({ ADMIN_TOKEN: TOKEN }, silentLogger());
      try {
        assert.equal((await call(svc, 'POST')).statusCode, 401);
        assert.equal((await call(svc, 'GET', { token: 'nope-nope-nope' })).statusCode, 401);
        assert.equal((await call(svc, 'POST', { token: `${TOKEN}x` })).statusCode, 401);
        assert.equal((await call(svc, 'POST', { token: TOKEN })).statusCode, 200);
        assert.equal((await call(svc, 'DELETE', { token: TOKEN, remote: '192.0.2.7' })).statusCode, 200);
      } finally {
        await close();
      }
    });

    it('refuses a change from another site, token or not; logs accepted changes with the address, never the token', async () => {
      const log = capture();
      const { svc, close } = await make({ ADMIN_TOKEN: TOKEN }, log.logger);
      try {
        const res = await call(svc, 'POST', { token: TOKEN, origin: 'http://attacker.example' });
        assert.equal(res.statusCode, 403);
        assert.equal((await call(svc, 'POST', { token: TOKEN, remote: '203.0.113.9' })).statusCode, 200);
        const audit = log.lines.find((l) => l.includes('fault injection set'));
        assert.ok(audit, 'the change is logged');
        assert.match(audit!, /203\.0\.113\.9/);
        assert.match(audit!, /"latencyMs":5/);
        assert.ok(!log.lines.join('').includes(TOKEN), 'the token never appears in a log line');
        const metrics = (await svc.app.inject('/metrics')).body;
        assert.ok(!metrics.includes(TOKEN), 'nor in the metrics');
      } finally {
        await close();
      }
    });
  });
}
