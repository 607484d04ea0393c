// The container path on a real Docker engine: the four images, compose.yml (healthy, mining, the plateau at
// 10 workers, a fast stop with the final flush in Redis, two tenants side by side) and the Swarm stack.
// scripts/test.sh starts the engine (shared/tools/docker-sandbox here); without one these tests say so and stop.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { engineReachable, ownEngine, type Service, TEST_REGISTRY, testImages } from '../helpers/images.js';
import { json, waitFor } from '../helpers/net.js';
import { CLI } from '../helpers/proc.js';
import { measureRate } from '../helpers/rate.js';
import { needs, skipOrFail } from '../helpers/skip.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
// Without an engine these tests are skipped locally (listed at the end of npm test) and fail under CI=true.
const engine = engineReachable();
const skip = needs(engine, 'no Docker engine reachable (scripts/test.sh starts one when run as root on Debian)');
// The images under the tests' own names (dockercoins-test/<service>:t-<hash>): a user's dockercoins/* are never touched.
let images: Record<Service, string>;
// Every project and container of this run is named dctest<run>…: two runs on one engine never meet.
const RUN = `dctest${process.pid.toString(36)}`;
const imageEnv = () => ({ REGISTRY: TEST_REGISTRY, TAG: images.rng.split(':').pop()! });

async function sh(cmd: string, args: string[], env: Record<string, string> = {}, timeout = 300_000): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd: root, env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`.slice(0, 4000));
  }
}

/** Runs a Node script in a new container on a Compose network: a client that is not the service's loopback. */
async function inNetwork(network: string, script: string): Promise<string> {
  return (await sh('docker', ['run', '--rm', '--network', network, '--entrypoint', 'node', images.worker, '--input-type=module', '-e', script])).trim();
}

/** CPU time a container has used (its cgroup: the service and every healthcheck it ran), in ms; null if unreadable. */
function cpuMs(id: string): number | null {
  const v1 = `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`;
  const v2 = [`/sys/fs/cgroup/docker/${id}/cpu.stat`, `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`];
  try {
    return Number(readFileSync(v1, 'utf8')) / 1e6;
  } catch {
    for (const f of v2) {
      try {
        return Number(/usage_usec (\d+)/.exec(readFileSync(f, 'utf8'))?.[1]) / 1e3;
      } catch {
        // next layout
      }
    }
    return null;
  }
}

const health = async (id: string) => (await sh('docker', ['inspect', '--format', '{{.State.Health.Status}}', id])).trim();

/** A Compose project whose published ports the engine picks (`0:80`), read back with `docker-compose port`. */
class Project {
  readonly env: Record<string, string>;
  webui = '';
  rng = '';
  constructor(
    readonly name: string,
    extra: Record<string, string> = {},
  ) {
    this.env = { COMPOSE_PROJECT_NAME: name, WEBUI_PORT: '0', RNG_PORT: '0', HASHER_PORT: '0', ...imageEnv(), ...extra };
  }
  compose(...args: string[]): Promise<string> {
    return sh('docker-compose', ['-f', 'compose.yml', ...args], this.env);
  }
  /** `up -d` with the given arguments, then where webui and rng were published. */
  async up(...args: string[]): Promise<void> {
    await this.compose('up', '-d', '--no-build', ...args);
    const published = async (svc: string) => `http://127.0.0.1:${(await this.compose('port', svc, '80')).trim().split(':').pop()}`;
    [this.webui, this.rng] = [await published('webui'), await published('rng')];
  }
  async healthy(count: number): Promise<void> {
    await waitFor(
      `${count} healthy containers in ${this.name}`,
      async () => {
        const ids = (await this.compose('ps', '-q')).split('\n').filter(Boolean);
        if (ids.length < count) return false;
        const states = (await sh('docker', ['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}', ...ids]))
          .split('\n')
          .filter(Boolean);
        return states.filter((s) => s === 'healthy').length >= count;
      },
      90_000,
      1000,
    );
  }
}

