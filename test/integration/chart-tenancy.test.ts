// The chart's "a tenant is a namespace" (helm template, offline) and its ACL Job's script run for real against a
// redis-server: quota and LimitRange (a bare `kubectl create deployment` pod admitted), REDIS_URL from the tenant's
// Secret, the admin password never in the tenant's namespace, the ACL rule and the shared Redis's start being
// src/tenants/redis-acl.ts's, the retired same-namespace prefix mode refused.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { REDIS_START, TENANT_COMMANDS, tenantAclRule, UNLINK_PREFIX_LUA } from '../../src/tenants/redis-acl.js';
import { TestRedis } from '../helpers/redis.js';
import type { K8sObject } from '../k8s/pod-runner.js';
import { CHART, helmTemplate, tool, workshopObjects } from '../k8s/render.js';

const TENANT = `${CHART}/values-tenant-example.yaml`;
const SHARED = `${CHART}/values-shared-redis.yaml`;
type Container = { name: string; command?: string[]; args?: string[]; env?: { name: string; value?: string; valueFrom?: any }[]; resources?: any };
type PodSpec = { containers: Container[] };
const podSpec = (o: K8sObject): PodSpec | undefined =>
  o.kind === 'Pod' ? (o.spec as PodSpec) : (o.spec as { template?: { spec: PodSpec } } | undefined)?.template?.spec;
const secretData = (o: K8sObject) => Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
const tenant = (ns: string, ...args: string[]) => helmTemplate(ns, '-n', ns, '-f', TENANT, ...args);
const hook = (objects: K8sObject[], h: string) => objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['helm.sh/hook'] === h)!;
const acl = (objects: K8sObject[]) => hook(objects, 'pre-install,pre-upgrade');
const aclRemove = (objects: K8sObject[]) => hook(objects, 'post-delete');

/** Kubernetes quantities → millicores / bytes. */
function quantity(q: string | number): number {
  const s = String(q);
  const units: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 };
  const m = /^([\d.]+)([a-zA-Z]*)$/.exec(s) ?? assert.fail(`quantity ${s}`);
  return Number(m[1]) * (m[2] ? (units[m[2]] ?? assert.fail(`unit ${m[2]}`)) : 1);
}

/**
 * The LimitRanger admission plugin on one container (as the API reference describes it): a missing limit takes
 * `default`, a missing request takes `defaultRequest` (or the limit when the container set one); then `max` is checked.
 */
function admit(c: Container, range: { default: Record<string, string>; defaultRequest: Record<string, string>; max: Record<string, string> }) {
  const limits = { ...(c.resources?.limits ?? {}) } as Record<string, string>;
  const requests = { ...(c.resources?.requests ?? {}) } as Record<string, string>;
  for (const r of ['cpu', 'memory']) {
    if (limits[r] === undefined && range.default[r] !== undefined) limits[r] = range.default[r]!;
    if (requests[r] === undefined) requests[r] = c.resources?.limits?.[r] ?? range.defaultRequest[r]!;
    assert.ok(quantity(limits[r]!) <= quantity(range.max[r]!), `${c.name}: limits.${r} ${limits[r]} above the LimitRange max ${range.max[r]}`);
  }
  return {
    'requests.cpu': quantity(requests.cpu!),
    'requests.memory': quantity(requests.memory!),
    'limits.cpu': quantity(limits.cpu!),
    'limits.memory': quantity(limits.memory!),
  };
}

