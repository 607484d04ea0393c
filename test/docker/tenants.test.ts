// Tenants on a real Docker engine, a class of 3 under a class id of this test's own (so `remove --all` touches
// nothing of anybody else): concurrent adds share one Redis, each tenant has its own /27 network, limits and
// labels; the ACL isolation from inside a tenant's network; a Redis restart keeps the users; scale and remove
// touch only their tenant; bad names exit 2, no engine exits 1 naming DOCKER_HOST.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { engineReachable, ROOT, testImages } from '../helpers/images.js';
import { json, waitFor } from '../helpers/net.js';
import { CLI } from '../helpers/proc.js';
import { needs } from '../helpers/skip.js';

const run = promisify(execFile);
const engine = engineReachable();
const CLASS = `t22${randomBytes(3).toString('hex')}`;
const [A, B, C] = ['t22-a', 't22-b', 't22-c'];
let env: Record<string, string> = {};

async function sh(cmd: string, args: string[], extraEnv: Record<string, string> = {}, timeout = 180_000) {
  try {
    const r = await run(cmd, args, { cwd: ROOT, env: { ...process.env, ...env, ...extraEnv }, timeout, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const cli = (args: string[], extraEnv: Record<string, string> = {}) => sh('node', [CLI, ...args, '--class', CLASS], extraEnv);
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, `dockercoins ${args.join(' ')} → exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
async function docker(...args: string[]): Promise<string> {
  const r = await sh('docker', args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} → exit ${r.code}\n${r.stderr}`);
  return r.stdout.trim();
}
const inspect = async (name: string) => JSON.parse(await docker('inspect', name))[0];
const ids = async (label: string) =>
  (await docker('ps', '-aq', '--no-trunc', '--filter', `label=dockercoins.class=${CLASS}`, '--filter', label)).split('\n').filter(Boolean).sort();

interface Listed {
  name: string;
  url: string;
  port: number;
  workers: number;
  state: string;
}
const list = async (): Promise<Listed[]> => JSON.parse(await ok(['tenant', 'list', '--json']));

/** A tenant's Redis password, as its containers got it (REDIS_URL). */
async function passwordOf(tenant: string): Promise<string> {
  const e: string[] = (await inspect(`${CLASS}-${tenant}-webui`)).Config.Env;
  return decodeURIComponent(new URL(e.find((v) => v.startsWith('REDIS_URL='))!.slice(10)).password);
}

/** redis-cli from a new container on a tenant's network, one reply line per command. */
async function redisFrom(network: string, user: string | null, password: string, commands: string[]): Promise<string[]> {
  const auth = user ? ['--user', user, '--pass', password, '--no-auth-warning'] : [];
  const script = commands.map((c) => `redis-cli -h redis ${auth.map((a) => `'${a}'`).join(' ')} ${c} 2>&1 | head -n 1`).join('; ');
  return (await docker('run', '--rm', '--network', network, '--entrypoint', 'sh', 'redis:7-alpine', '-c', script)).split('\n');
}

/** The shared Redis as its `default` user (the password from its own environment), for what the test checks. */
async function adminRedis(args: string): Promise<string> {
  return docker('exec', `${CLASS}-redis`, 'sh', '-c', `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ${args}`);
}

const hashesOf = async (t: Listed) => (await json<{ hashes: number }>(`http://127.0.0.1:${t.port}/json`)).hashes;

describe('tenants on the Docker engine (a class of 3)', {
  skip: needs(engine, 'no Docker engine reachable (scripts/test.sh starts one when run as root on Debian)'),
  timeout: 600_000,
}, () => {
  // A ref'd timer for the suite: a fetch to a published port whose container is still starting can be left with only
  // unref'd timers (AbortSignal.timeout), and node:test then ends the run with "Promise resolution is still pending".
  let keepAlive: NodeJS.Timeout | undefined;
  before(() => {
    keepAlive = setInterval(() => undefined, 1000);
    const images = testImages();
    const [registry, tag] = [images.rng.split('/')[0]!, images.rng.split(':')[1]!];
    env = { REGISTRY: registry, TAG: tag };
  });
  after(async () => {
    await cli(['tenant', 'remove', '--all']);
    clearInterval(keepAlive);
  });

  it('refuses bad names with exit 2, and says which DOCKER_HOST does not answer (exit 1)', async () => {
    for (const bad of ['default', 'Bad', '1x', 'a_b', 'x-']) {
      const r = await cli(['tenant', 'add', bad]);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /tenant name/);
    }
    assert.equal((await cli(['tenant', 'add', A, '--workers', 'lots'])).code, 2);
    const gone = await cli(['tenant', 'list'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock/);
  });

  it('concurrent adds (one command, and one command for two names): one shared Redis, each tenant its own /27 network, labelled and limited containers', async (t) => {
    const started = Date.now();
    const outs = await Promise.all([
      ok(['tenant', 'add', A, '--workers', '2', '--public-host', 'class.example']),
      ok(['tenant', 'add', B, C, '--public-host', 'class.example']),
    ]);
    t.diagnostic(`3 tenants by 2 concurrent commands in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const lines = outs.join('\n').split('\n').filter(Boolean).sort();
    assert.equal(lines.length, 3, outs.join('\n'));
    lines.forEach((line, i) => assert.match(line, new RegExp(`^added ${[A, B, C][i]} {2}http://class\\.example:\\d+/`)));
    assert.equal((await ids('label=dockercoins.role=redis')).length, 1, 'one shared Redis');
    const redis = await inspect(`${CLASS}-redis`);
    const subnets = new Set<string>();
    for (const [tenant, workers] of [
      [A, 2],
      [B, 1],
      [C, 1],
    ] as const) {
      const net = await inspect(`${CLASS}-${tenant}`);
      const subnet: string = net.IPAM.Config[0].Subnet;
      assert.match(subnet, /^10\.222\.\d+\.\d+\/27$/);
      subnets.add(subnet);
      assert.equal(net.Labels['dockercoins.tenant'], tenant);
      assert.deepEqual(redis.NetworkSettings.Networks[`${CLASS}-${tenant}`].Aliases.includes('redis'), true, `Redis on ${tenant}'s network`);
      const mine = await ids(`label=dockercoins.tenant=${tenant}`);
      assert.equal(mine.length, 3 + workers);
      for (const id of mine) {
        const c = await inspect(id);
        assert.equal(c.HostConfig.NetworkMode, `${CLASS}-${tenant}`);
        assert.ok(c.HostConfig.NanoCpus > 0 && c.HostConfig.Memory > 0, `${c.Name} has CPU and memory limits`);
        assert.ok(!c.Config.Env.some((e: string) => e.startsWith('REDIS_PASSWORD=')), `${c.Name} never gets the admin password`);
        assert.equal(c.State.Running, true, c.Name);
        if (c.Config.Labels['dockercoins.service'] === 'webui') assert.equal(c.HostConfig.PortBindings['80/tcp'][0].HostIp, '', 'every interface');
      }
    }
    assert.equal(subnets.size, 3, 'three different subnets');
  });

  it('add is idempotent; list --json says every tenant with its url and workers', async () => {
    const before = await ids('label=dockercoins.tenant');
    assert.match(await ok(['tenant', 'add', B, '--workers', '5']), /^exists: t22-b/);
    assert.deepEqual(await ids('label=dockercoins.tenant'), before);
    const tenants = await list();
    assert.deepEqual(
      tenants.map((x) => [x.name, x.workers, x.state]),
      [
        [A, 2, 'running'],
        [B, 1, 'running'],
        [C, 1, 'running'],
      ],
    );
    for (const x of tenants) assert.equal(x.url, `http://class.example:${x.port}/`);
    assert.match(await ok(['tenant', 'list']), /t22-a\s+2\s+running\s+http:\/\/class\.example:/);
  });

  it('every tenant mines into its own keys', async () => {
    const tenants = await list();
    for (const x of tenants) await waitFor(`${x.name} mining`, async () => (await hashesOf(x).catch(() => 0)) > 0, 120_000, 1000);
    const keys = (await adminRedis('--scan')).split('\n');
    for (const x of tenants) assert.ok(keys.includes(`${x.name}:hashes`), `${x.name}:hashes in Redis`);
    assert.ok(!keys.includes('hashes'), 'nobody writes unprefixed keys');
  });

  it("isolation: with A's credentials B's keys, KEYS and SCAN are refused; A's containers cannot reach B's", async (t) => {
    const pw = await passwordOf(A);
    const lines = await redisFrom(`${CLASS}-${A}`, A, pw, [
      `GET ${B}:hashes`,
      `SET ${B}:hashes 0`,
      "KEYS '*'",
      'SCAN 0',
      'CONFIG GET maxmemory',
      'FLUSHALL',
      `GET ${A}:hashes`,
    ]);
    t.diagnostic(`as ${A}: GET ${B}:hashes | SET ${B}:hashes | KEYS * | SCAN 0 | CONFIG GET | FLUSHALL | GET ${A}:hashes →\n${lines.join('\n')}`);
    for (const l of lines.slice(0, 6)) assert.match(l, /^NOPERM/);
    assert.match(lines[6]!, /^\d+$/, "A's own key");
    const [anon] = await redisFrom(`${CLASS}-${A}`, null, '', ['PING']);
    assert.match(anon!, /^NOAUTH/, 'no credentials, no access');
    const [bAsA] = await redisFrom(`${CLASS}-${A}`, B, pw, ['PING']);
    assert.match(bAsA!, /WRONGPASS/, "A's password is not B's");

    const bRng = Object.values((await inspect(`${CLASS}-${B}-rng`)).NetworkSettings.Networks as Record<string, { IPAddress: string }>)[0]!.IPAddress;
    const aRng = Object.values((await inspect(`${CLASS}-${A}-rng`)).NetworkSettings.Networks as Record<string, { IPAddress: string }>)[0]!.IPAddress;
    const probe = (target: string) =>
      docker(
        'exec',
        `${CLASS}-${A}-worker-1`,
        'node',
        '-e',
        `fetch('http://${target}/', { signal: AbortSignal.timeout(3000) }).then((r) => console.log('reached', r.status), (e) => console.log('unreachable', e.cause?.code ?? e.name))`,
      );
    const toB = await probe(bRng);
    const toOwn = await probe('rng');
    t.diagnostic(`from ${A}'s worker: B's rng (${bRng}) → ${toB}; its own rng (${aRng}) → ${toOwn}`);
    assert.match(toB, /^unreachable/);
    assert.match(toOwn, /^reached 200/);
  });

  it('a Redis restart keeps every tenant user, and mining goes on', async () => {
    const before = (await list()).find((x) => x.name === C)!;
    await docker('restart', `${CLASS}-redis`);
    await waitFor('Redis back', async () => (await adminRedis('ping').catch(() => '')) === 'PONG', 60_000, 500);
    const users = (await adminRedis('acl users')).split('\n');
    for (const x of [A, B, C]) assert.ok(users.includes(x), `${x} kept`);
    const [own] = await redisFrom(`${CLASS}-${C}`, C, await passwordOf(C), [`GET ${C}:hashes`]);
    assert.match(own!, /^\d+$/);
    const h0 = await hashesOf(before).catch(() => 0);
    await waitFor(`${C} mining after the restart`, async () => (await hashesOf(before).catch(() => 0)) > h0, 90_000, 1000);
  });

  it("scale changes that tenant's workers only", async () => {
    const others = [...(await ids(`label=dockercoins.tenant=${B}`)), ...(await ids(`label=dockercoins.tenant=${C}`))];
    assert.match(await ok(['tenant', 'scale', A, 'worker=1']), /workers=1/);
    assert.match(await ok(['tenant', 'scale', C, 'worker=2']), /workers=2/);
    const tenants = await list();
    assert.deepEqual(
      tenants.map((x) => x.workers),
      [1, 1, 2],
    );
    const now = [...(await ids(`label=dockercoins.tenant=${B}`)), ...(await ids(`label=dockercoins.tenant=${C}`))];
    for (const id of others) assert.ok(now.includes(id), 'no container of another tenant replaced');
    assert.equal((await cli(['tenant', 'scale', 't22-nobody', 'worker=1'])).code, 1);
    assert.equal((await cli(['tenant', 'scale', A, 'rng=2'])).code, 2);
  });

  it('remove takes the tenant’s containers, network, user and keys, and nothing of the others', async () => {
    const keep = [...(await ids(`label=dockercoins.tenant=${A}`)), ...(await ids(`label=dockercoins.tenant=${C}`))];
    assert.match(await ok(['tenant', 'remove', B]), /^removed t22-b/);
    assert.deepEqual(await ids(`label=dockercoins.tenant=${B}`), []);
    assert.equal((await sh('docker', ['network', 'inspect', `${CLASS}-${B}`])).code, 1, 'network gone');
    assert.ok(!(await adminRedis('acl users')).split('\n').includes(B), 'user gone');
    assert.equal(await adminRedis(`--scan --pattern '${B}:*'`), '', 'keys gone');
    assert.ok((await adminRedis(`--scan --pattern '${A}:*'`)).length > 0, "A's keys kept");
    assert.deepEqual([...(await ids(`label=dockercoins.tenant=${A}`)), ...(await ids(`label=dockercoins.tenant=${C}`))], keep);
    assert.match(await ok(['tenant', 'remove', B]), /nothing to remove/);
  });

  it('remove --all ends the class: every tenant, then the shared Redis and its volume', async () => {
    assert.match(await ok(['tenant', 'remove', '--all']), /removed 2 tenant\(s\): t22-a t22-c/);
    assert.deepEqual(await ids('label=dockercoins.class'), []);
    assert.equal(await docker('network', 'ls', '-q', '--filter', `label=dockercoins.class=${CLASS}`), '');
    assert.equal((await sh('docker', ['volume', 'inspect', `${CLASS}-redis-data`])).code, 1);
  });
});

// Compose projects as tenants (compose.tenant.yml): `tenant add NAME --compose` makes the network and the Redis user,
// the project's network is that tenant network, and its worker and webui log in to the class's shared Redis.
describe('Compose projects as tenants of the shared Redis (tenant add --compose, compose.tenant.yml)', {
  skip: needs(engine, 'no Docker engine reachable (scripts/test.sh starts one when run as root on Debian)'),
  timeout: 600_000,
}, () => {
  const TENANTS = ['t22-ca', 't22-cb'] as const;
  const envFile = (t: string) => `${ROOT}.test-artifacts/${CLASS}-${t}.env`;
  const project = (t: string) => `${CLASS}-${t}`;
  const compose = (t: string, ...args: string[]) =>
    sh('docker-compose', ['--env-file', envFile(t), '-p', project(t), '-f', 'compose.yml', '-f', 'compose.tenant.yml', ...args], {
      WEBUI_PORT: '0',
      RNG_PORT: '0',
      HASHER_PORT: '0',
    });
  const composeOk = async (t: string, ...args: string[]) => {
    const r = await compose(t, ...args);
    assert.equal(r.code, 0, `docker-compose -p ${project(t)} ${args.join(' ')} → exit ${r.code}\n${r.stderr}`);
    return r.stdout.trim();
  };
  const vars = (t: string) =>
    Object.fromEntries(
      readFileSync(envFile(t), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s, 2) as [string, string]),
    );
  const webuiPort = async (t: string) => Number((await composeOk(t, 'port', 'webui', '80')).split(':').pop());
  const projectContainers = async (t: string) =>
    (await docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${project(t)}`)).split('\n').filter(Boolean);

  let keepAlive: NodeJS.Timeout | undefined; // as above: a ref'd timer while dashboards are polled
  before(() => {
    keepAlive = setInterval(() => undefined, 1000);
    mkdirSync(`${ROOT}.test-artifacts`, { recursive: true });
    const images = testImages();
    env = { REGISTRY: images.rng.split('/')[0]!, TAG: images.rng.split(':')[1]! };
  });
  after(async () => {
    for (const t of TENANTS) if (existsSync(envFile(t))) await compose(t, 'down', '-v', '--remove-orphans');
    await cli(['tenant', 'remove', '--all']);
    for (const t of TENANTS) rmSync(envFile(t), { force: true });
    clearInterval(keepAlive);
  });

  it('tenant add --compose prints the env file (network, class, tenant, REDIS_URL); a repeated add prints the same', async () => {
    assert.equal((await cli(['tenant', 'add', 't22-ca', '--compose', '--workers', '2'])).code, 2, 'workers are the project’s');
    for (const t of TENANTS) writeFileSync(envFile(t), await ok(['tenant', 'add', t, '--compose', '--public-host', 'class.example']), { mode: 0o600 });
    const a = vars(TENANTS[0]);
    assert.equal(a.TENANT_NETWORK, `${CLASS}-${TENANTS[0]}`);
    assert.equal(a.DOCKERCOINS_NAMESPACE, TENANTS[0]);
    assert.equal(a.DOCKERCOINS_CLASS, CLASS);
    assert.match(a.REDIS_URL!, new RegExp(`^redis://${TENANTS[0]}:[0-9a-f]{36}@redis:6379$`));
    assert.equal(await ok(['tenant', 'add', TENANTS[0], '--compose', '--public-host', 'class.example']), readFileSync(envFile(TENANTS[0]), 'utf8'));
    assert.notEqual(vars(TENANTS[1]).REDIS_URL, a.REDIS_URL, 'a password per tenant');
  });

  it('two projects mine into the one shared Redis, each under its own prefix; the project’s own redis only stands in', async (t) => {
    await Promise.all(TENANTS.map((x) => composeOk(x, 'up', '-d', '--no-build')));
    for (const x of TENANTS) {
      const port = await webuiPort(x);
      await waitFor(
        `${x} mining`,
        async () => (await json<{ hashes: number }>(`http://127.0.0.1:${port}/json`).catch(() => ({ hashes: 0 }))).hashes > 0,
        120_000,
        1000,
      );
    }
    const keys = (await adminRedis('--scan')).split('\n');
    t.diagnostic(`keys in the shared Redis: ${keys.sort().join(' ')}`);
    for (const x of TENANTS) assert.ok(keys.includes(`${x}:hashes`), `${x}:hashes in the shared Redis`);
    assert.ok(
      keys.every((k) => TENANTS.some((x) => k.startsWith(`${x}:`))),
      'every key under a tenant prefix',
    );
    for (const x of TENANTS) {
      const standIn = await inspect(`${project(x)}_redis_1`);
      assert.equal(standIn.HostConfig.NetworkMode, 'none', 'the project’s redis is on no network');
      const webui = await inspect(`${project(x)}_webui_1`);
      assert.deepEqual(Object.keys(webui.NetworkSettings.Networks), [`${CLASS}-${x}`], 'the project runs on the tenant network only');
    }
    const listed: Listed[] = JSON.parse(await ok(['tenant', 'list', '--json']));
    assert.deepEqual(
      listed.map((x) => [x.name, x.workers, x.state]),
      TENANTS.map((x) => [x, 1, 'running']),
    );
    assert.equal(listed[0]!.url, `http://class.example:${await webuiPort(TENANTS[0])}/`, 'the class page finds its dashboard');
  });

  it("isolation: with A's credentials B's keys and KEYS are refused (NOPERM); A's own keys answer", async (t) => {
    const [a, b] = TENANTS;
    const pw = decodeURIComponent(new URL(vars(a).REDIS_URL!).password);
    const lines = await redisFrom(`${CLASS}-${a}`, a, pw, [`GET ${b}:hashes`, `SET ${b}:hashes 0`, "KEYS '*'", 'SCAN 0', `GET ${a}:hashes`]);
    t.diagnostic(`as ${a}: GET ${b}:hashes | SET ${b}:hashes | KEYS * | SCAN 0 | GET ${a}:hashes →\n${lines.join('\n')}`);
    for (const l of lines.slice(0, 4)) assert.match(l, /^NOPERM/);
    assert.match(lines[4]!, /^\d+$/);
  });

  it('docker-compose down and tenant remove leave nothing of either tenant', async () => {
    for (const x of TENANTS) {
      await composeOk(x, 'down', '-v');
      assert.match(await ok(['tenant', 'remove', x]), new RegExp(`^removed ${x}`));
      assert.deepEqual(await projectContainers(x), []);
      assert.equal((await sh('docker', ['network', 'inspect', `${CLASS}-${x}`])).code, 1, 'network gone');
      assert.equal((await sh('docker', ['volume', 'inspect', `${project(x)}_redis-data`])).code, 1, 'volume gone');
      assert.equal(await adminRedis(`--scan --pattern '${x}:*'`), '', 'keys gone');
    }
    assert.match(await ok(['tenant', 'remove', '--all']), /removed 0 tenant\(s\)/);
    assert.deepEqual(await ids('label=dockercoins.class'), []);
  });
});