describe('container images and Compose', { skip }, () => {
  let p: Project;
  before(async () => {
    images = testImages();
    p = new Project(RUN);
    await p.compose('down', '-v', '--remove-orphans').catch(() => undefined);
  });
  after(async () => {
    await p.compose('down', '-v', '--remove-orphans').catch(() => undefined);
  });

  it('docker-compose build: four small, non-root images with a curl-free HEALTHCHECK and port 80, and no node_modules', async () => {
    // Same context and arguments as testImages(): the build cache answers, under the tests' own image names.
    await p.compose('build');
    const base = Number((await sh('docker', ['image', 'inspect', 'node:22-bookworm-slim', '--format', '{{.Size}}'])).trim());
    for (const svc of ['rng', 'hasher', 'worker', 'webui']) {
      const [user, health, ports, size] = (
        await sh('docker', [
          'image',
          'inspect',
          images[svc as Service],
          '--format',
          '{{.Config.User}}|{{json .Config.Healthcheck.Test}}|{{json .Config.ExposedPorts}}|{{.Size}}',
        ])
      )
        .trim()
        .split('|');
      assert.equal(user, 'node', `${svc} runs as a non-root user`);
      assert.equal(health, '["CMD","/app/healthcheck"]', `${svc}: the shell probe, no Node start per check`);
      assert.match(ports!, /"80\/tcp"/);
      assert.ok(Number(size) < 250e6, `${svc} image is ${(Number(size) / 1e6).toFixed(0)} MB`);
      const app = (await sh('docker', ['run', '--rm', '--entrypoint', 'ls', images[svc as Service], '-A', '/app'])).trim();
      assert.equal(app, 'dist\nhealthcheck', `${svc}: the image holds the bundles and the probe only`);
      if (svc === 'rng')
        console.log(
          `image size: ${(Number(size) / 1e6).toFixed(1)} MB, of which DockerCoins ${((Number(size) - base) / 1e6).toFixed(1)} MB over the base image`,
        );
    }
  });

  it('docker-compose up: all five services become healthy and the hashes grow', async () => {
    await p.up();
    await p.healthy(5);
    const a = await waitFor(
      'mining',
      async () => ((await json<{ hashes: number }>(`${p.webui}/json`)).hashes > 0 ? json<{ hashes: number }>(`${p.webui}/json`) : false),
      30_000,
    );
    await sleep(2500);
    const b = await json<{ hashes: number }>(`${p.webui}/json`);
    assert.ok(b.hashes > a.hashes);
    const banner = await (await fetch(`${p.rng}/`)).text();
    assert.match(banner, /^RNG running on [0-9a-f]{12}\n$/, 'rng answers on 8001-style port with its container hostname');
  });

  it('healthchecks cost almost nothing: the 7-container stack at 3 workers, and one rng without, with the probe, with a Node probe', async (t) => {
    await p.up('--scale', 'worker=3');
    await p.healthy(7);
    // Three idle rng containers beside the stack, measured in the same window: the healthcheck's own cost.
    const rngAs = async (name: string, ...health: string[]) =>
      (await sh('docker', ['run', '-d', '--name', name, '--read-only', '--cap-drop', 'ALL', ...health, images.rng])).trim();
    const names = [`${RUN}-rng-none`, `${RUN}-rng-probe`, `${RUN}-rng-node`];
    await sh('docker', ['rm', '-f', ...names]).catch(() => undefined);
    try {
      const side = [await rngAs(names[0]!, '--no-healthcheck'), await rngAs(names[1]!), await rngAs(names[2]!, '--health-cmd', 'node dist/healthcheck.js')];
      await waitFor('side containers healthy', async () => (await health(side[1]!)) === 'healthy' && (await health(side[2]!)) === 'healthy', 30_000, 500);
      const stack = (await p.compose('ps', '-q')).split('\n').filter(Boolean);
      const ids = [...stack, ...side];
      const full = (await sh('docker', ['inspect', '--format', '{{.Id}} {{.Name}}', ...ids]))
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]);
      const start = full.map(([id]) => cpuMs(id));
      if (start.some((v) => v === null)) return skipOrFail(t, "the containers' cgroups are not readable here: no CPU figure");
      const seconds = 30; // three checks at the images' 10 s interval
      await sleep(seconds * 1000);
      const used = full.map(([id, name], i) => ({ name: name.slice(1), pct: ((cpuMs(id)! - start[i]!) / (seconds * 1000)) * 100 }));
      const of = (name: string) => used.find((u) => u.name === name)!.pct;
      const total = used.filter((u) => !names.includes(u.name)).reduce((a, u) => a + u.pct, 0);
      console.log(
        `idle cost over ${seconds} s, % of one core: the stack at 3 workers (7 containers, healthchecks every 10 s) ${total.toFixed(1)} %` +
          ` (${used
            .filter((u) => !names.includes(u.name))
            .map((u) => `${u.name.replace(`${RUN}_`, '')} ${u.pct.toFixed(1)}`)
            .join(', ')});` +
          ` one rng: no healthcheck ${of(names[0]!).toFixed(2)} %, the probe ${of(names[1]!).toFixed(2)} %, a Node probe ${of(names[2]!).toFixed(2)} %`,
      );
      assert.ok(of(names[1]!) < of(names[2]!), 'the probe costs less than starting Node for each check');
    } finally {
      await sh('docker', ['rm', '-f', ...names]).catch(() => undefined);
    }
  });

  it('the healthcheck turns a hung or dead service unhealthy, and keeps a draining one healthy', async () => {
    const fast = ['--health-interval', '1s', '--health-retries', '2', '--health-timeout', '3s'];
    const start = async (name: string, ...args: string[]) => {
      await sh('docker', ['rm', '-f', name]).catch(() => undefined);
      return (await sh('docker', ['run', '-d', '--name', name, '--read-only', ...fast, ...args, images.hasher])).trim();
    };
    const [hung, dead, draining] = [
      await start(`${RUN}-hung`),
      await start(`${RUN}-dead`, '-e', 'HEALTHCHECK_PORT=81'),
      await start(`${RUN}-drain`, '-e', 'DRAIN_MS=6000'),
    ];
    try {
      await waitFor('hasher healthy', async () => (await health(hung)) === 'healthy' && (await health(draining)) === 'healthy', 30_000, 500);
      await sh('docker', ['kill', '-s', 'STOP', hung]);
      await waitFor('a stopped (hung) process turns unhealthy', async () => (await health(hung)) === 'unhealthy', 30_000, 500);
      await sh('docker', ['kill', '-s', 'CONT', hung]);
      await waitFor('and healthy once it runs again', async () => (await health(hung)) === 'healthy', 30_000, 500);
      await waitFor('nobody on the probed port: unhealthy', async () => (await health(dead)) === 'unhealthy', 30_000, 500);
      await sh('docker', ['kill', '-s', 'TERM', draining]);
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const [running, status] = (await sh('docker', ['inspect', '--format', '{{.State.Running}} {{.State.Health.Status}}', draining])).trim().split(' ');
        if (running === 'true') seen.add(status!);
        await sleep(500);
      }
      assert.deepEqual([...seen], ['healthy'], 'healthy through the drain (4 s at one check a second, two failures to flip)');
    } finally {
      await sh('docker', ['rm', '-f', hung, dead, draining]).catch(() => undefined);
    }
  });

  it('admin calls from another container (not loopback) are refused without ADMIN_TOKEN; the data path stays open', async () => {
    const out = await inNetwork(
      `${p.name}_default`,
      `const a = await fetch('http://rng/admin/faults?unready=true', { method: 'POST' });
       const d = await fetch('http://rng/32');
       const h = await fetch('http://hasher/', { method: 'POST', body: 'x' });
       console.log(a.status, (await a.text()).includes('ADMIN_TOKEN'), d.status, (await d.arrayBuffer()).byteLength, h.status);`,
    );
    assert.equal(out, '403 true 200 32 200');
    assert.equal((await fetch(`${p.rng}/readyz`)).status, 200, 'the refused call changed nothing');
  });

  it('--scale worker=10 plateaus near 10 hashes/s (rng-bound)', async () => {
    await p.up('--scale', 'worker=10');
    await p.healthy(14);
    await sleep(4000);
    const rate = await measureRate(p.webui, 12);
    console.log(`compose, 10 workers: ${rate.toFixed(2)} hashes/s`);
    assert.ok(rate >= 7 && rate <= 11, `10 workers on one rng: ${rate.toFixed(2)} hashes/s`);
  });

  it('docker-compose stop: every service handles SIGTERM (exit 0, not killed at 10 s) and every worker flush is in Redis', async () => {
    const ids = (await p.compose('ps', '-q')).split('\n').filter(Boolean);
    const t0 = Date.now();
    await p.compose('stop');
    console.log(`compose stop (14 containers): ${Date.now() - t0} ms`);
    const exits = (await sh('docker', ['inspect', '--format', '{{.Name}} {{.State.ExitCode}}', ...ids])).trim().split('\n');
    assert.deepEqual(
      exits.filter((l) => !l.endsWith(' 0')),
      [],
      'no container was killed (137) or failed',
    );
    const logs = await p.compose('logs', '--no-color', 'worker');
    const flushed = [...logs.matchAll(/stopped: \d+ units done, (\d+) flushed/g)].map((m) => Number(m[1]));
    assert.equal(flushed.length, 10, 'every worker said its last words');
    await p.compose('start', 'redis');
    const hashes = await waitFor(
      'redis back',
      async () => Number((await p.compose('exec', '-T', 'redis', 'redis-cli', 'get', 'hashes')).trim()) || false,
      30_000,
      500,
    );
    assert.equal(
      hashes,
      flushed.reduce((a, b) => a + b, 0),
      'Redis holds exactly what the workers flushed',
    );
  });

  it('two tenants run side by side as isolated projects', async () => {
    await p.compose('down', '-v');
    // Projects of the tests' own names: a user's `acme` (the README's example tenant) is never brought down.
    const [acme, globex] = [new Project(`${RUN}acme`, { ADMIN_TOKEN: 'acme-admin-token' }), new Project(`${RUN}globex`, { WORKER_DELAY_MS: '400' })];
    try {
      await Promise.all([acme.up(), globex.up()]);
      await Promise.all([acme.healthy(5), globex.healthy(5)]);
      // ADMIN_TOKEN passed through by Compose: from another container, a bearer token is needed — and enough.
      const statuses = await inNetwork(
        `${RUN}acme_default`,
        `const call = (auth, method = 'POST') => fetch('http://hasher/admin/faults?latency_ms=1', { method, headers: auth ? { authorization: 'Bearer ' + auth } : {} }).then((r) => r.status);
         console.log(await call(), await call('wrong'), await call('acme-admin-token'), await call('acme-admin-token', 'DELETE'));`,
      );
      assert.equal(statuses, '401 401 200 200');
      const hasherLog = await acme.compose('logs', '--no-color', 'hasher');
      assert.doesNotMatch(hasherLog, /acme-admin-token/, 'the token is never logged');
      assert.match(hasherLog, /fault injection set from (::ffff:)?\d+\.\d+\.\d+\.\d+: \{"latencyMs":1/, 'the accepted change is audited, with its address');
      await sleep(5000);
      const [a, g] = [await json<{ hashes: number }>(`${acme.webui}/json`), await json<{ hashes: number }>(`${globex.webui}/json`)];
      assert.ok(a.hashes > 0 && g.hashes > 0);
      assert.notEqual(a.hashes, g.hashes, 'each tenant counts its own');
      assert.ok(a.hashes > g.hashes, `acme (100 ms sleeps) mines faster than globex (400 ms): ${a.hashes} vs ${g.hashes}`);
    } finally {
      await Promise.all([acme.compose('down', '-v'), globex.compose('down', '-v')]);
    }
  });

  it('npm run images: v0.1 and v0.2 build; the v0.2 worker is 4× slower by default (rollout lesson); v0.3 does not exist', async () => {
    // Built under the tests' own registry name: a user's dockercoins/*:v0.1 and v0.2 are left alone.
    const images = (tag: string) => ['run', '--silent', 'images', '--', '--registry', TEST_REGISTRY, '--tag', tag];
    for (const tag of ['v0.1', 'v0.2']) await sh('npm', images(tag), {}, 600_000);
    const refused = await sh('npm', images('v0.3')).then(
      () => '',
      (err: Error) => err.message,
    );
    assert.match(refused, /v0\.3 deliberately does not exist/);
    // The same Compose file at each tag, side by side, one worker each, no WORKER_DELAY_MS given: the image decides.
    const [v1, v2] = [new Project(`${RUN}v01`, { TAG: 'v0.1' }), new Project(`${RUN}v02`, { TAG: 'v0.2', SIGTERM_MODE: 'ignore' })];
    try {
      await Promise.all([v1.up(), v2.up()]);
      await Promise.all([v1.healthy(5), v2.healthy(5)]);
      const version = (await fetch(`${v2.rng}/`)).headers.get('x-dockercoins-version');
      assert.equal(version, 'v0.2');
      await sleep(3000);
      const [r1, r2] = await Promise.all([measureRate(v1.webui, 15), measureRate(v2.webui, 15)]);
      console.log(`one worker: v0.1 ${r1.toFixed(2)} hashes/s, v0.2 ${r2.toFixed(2)} hashes/s`);
      assert.ok(Math.abs(r1 / 3.33 - 1) < 0.15, `v0.1: ${r1.toFixed(2)} hashes/s, the model says 3.33`);
      assert.ok(Math.abs(r2 / 0.833 - 1) < 0.2, `v0.2: ${r2.toFixed(2)} hashes/s, the model says 0.83 (1 s + 100 ms + 100 ms)`);
      // SIGTERM_MODE=ignore: `stop` waits its whole timeout, then the engine kills (137), as the original's did.
      const id = (await v2.compose('ps', '-q', 'worker')).trim();
      await v2.compose('stop', '-t', '3', 'worker');
      assert.equal((await sh('docker', ['inspect', '--format', '{{.State.ExitCode}}', id])).trim(), '137', 'killed, not exited');
      assert.match(await v2.compose('logs', '--no-color', 'worker'), /SIGTERM received: ignored \(SIGTERM_MODE=ignore/);
    } finally {
      await Promise.all([v1.compose('down', '-v'), v2.compose('down', '-v')]);
    }
  });

  it('compose files validate: the monitoring profile and the dev override', async () => {
    const cfg = parse(await sh('docker-compose', ['-f', 'compose.yml', '--profile', 'monitoring', 'config'])) as { services: Record<string, unknown> };
    assert.ok(cfg.services.prometheus && cfg.services.grafana);
    const dev = parse(await sh('docker-compose', ['-f', 'compose.yml', '-f', 'compose.dev.yml', 'config'])) as { services: { webui: { volumes: unknown[] } } };
    assert.equal(dev.services.webui.volumes.length, 1);
  });
});