describe('Helm chart: a tenant is a namespace', () => {
  it('ResourceQuota and LimitRange: the bare `kubectl create deployment` pods are admitted, 16 workers + the helm test doctor fit, a 17th does not', () => {
    const objects = tenant('student-01');
    // DNS for every pod over both protocols (the reachability evaluator models TCP flows only).
    const dns = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'dockercoins-dns')!.spec as any;
    assert.deepEqual(dns.podSelector, {});
    assert.deepEqual(dns.egress[0].ports, [
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    const quota = objects.find((o) => o.kind === 'ResourceQuota')!;
    const range = (objects.find((o) => o.kind === 'LimitRange')!.spec as { limits: any[] }).limits[0];
    assert.equal(range.type, 'Container');
    const hard = (quota.spec as { hard: Record<string, string> }).hard;
    // A quota on a compute resource rejects every pod that does not set it; the LimitRange must set all four.
    for (const r of ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']) assert.ok(hard[r], `quota on ${r}`);
    for (const w of workshopObjects().filter((o) => o.kind === 'Deployment')) {
      const c = podSpec(w)!.containers[0]!;
      assert.equal(c.resources?.limits, undefined, `${w.metadata.name}: the workshop's pod says nothing about resources`);
      const got = admit(c, range);
      for (const v of Object.values(got)) assert.ok(v > 0);
    }
    const total = (workers: number) => {
      const sum: Record<string, number> = { pods: 0, 'requests.cpu': 0, 'requests.memory': 0, 'limits.cpu': 0, 'limits.memory': 0 };
      for (const o of objects.filter((x) => ['Deployment', 'DaemonSet', 'Pod'].includes(x.kind))) {
        const n = o.metadata.name === 'worker' ? workers : 1;
        for (const c of podSpec(o)!.containers) for (const [k, v] of Object.entries(admit(c, range))) sum[k]! += n * v;
        sum.pods! += n;
      }
      return Object.entries(sum)
        .filter(([k, v]) => v > quantity(hard[k]!))
        .map(([k, v]) => `${k} ${v} > ${hard[k]}`);
    };
    assert.deepEqual(total(16), [], 'rng, hasher, webui, 16 workers and the doctor fit in the quota');
    assert.notDeepEqual(total(17), [], 'a 17th worker does not');
  });

  it("REDIS_URL from the tenant's Secret everywhere; the admin password stays in Redis's namespace; the Job runs there", () => {
    const objects = tenant('student-01');
    const job = acl(objects);
    assert.equal(job.metadata.namespace, 'redis');
    assert.equal(aclRemove(objects).metadata.namespace, 'redis');
    assert.deepEqual(job.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');
    const jobEnv = podSpec(job)!.containers[0]!.env!;
    assert.deepEqual(jobEnv.find((e) => e.name === 'REDISCLI_AUTH')?.valueFrom, { secretKeyRef: { name: 'redis-admin', key: 'password' } });
    for (const o of objects.filter((x) => x.kind !== 'Job')) {
      assert.equal(o.metadata.namespace, undefined, `${o.kind}/${o.metadata.name}: in the release (tenant's) namespace`);
      assert.ok(!JSON.stringify(o).includes('redis-admin'), `${o.kind}/${o.metadata.name} does not name the admin Secret`);
    }
    const pods = objects.filter((o) => podSpec(o) && o.kind !== 'Job');
    const clients = pods.filter((o) => podSpec(o)!.containers.some((c) => c.env?.some((e) => e.name === 'REDIS_URL')));
    assert.deepEqual(clients.map((o) => o.metadata.name).sort(), ['dockercoins-doctor', 'webui', 'worker']);
    for (const o of clients) {
      const e = podSpec(o)!.containers[0]!.env!.find((x) => x.name === 'REDIS_URL')!;
      assert.deepEqual(e, { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'dockercoins-redis', key: 'url' } } }, o.metadata.name);
    }
    const secret = secretData(objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'dockercoins-redis')!);
    assert.equal(secret.username, 'student-01');
    assert.match(secret.password!, /^[A-Za-z0-9]{32}$/);
    assert.equal(secret.url, `redis://student-01:${secret.password}@redis.redis.svc:6379`);
  });

  it("the Job's ACL rule is src/tenants/redis-acl.ts's (the password as its SHA-256); files/tenant-commands.txt is its command list", () => {
    assert.deepEqual(readFileSync(`${CHART}/files/tenant-commands.txt`, 'utf8').trim().split('\n'), [...TENANT_COMMANDS]);
    const objects = tenant('student-07');
    const { password } = secretData(objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'dockercoins-redis')!);
    const command = podSpec(acl(objects))!.containers[0]!.command!;
    const at = command.indexOf('SETUSER');
    assert.deepEqual(command.slice(at - 1, at + 2), ['ACL', 'SETUSER', 'student-07']);
    const hash = createHash('sha256').update(password!).digest('hex');
    const expected = tenantAclRule('student-07', password!).map((a) => (a === `>${password}` ? `#${hash}` : a));
    assert.deepEqual(command.slice(at + 2), expected);
    assert.ok(!JSON.stringify(acl(objects)).includes(password!), 'the Job does not carry the tenant password itself');
    // helm uninstall: the tenant's keys by src/tenants's SCAN + UNLINK script, then its user.
    assert.equal(readFileSync(`${CHART}/files/unlink-prefix.lua`, 'utf8').trim(), UNLINK_PREFIX_LUA.trim());
    assert.deepEqual(podSpec(aclRemove(objects))!.containers[0]!.command!.slice(3), [
      'acl',
      readFileSync(`${CHART}/files/unlink-prefix.lua`, 'utf8'),
      'student-07',
    ]);
  });

  it("the shared Redis release: src/tenants/redis-acl.ts's start script, a generated admin Secret, no DockerCoins services", () => {
    const objects = helmTemplate('redis', '-n', 'redis', '-f', SHARED);
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name),
      ['redis'],
    );
    const c = podSpec(objects.find((o) => o.kind === 'Deployment')!)!.containers[0]!;
    assert.deepEqual(c.command, ['sh', '-c', REDIS_START]);
    assert.deepEqual(c.env?.find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom, { secretKeyRef: { name: 'redis-admin', key: 'password' } });
    const admin = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'redis-admin')!;
    assert.match(secretData(admin).password!, /^[A-Za-z0-9]{32}$/);
    assert.equal(admin.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.ok(!objects.some((o) => o.kind === 'Pod'), 'no helm test doctor without the services');
  });

  it('refused: the retired same-namespace prefix mode (a tenant on a plain redis.url), and names Redis reserves', () => {
    const fails = (...args: string[]) => {
      const r = spawnSync(tool('helm'), ['template', 'x', CHART, ...args], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, args.join(' '));
      return r.stderr;
    };
    assert.match(fails('--set', 'tenant=acme,redis.enabled=false,redis.url=redis://redis:6379'), /same-namespace prefix mode is retired/);
    assert.match(fails('-n', 'default', '-f', TENANT), /"default": a name Redis .* reserves/);
    assert.match(fails('-n', 'Student_1', '-f', TENANT), /ACL user name/);
    assert.match(fails('-n', 's1', '-f', TENANT, '--set', 'redis.enabled=true'), /set redis.enabled=false/);
  });
});