// A swarm is the engine's, not a project's: only on an engine this run started, only when no swarm is there yet, and
// the test leaves only the swarm it created. Anywhere else it is skipped (and under CI=true that fails the run).
const swarmState = engine ? spawnSync('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'], { encoding: 'utf8', timeout: 10_000 }).stdout.trim() : '';
const swarmSkip =
  skip ||
  needs(ownEngine, 'the Swarm test changes the engine itself: only on an engine the test run started (DOCKERCOINS_TEST_OWN_ENGINE=1)') ||
  needs(swarmState === 'inactive', `the engine is already in a swarm (${swarmState}) that this test did not create`);

describe('Swarm stack', { skip: swarmSkip }, () => {
  const stack = 'dcswarm';
  let created = false;
  before(async () => {
    images = testImages();
    await sh('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    created = true;
  });
  after(async () => {
    await sh('docker', ['stack', 'rm', stack]).catch(() => undefined);
    await sleep(3000);
    if (created) await sh('docker', ['swarm', 'leave', '--force']).catch(() => undefined);
  });

  it('deploys unchanged and mines (DNS round robin, host-mode ports: no IPVS needed)', async () => {
    await sh('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', 'stacks/dockercoins.yml', stack], imageEnv());
    const webui = await waitFor('webui task', async () => (await sh('docker', ['ps', '-q', '-f', `name=${stack}_webui`])).trim() || false, 60_000, 1000);
    const read = async () =>
      JSON.parse(await sh('docker', ['exec', webui, 'node', '-e', "fetch('http://127.0.0.1/json').then(r=>r.text()).then(t=>console.log(t))"])) as {
        hashes: number;
      };
    // Swarm tasks start one by one (each first tries a pull, which fails at once here): wait for steady growth.
    const first = await waitFor('hashes', async () => ((await read()).hashes > 0 ? read() : false), 90_000, 1000);
    await waitFor('hashes growing', async () => (await read()).hashes > first.hashes + 10, 60_000, 1000);
    const mode = await sh('docker', ['service', 'inspect', `${stack}_rng`, '--format', '{{json .Spec.Mode}}']);
    assert.match(mode, /Global/);
    const update = await sh('docker', ['service', 'inspect', `${stack}_hasher`, '--format', '{{json .Spec.UpdateConfig}}']);
    assert.match(update, /"FailureAction":"rollback"/);
    const workers = await sh('docker', ['service', 'inspect', `${stack}_worker`, '--format', '{{.Spec.Mode.Replicated.Replicas}}']);
    assert.equal(workers.trim(), '10');
  });

  it('a stack per tenant: two stacks side by side, each its own overlay network, Redis and dashboard port', async (t) => {
    // docs/tenants.md "Swarm": the stack file unchanged; port 0 = the engine picks a host port for each task.
    const tenants = [`${stack}-a`, `${stack}-b`] as const;
    const ports = { WEBUI_PORT: '0', RNG_PORT: '0', HASHER_PORT: '0' };
    const task = async (service: string) => (await sh('docker', ['ps', '-q', '-f', `name=${service}.`])).trim().split('\n')[0] || '';
    /** The dashboard of a tenant's webui task, on the host port the engine gave it; 0 while there is no task. */
    const dashboard = async (name: string) => {
      const id = await task(`${name}_webui`);
      return id ? Number((await sh('docker', ['port', id, '80/tcp'])).trim().split('\n')[0]!.split(':').pop()) : 0;
    };
    const hashes = async (name: string) => {
      const port = await dashboard(name).catch(() => 0);
      return port ? (await json<{ hashes: number }>(`http://127.0.0.1:${port}/json`).catch(() => ({ hashes: 0 }))).hashes : 0;
    };
    const ipOf = async (id: string) =>
      Object.values(
        JSON.parse(await sh('docker', ['inspect', '--format', '{{json .NetworkSettings.Networks}}', id])) as Record<string, { IPAddress: string }>,
      )[0]!.IPAddress;
    // A ref'd timer: a fetch to a port whose task is still starting can leave only unref'd timers (AbortSignal.timeout)
    // behind, and node:test would end the run with "Promise resolution is still pending".
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      for (const name of tenants) {
        await sh('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', 'stacks/dockercoins.yml', name], { ...imageEnv(), ...ports });
        await sh('docker', ['service', 'scale', '--detach', `${name}_worker=1`]);
      }
      for (const name of tenants) {
        const first = await waitFor(`${name} mining`, async () => (await hashes(name)) || false, 180_000, 1000);
        await waitFor(`${name} hashes growing`, async () => (await hashes(name)) > first + 5, 90_000, 1000);
      }
      const [pa, pb] = [await dashboard(tenants[0]), await dashboard(tenants[1])];
      t.diagnostic(`dashboards: ${tenants[0]} on ${pa}, ${tenants[1]} on ${pb}`);
      assert.ok(pa > 0 && pb > 0 && pa !== pb && pa !== 8000 && pb !== 8000, 'each tenant its own host port');
      for (const name of tenants) {
        const driver = await sh('docker', ['network', 'inspect', '--format', '{{.Driver}} {{.Scope}}', `${name}_default`]);
        assert.equal(driver.trim(), 'overlay swarm', `${name} has its own overlay network`);
      }
      // Each tenant's own Redis counts its own hashes (a stack is a namespace: no key prefix needed).
      const redisHashes = async (name: string) => Number((await sh('docker', ['exec', await task(`${name}_redis`), 'redis-cli', 'get', 'hashes'])).trim());
      const [ha, hb] = [await redisHashes(tenants[0]), await redisHashes(tenants[1])];
      t.diagnostic(`hashes in each stack's Redis: ${ha} and ${hb}`);
      assert.ok(ha > 0 && hb > 0);
      // From A's worker: `rng` is A's rng only, and B's rng does not answer (separate overlays).
      const aWorker = await task(`${tenants[0]}_worker`);
      const [aRng, bRng] = [await ipOf(await task(`${tenants[0]}_rng`)), await ipOf(await task(`${tenants[1]}_rng`))];
      const probe = await sh('docker', [
        'exec',
        aWorker,
        'node',
        '--input-type=module',
        '-e',
        `const dns = await import('node:dns');
         const names = (await dns.promises.lookup('rng', { all: true })).map((a) => a.address).join(',');
         const r = await fetch('http://${bRng}/', { signal: AbortSignal.timeout(3000) }).then((r) => 'reached ' + r.status, (e) => 'unreachable ' + (e.cause?.code ?? e.name));
         console.log(names, r);`,
      ]);
      t.diagnostic(`from ${tenants[0]}'s worker: rng → ${probe.trim()} (A's rng ${aRng}, B's ${bRng})`);
      assert.match(probe.trim(), new RegExp(`^${aRng.replace(/\./g, '\\.')} unreachable`));
      // Removing one tenant's stack leaves the other mining.
      await sh('docker', ['stack', 'rm', tenants[0]]);
      const before = await hashes(tenants[1]);
      await waitFor(`${tenants[1]} still mining`, async () => (await hashes(tenants[1])) > before + 3, 60_000, 1000);
      await waitFor(`${tenants[0]} gone`, async () => (await sh('docker', ['ps', '-aq', '-f', `name=${tenants[0]}_`])).trim() === '', 60_000, 1000);
    } finally {
      clearInterval(keepAlive);
      for (const name of tenants) await sh('docker', ['stack', 'rm', name]).catch(() => undefined);
      // `stack rm` keeps volumes: each stack's Redis volume goes once its task is gone.
      for (const name of tenants)
        await waitFor(
          `${name}_redis-data removed`,
          () =>
            sh('docker', ['volume', 'rm', `${name}_redis-data`]).then(
              () => true,
              (err: Error) => /no such volume/i.test(err.message),
            ),
          60_000,
          1000,
        );
    }
  });
  it('stacks as tenants of one shared Redis: tenant add --swarm + stacks/tenant.yml, each key under its prefix, NOPERM across', async (t) => {
    const classId = `dcs${process.pid.toString(36)}`;
    const tenants = ['sa', 'sb'] as const;
    const stackOf = (x: string) => `${classId}-${x}`;
    const cli = (...args: string[]) => sh('node', [CLI, ...args, '--class', classId]);
    const adminRedis = (args: string) => sh('docker', ['exec', `${classId}-redis`, 'sh', '-c', `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ${args}`]);
    const vars: Record<string, Record<string, string>> = {};
    const keepAlive = setInterval(() => undefined, 1000);
    const dashboard = async (x: string) => {
      const id = (await sh('docker', ['ps', '-q', '-f', `name=${stackOf(x)}_webui.`])).trim().split('\n')[0];
      return id ? Number((await sh('docker', ['port', id, '80/tcp'])).trim().split('\n')[0]!.split(':').pop()) : 0;
    };
    const hashes = async (x: string) => {
      const port = await dashboard(x).catch(() => 0);
      return port ? (await json<{ hashes: number }>(`http://127.0.0.1:${port}/json`).catch(() => ({ hashes: 0 }))).hashes : 0;
    };
    try {
      assert.match(
        await sh('node', [CLI, 'tenant', 'add', 'sa', '--swarm', '--port', '9', '--class', classId]).catch((e: Error) => e.message),
        /workers and port are the stack's/,
      );
      for (const x of tenants) {
        vars[x] = Object.fromEntries(
          (await cli('tenant', 'add', x, '--swarm'))
            .trim()
            .split('\n')
            .map((l) => l.split(/=(.*)/s, 2) as [string, string]),
        );
        assert.equal(JSON.parse(await sh('docker', ['network', 'inspect', vars[x]!.TENANT_NETWORK!]))[0].Attachable, true, 'an attachable overlay');
        await sh('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', 'stacks/dockercoins.yml', '-c', 'stacks/tenant.yml', stackOf(x)], {
          ...imageEnv(),
          ...vars[x],
          WEBUI_PORT: '0',
          RNG_PORT: '0',
          HASHER_PORT: '0',
        });
        await sh('docker', ['service', 'scale', '--detach', `${stackOf(x)}_worker=1`]);
      }
      for (const x of tenants) await waitFor(`${x} mining`, async () => (await hashes(x)) > 0, 180_000, 1000);
      const keys = (await adminRedis('--scan')).trim().split('\n').sort();
      t.diagnostic(`keys in the shared Redis: ${keys.join(' ')}`);
      for (const x of tenants) assert.ok(keys.includes(`${x}:hashes`), `${x}:hashes in the shared Redis`);
      assert.ok(
        keys.every((k) => tenants.some((x) => k.startsWith(`${x}:`))),
        'every key under a tenant prefix',
      );
      for (const x of tenants)
        assert.equal((await sh('docker', ['service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}}', `${stackOf(x)}_redis`])).trim(), '0');
      const listed = JSON.parse(await cli('tenant', 'list', '--json')) as { name: string; state: string }[];
      assert.deepEqual(
        listed.map((l) => [l.name, l.state]),
        tenants.map((x) => [x, 'running']),
      );
      // As sa, from a container on sa's network.
      const pw = decodeURIComponent(new URL(vars.sa!.REDIS_URL!).password);
      const script = ['GET sb:hashes', 'SET sb:hashes 0', "KEYS '*'", 'GET sa:hashes']
        .map((c) => `redis-cli -h redis --user sa --pass '${pw}' --no-auth-warning ${c} 2>&1 | head -n 1`)
        .join('; ');
      const lines = (await sh('docker', ['run', '--rm', '--network', vars.sa!.TENANT_NETWORK!, '--entrypoint', 'sh', 'redis:7-alpine', '-c', script]))
        .trim()
        .split('\n');
      t.diagnostic(`as sa: GET sb:hashes | SET sb:hashes | KEYS * | GET sa:hashes →\n${lines.join('\n')}`);
      for (const l of lines.slice(0, 3)) assert.match(l, /^NOPERM/);
      assert.match(lines[3]!, /^\d+$/);
    } finally {
      clearInterval(keepAlive);
      for (const x of tenants) await sh('docker', ['stack', 'rm', stackOf(x)]).catch(() => undefined);
      await waitFor('the stacks’ tasks gone', async () => (await sh('docker', ['ps', '-aq', '-f', `name=${classId}-s`])).trim() === '', 60_000, 1000);
      // The overlay networks go once the tasks have left them (then the shared Redis and its volume).
      await waitFor('tenant remove --all', () => cli('tenant', 'remove', '--all').then(() => true), 60_000, 2000);
    }
    assert.equal((await sh('docker', ['network', 'ls', '-q', '--filter', `label=dockercoins.class=${classId}`])).trim(), '', 'no network left');
    assert.equal((await sh('docker', ['ps', '-aq', '--filter', `label=dockercoins.class=${classId}`])).trim(), '', 'no container left');
  });
});