describe("the ACL Job's script on a real redis-server (as the shared Redis starts: an ACL file, a password on default)", () => {
  const redis = new TestRedis();
  const ADMIN = randomBytes(16).toString('hex');
  const clients: Redis[] = [];
  after(async () => {
    for (const c of clients) c.disconnect();
    await redis.stop();
  });

  it("creates the tenant's user (ACL SAVE'd), idempotent; with A's Secret URL: A's keys work, B's key and KEYS → NOPERM", async () => {
    const file = join(redis.dir, 'users.acl');
    writeFileSync(file, `user default on #${createHash('sha256').update(ADMIN).digest('hex')} ~* &* +@all\n`);
    await redis.start(['--aclfile', file]);
    const port = new URL(redis.url).port;
    const tenants = ['student-a', 'student-b'].map((ns) => {
      const objects = tenant(ns);
      const [, , ...script] = podSpec(acl(objects))!.containers[0]!.command!;
      return { ns, script, url: secretData(objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'dockercoins-redis')!).url! };
    });
    for (const t of [...tenants, tenants[0]!]) {
      // Asynchronously: the test's Redis is behind an in-process relay.
      const env = { PATH: process.env.PATH, REDISCLI_AUTH: ADMIN, REDIS_HOST: '127.0.0.1', REDIS_PORT: port };
      const { stdout: out } = await promisify(execFile)('sh', ['-c', ...t.script], { env, encoding: 'utf8', timeout: 20_000 });
      assert.match(out, /ACL SETUSER .* → OK\nACL SAVE → OK/, out);
    }
    const saved = readFileSync(file, 'utf8');
    for (const t of tenants) {
      const sha = createHash('sha256').update(new URL(t.url).password).digest('hex');
      assert.match(saved, new RegExp(`^user ${t.ns} on (sanitize-payload )?#${sha} ~${t.ns}:\\* resetchannels -@all `, 'm'), saved);
    }
    const as = (url: string) => {
      const c = new Redis(url.replace(/@redis\.redis\.svc:6379$/, `@127.0.0.1:${port}`), {
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        retryStrategy: () => null,
      });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    };
    const [a, b] = [as(tenants[0]!.url), as(tenants[1]!.url)];
    await b.set('student-b:hashes', '42');
    assert.equal(await a.incr('student-a:hashes'), 1);
    await assert.rejects(a.get('student-b:hashes'), /NOPERM/);
    await assert.rejects(a.set('student-b:hashes', '0'), /NOPERM/);
    await assert.rejects(a.keys('*'), /NOPERM/);
    await assert.rejects(a.call('CONFIG', 'GET', '*'), /NOPERM/);
    assert.equal(await b.get('student-b:hashes'), '42');

    // helm uninstall student-b: its post-delete Job's script removes its keys and its user, nothing of student-a.
    await b.set('student-b:wallet', 'x');
    const rm = podSpec(aclRemove(tenant('student-b')))!.containers[0]!.command!.slice(2);
    const { stdout: out } = await promisify(execFile)('sh', ['-c', ...rm], {
      env: { PATH: process.env.PATH, REDISCLI_AUTH: ADMIN, REDIS_HOST: '127.0.0.1', REDIS_PORT: port },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.match(out, /^unlinked 2 keys of student-b\nACL DELUSER student-b → 1\nACL SAVE → OK\n$/, out);
    const admin = new Redis(`redis://:${ADMIN}@127.0.0.1:${port}`, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    clients.push(admin);
    assert.deepEqual((await admin.keys('*')).sort(), ['student-a:hashes']);
    assert.ok(!readFileSync(file, 'utf8').includes('student-b'), 'student-b is gone from the ACL file');
    await assert.rejects(as(tenants[1]!.url).ping(), /WRONGPASS|NOAUTH/);
  });
});
