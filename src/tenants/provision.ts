// Tenants through the Docker Engine API: per tenant its own network (a small subnet of its own), rng, hasher, N
// workers and webui, all labelled `dockercoins.tenant=NAME`, limited in CPU and memory; one shared Redis per class
// with an ACL user per tenant. The engine's labels are the only state: list, scale and remove read them back.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { containersLabelled, type Engine, execIn, isConflict, isNotFound, networksLabelled, swarmState } from '../engine/docker.js';
import { LABEL, namesOf, type TenantService } from './names.js';
import { REDIS_START, TENANT_COMMANDS, tenantAclRule, tenantKeyPattern, tenantRedisUrl, UNLINK_PREFIX_LUA } from './redis-acl.js';
import { containerCapacity, DEFAULT_POOL, freeSubnets } from './subnets.js';

export const REDIS_IMAGE = 'redis:7-alpine';

/** Per tenant container: a quarter of a core and 192 MiB, so one tenant cannot starve the others. */
export const LIMITS = { nanoCpus: 250_000_000, memory: 192 * 2 ** 20, pids: 256 };

export interface Scope {
  engine: Engine;
  /** Every object's `dockercoins.class` label and name prefix (default `dockercoins`). */
  classId: string;
  /** `${REGISTRY:-dockercoins}/<svc>:${TAG:-latest}` */
  images: Record<TenantService, string>;
  redisImage?: string;
  log?: (line: string) => void;
}

export interface AddOptions {
  workers: number;
  /** A fixed host port for the dashboard; 0 = a free one. */
  port: number;
  /** The host name students use: the `url` of the dashboard. */
  publicHost: string;
  subnetPool?: string;
}

export interface TenantInfo {
  name: string;
  url: string;
  /** Host port of the dashboard (every interface); null when not published (stopped). */
  port: number | null;
  workers: number;
  /** running: every container runs; partial: some do not; stopped: none runs. */
  state: 'running' | 'partial' | 'stopped';
  containers: { name: string; service: string; state: string; status: string }[];
}

export function imagesFor(registry = 'dockercoins', tag = 'latest'): Record<TenantService, string> {
  return { rng: `${registry}/rng:${tag}`, hasher: `${registry}/hasher:${tag}`, webui: `${registry}/webui:${tag}`, worker: `${registry}/worker:${tag}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ignore304 = (err: unknown) => {
  if ((err as { statusCode?: number }).statusCode !== 304) throw err;
};

// ---- the shared Redis ----

interface SharedRedis {
  id: string;
  password: string;
}

async function findRedis(s: Scope): Promise<SharedRedis | null> {
  try {
    const info = await s.engine.getContainer(namesOf(s.classId).redis).inspect();
    const pw = info.Config.Env.find((e) => e.startsWith('REDIS_PASSWORD='))?.slice('REDIS_PASSWORD='.length);
    if (!pw) throw new Error(`${info.Name} has no REDIS_PASSWORD: not a Redis this provisioner made`);
    if (!info.State.Running) await s.engine.getContainer(info.Id).start().catch(ignore304);
    return { id: info.Id, password: pw };
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** The class's one Redis, created on first use; a concurrent `add` that lost the race (409) uses the winner's. */
async function ensureRedis(s: Scope, network: string): Promise<SharedRedis> {
  const names = namesOf(s.classId);
  let redis = await findRedis(s);
  if (!redis) {
    const password = randomBytes(24).toString('hex');
    try {
      const c = await s.engine.createContainer({
        name: names.redis,
        Image: s.redisImage ?? REDIS_IMAGE,
        Entrypoint: ['sh', '-c', REDIS_START],
        Cmd: [],
        Env: [`REDIS_PASSWORD=${password}`],
        Labels: { [LABEL.class]: s.classId, [LABEL.role]: 'redis' },
        Healthcheck: { Test: ['NONE'] },
        HostConfig: {
          NetworkMode: network,
          RestartPolicy: { Name: 'unless-stopped' },
          Binds: [`${names.redisVolume}:/data`],
          Memory: 1024 * 2 ** 20,
          CapDrop: ['ALL'],
          CapAdd: ['CHOWN', 'SETUID', 'SETGID', 'DAC_OVERRIDE'],
          SecurityOpt: ['no-new-privileges:true'],
        },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['redis'] } } },
      });
      await c.start().catch(ignore304);
      s.log?.(`created the shared Redis ${names.redis}`);
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    // The winner's create may still be under way: the engine reserves the name (409) before inspect finds it.
    for (let i = 0; i < 100 && !redis; i++) {
      redis = await findRedis(s);
      if (!redis) await sleep(300);
    }
    if (!redis) throw new Error(`${names.redis}: its name is taken but no such container appeared within 30 s`);
  }
  await waitForRedis(s, redis);
  return redis;
}

/**
 * redis-cli inside the Redis container as `default` (the password in the exec's environment, not its arguments);
 * `thenSave`: ACL SAVE after it in the same exec (an exec is what costs a busy engine, not the command).
 */
async function redisCli(s: Scope, redis: SharedRedis, args: string[], o: { thenSave?: boolean } = {}): Promise<string> {
  const cmd = o.thenSave ? ['sh', '-c', 'redis-cli --no-raw "$@" && redis-cli --no-raw acl save', 'redis-cli', ...args] : ['redis-cli', '--no-raw', ...args];
  const r = await execIn(s.engine, redis.id, cmd, [`REDISCLI_AUTH=${redis.password}`], 60_000);
  const out = r.stdout.trim();
  if (r.exitCode !== 0 || /^\(error\)|^(ERR|NOPERM|WRONGPASS|NOAUTH)\b/.test(out))
    throw new Error(`redis-cli ${args[0]} ${args[1] ?? ''}: ${out || r.stderr.trim() || `exit ${r.exitCode}`}`);
  return out;
}

async function waitForRedis(s: Scope, redis: SharedRedis): Promise<void> {
  let last = '';
  for (let i = 0; i < 150; i++) {
    try {
      if ((await redisCli(s, redis, ['ping'])).includes('PONG')) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`the shared Redis did not answer PING within 30 s (${last})`);
}

async function attachRedis(s: Scope, redis: SharedRedis, network: string): Promise<void> {
  const info = await s.engine.getContainer(redis.id).inspect();
  if (info.NetworkSettings.Networks[network]) return;
  try {
    await s.engine.getNetwork(network).connect({ Container: redis.id, EndpointConfig: { Aliases: ['redis'] } });
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
}

// ---- networks ----

/** bridge: the provisioner's and Compose's tenants; overlay (attachable, so the shared Redis can join): Swarm stacks. */
export type TenantDriver = 'bridge' | 'overlay';

async function ensureNetwork(s: Scope, tenant: string, pool: string, labels: Record<string, string>, driver: TenantDriver): Promise<string> {
  const name = namesOf(s.classId).network(tenant);
  const mine = await networksLabelled(s.engine, { [LABEL.class]: s.classId, [LABEL.tenant]: tenant });
  if (mine[0]) return mine[0].Name;
  // A concurrent add may take the subnet we picked: the engine refuses the overlap, we try the next free one.
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    const taken = (await s.engine.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? ''));
    const candidates = freeSubnets(pool, taken, attempt + 1);
    const subnet = candidates[attempt] ?? candidates[candidates.length - 1];
    if (!subnet) throw new Error(`no free subnet left in ${pool} (each tenant takes a /27)`);
    try {
      await s.engine.createNetwork({
        Name: name,
        Driver: driver,
        Attachable: driver === 'overlay',
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
        Labels: { ...labels, [LABEL.class]: s.classId, [LABEL.tenant]: tenant },
      });
      return name;
    } catch (err) {
      lastError = err;
      if (isConflict(err)) return name; // the same tenant added concurrently
      if (!/overlap|pool/i.test((err as Error).message)) throw err;
    }
  }
  throw new Error(`could not create ${name}: ${(lastError as Error).message}`);
}

// ---- containers ----

interface Spec {
  name: string;
  service: TenantService;
  env: string[];
  port?: number;
}

function containerConfig(s: Scope, tenant: string, network: string, spec: Spec, publicHost: string): Docker.ContainerCreateOptions {
  const webui = spec.port !== undefined;
  return {
    name: spec.name,
    Image: s.images[spec.service],
    // No access line per request from rng and hasher: nobody reads 60 containers' request logs, and each line goes
    // through the engine (shim, dockerd, the json-file log). The worker's progress line stays.
    Env: [`DOCKERCOINS_NAMESPACE=${tenant}`, 'LOG_FORMAT=json', 'ACCESS_LOG=off', ...spec.env],
    Labels: {
      [LABEL.class]: s.classId,
      [LABEL.tenant]: tenant,
      [LABEL.service]: spec.service,
      ...(webui ? { [LABEL.publicHost]: publicHost } : {}),
    },
    // No exec healthcheck: an exec every 10 s in each of 120 containers would cost more than the class; the class page
    // judges health from the engine's state and each dashboard's own snapshot instead.
    Healthcheck: { Test: ['NONE'] },
    ExposedPorts: webui ? { '80/tcp': {} } : undefined,
    HostConfig: {
      NetworkMode: network,
      RestartPolicy: { Name: 'unless-stopped' },
      NanoCpus: LIMITS.nanoCpus,
      Memory: LIMITS.memory,
      PidsLimit: LIMITS.pids,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Init: true,
      PortBindings: webui ? { '80/tcp': [{ HostIp: '', HostPort: spec.port ? String(spec.port) : '' }] } : undefined,
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [spec.service] } } },
  };
}

/** Creates (409: already there) and starts one container. */
async function ensureContainer(s: Scope, config: Docker.ContainerCreateOptions): Promise<void> {
  try {
    await s.engine.createContainer(config);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  const c = s.engine.getContainer(config.name!);
  try {
    await c.start().catch(ignore304);
  } catch (err) {
    // A busy engine may answer late (the request timed out, the container started anyway): its state decides.
    const running = await c.inspect().then(
      (i) => i.State.Running,
      () => false,
    );
    if (!running) throw new Error(`cannot start ${config.name}: ${(err as Error).message}`);
  }
}

/** At most `limit` at a time: a busy engine answers a few starts faster than twenty at once. */
async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

const serviceOf = (c: Docker.ContainerInfo) => c.Labels[LABEL.service] ?? '';
const nameOf = (c: Docker.ContainerInfo) => (c.Names[0] ?? '').replace(/^\//, '');
const workerIndex = (c: Docker.ContainerInfo) => Number(/-worker-(\d+)$/.exec(nameOf(c))?.[1] ?? 0);

async function tenantContainers(s: Scope, tenant: string): Promise<Docker.ContainerInfo[]> {
  return containersLabelled(s.engine, { [LABEL.class]: s.classId, [LABEL.tenant]: tenant });
}

/** The tenant's Redis password, read back from a container that has it (the engine is the only state). */
async function existingPassword(s: Scope, containers: Docker.ContainerInfo[]): Promise<string | null> {
  for (const c of containers.filter((c) => serviceOf(c) === 'webui' || serviceOf(c) === 'worker')) {
    const env = (await s.engine.getContainer(c.Id).inspect()).Config.Env;
    const url = env.find((e) => e.startsWith('REDIS_URL='))?.slice('REDIS_URL='.length);
    if (url) return decodeURIComponent(new URL(url).password);
  }
  return null;
}

/** The tenant's password on its network's label (networks made before that label have it in their containers only). */
async function networkPassword(s: Scope, tenant: string): Promise<string | null> {
  const [net] = await networksLabelled(s.engine, { [LABEL.class]: s.classId, [LABEL.tenant]: tenant });
  const url = net?.Labels?.[LABEL.redisUrl];
  return url ? decodeURIComponent(new URL(url).password) : null;
}

/**
 * What every tenant needs before its services: its network (labelled with its REDIS_URL), the shared Redis attached
 * to it as `redis`, and its ACL user. The password is the one its containers or its network already have, else new;
 * the network's label decides when two `add`s of one tenant race.
 */
async function prepareTenant(
  s: Scope,
  tenant: string,
  pool: string,
  containers: Docker.ContainerInfo[],
  driver: TenantDriver = 'bridge',
): Promise<{ network: string; redisUrl: string }> {
  const known = (await existingPassword(s, containers)) ?? (await networkPassword(s, tenant));
  const label = { [LABEL.redisUrl]: tenantRedisUrl(tenant, known ?? randomBytes(18).toString('hex')) };
  const network = await ensureNetwork(s, tenant, pool, label, driver);
  const password = known ?? (await networkPassword(s, tenant));
  if (!password) throw new Error(`${network} has no ${LABEL.redisUrl} label: not a network this provisioner made`);
  const redis = await ensureRedis(s, network);
  await attachRedis(s, redis, network);
  await redisCli(s, redis, ['acl', 'setuser', tenant, ...tenantAclRule(tenant, password)], { thenSave: true });
  return { network, redisUrl: tenantRedisUrl(tenant, password) };
}

export interface ExternalTenant {
  /** False when the tenant's network was there already (a repeated `add --compose`: same network, same password). */
  created: boolean;
  network: string;
  redisUrl: string;
}

/**
 * A tenant whose services a Compose project (compose.tenant.yml, a bridge) or a Swarm stack (stacks/tenant.yml, an
 * attachable overlay) runs: only its network, its place in the shared Redis and its REDIS_URL. Their containers carry
 * the tenant labels, so list, remove and the class page treat it as any tenant.
 */
export async function addExternalTenant(s: Scope, tenant: string, o: { subnetPool?: string; driver: TenantDriver }): Promise<ExternalTenant> {
  if (o.driver === 'overlay' && (await swarmState(s.engine)) !== 'active') throw new Error('a Swarm tenant needs an active swarm (docker swarm init)');
  const existed = (await networksLabelled(s.engine, { [LABEL.class]: s.classId, [LABEL.tenant]: tenant })).length > 0;
  const { network, redisUrl } = await prepareTenant(s, tenant, o.subnetPool ?? DEFAULT_POOL, await tenantContainers(s, tenant), o.driver);
  return { created: !existed, network, redisUrl };
}

export interface AddResult {
  created: boolean;
  tenant: TenantInfo;
}

/** Adds a tenant, or completes and starts one that exists (then nothing else changes: `add` is idempotent). */
export async function addTenant(s: Scope, tenant: string, o: AddOptions): Promise<AddResult> {
  const names = namesOf(s.classId);
  const before = await tenantContainers(s, tenant);
  const capacity = containerCapacity() - 4;
  if (o.workers > capacity) throw new Error(`at most ${capacity} workers per tenant (its /27 network)`);
  const { network, redisUrl } = await prepareTenant(s, tenant, o.subnetPool ?? DEFAULT_POOL, before);
  const redisEnv = [`REDIS_URL=${redisUrl}`];
  const hadWorkers = before.filter((c) => serviceOf(c) === 'worker').map(workerIndex);
  const workerIndexes = hadWorkers.length > 0 ? hadWorkers : Array.from({ length: o.workers }, (_, i) => i + 1);
  const specs: Spec[] = [
    { name: names.container(tenant, 'rng'), service: 'rng', env: [] },
    { name: names.container(tenant, 'hasher'), service: 'hasher', env: [] },
    { name: names.container(tenant, 'webui'), service: 'webui', env: redisEnv, port: o.port },
    ...workerIndexes.map((i): Spec => ({ name: names.worker(tenant, i), service: 'worker', env: redisEnv })),
  ];
  // The webui keeps the public host it was created with; `add` of an existing tenant does not move it.
  const publicHost = before.find((c) => serviceOf(c) === 'webui')?.Labels[LABEL.publicHost] ?? o.publicHost;
  await inBatches(specs, 3, (spec) => ensureContainer(s, containerConfig(s, tenant, network, spec, publicHost)));
  const [info] = await listTenants(s, tenant);
  if (!info) throw new Error(`tenant ${tenant} has no containers after add`);
  return { created: before.length === 0, tenant: info };
}

/** Tenants added at a time by addTenants: each starts its containers three at a time already. */
const ADDS_AT_ONCE = 3;

/**
 * A class at once (`tenant add student-01 … student-30`): every name added, a few at a time, each reported as it is
 * done; one that fails does not stop the others (its error is reported in its place).
 */
export async function addTenants(
  s: Scope,
  tenants: string[],
  o: AddOptions,
  done: (tenant: string, r: AddResult | Error, seconds: number) => void,
): Promise<void> {
  await inBatches(tenants, ADDS_AT_ONCE, async (tenant) => {
    const t0 = performance.now();
    const r = await addTenant(s, tenant, o).catch((err: Error) => err);
    done(tenant, r, (performance.now() - t0) / 1000);
  });
}

/** Every tenant of the class (or only `tenant`), from the engine's labels. */
export async function listTenants(s: Pick<Scope, 'engine' | 'classId'>, tenant?: string): Promise<TenantInfo[]> {
  const all = await containersLabelled(s.engine, { [LABEL.class]: s.classId, [LABEL.tenant]: tenant ?? true });
  const byTenant = new Map<string, Docker.ContainerInfo[]>();
  for (const c of all) {
    const t = c.Labels[LABEL.tenant]!;
    byTenant.set(t, [...(byTenant.get(t) ?? []), c]);
  }
  return [...byTenant.entries()]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([name, cs]) => {
      const webui = cs.find((c) => serviceOf(c) === 'webui');
      const port = webui?.Ports.find((p) => p.PrivatePort === 80 && p.PublicPort)?.PublicPort ?? null;
      const host = webui?.Labels[LABEL.publicHost] ?? 'localhost';
      const running = cs.filter((c) => c.State === 'running').length;
      return {
        name,
        url: port ? `http://${host}:${port}/` : '',
        port,
        workers: cs.filter((c) => serviceOf(c) === 'worker' && c.State === 'running').length,
        state: running === cs.length ? 'running' : running === 0 ? 'stopped' : 'partial',
        containers: cs
          .map((c) => ({ name: nameOf(c), service: serviceOf(c), state: c.State, status: c.Status }))
          .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })),
      };
    });
}

/** Removes a tenant: containers, network, Redis user and keys. False when there was no such tenant. */
export async function removeTenant(s: Scope, tenant: string): Promise<boolean> {
  const containers = await tenantContainers(s, tenant);
  const networks = await networksLabelled(s.engine, { [LABEL.class]: s.classId, [LABEL.tenant]: tenant });
  await Promise.all(
    containers.map((c) =>
      s.engine
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch((err) => {
          if (!isNotFound(err)) throw err;
        }),
    ),
  );
  const redis = await findRedis(s);
  let hadUser = false;
  if (redis) {
    await waitForRedis(s, redis);
    hadUser = (await redisCli(s, redis, ['acl', 'users'])).split('\n').some((line) => line.replace(/^\d+\)\s*/, '').replace(/"/g, '') === tenant);
    await redisCli(s, redis, ['acl', 'deluser', tenant], { thenSave: true });
    await redisCli(s, redis, ['eval', UNLINK_PREFIX_LUA, '0', tenantKeyPattern(tenant)]);
  }
  for (const n of networks) {
    if (redis)
      await s.engine
        .getNetwork(n.Id)
        .disconnect({ Container: redis.id, Force: true })
        .catch(() => undefined);
    await s.engine
      .getNetwork(n.Id)
      .remove()
      .catch((err) => {
        if (!isNotFound(err)) throw err;
      });
  }
  return containers.length > 0 || networks.length > 0 || hadUser;
}

/** The class's end: every tenant, then the shared Redis and its volume. The names of the tenants removed. */
export async function removeAll(s: Scope): Promise<string[]> {
  const names = namesOf(s.classId);
  const tenants = new Set((await listTenants(s)).map((t) => t.name));
  for (const n of await networksLabelled(s.engine, { [LABEL.class]: s.classId, [LABEL.tenant]: true })) tenants.add(n.Labels?.[LABEL.tenant] ?? '');
  tenants.delete('');
  for (const t of tenants) await removeTenant(s, t);
  await s.engine
    .getContainer(names.redis)
    .remove({ force: true, v: true })
    .catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  await s.engine
    .getVolume(names.redisVolume)
    .remove()
    .catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  return [...tenants];
}

/** Sets a tenant's workers to n (n ≥ 0): new ones numbered after the highest, the highest-numbered go first. */
export async function scaleTenant(s: Scope, tenant: string, n: number): Promise<TenantInfo> {
  const capacity = containerCapacity() - 4;
  if (n > capacity) throw new Error(`at most ${capacity} workers per tenant (its /27 network)`);
  const containers = await tenantContainers(s, tenant);
  const webui = containers.find((c) => serviceOf(c) === 'webui');
  if (!webui) throw new Error(`no tenant ${JSON.stringify(tenant)} in class ${s.classId} (see: dockercoins tenant list)`);
  const workers = containers.filter((c) => serviceOf(c) === 'worker').sort((a, b) => workerIndex(a) - workerIndex(b));
  const network = webui.HostConfig.NetworkMode;
  const password = await existingPassword(s, [webui]);
  if (!password) throw new Error(`${nameOf(webui)} has no REDIS_URL: not a tenant this provisioner made`);
  const redisEnv = [`REDIS_URL=${tenantRedisUrl(tenant, password)}`];
  const next = (workers.length > 0 ? workerIndex(workers[workers.length - 1]!) : 0) + 1;
  const add = Array.from({ length: Math.max(0, n - workers.length) }, (_, i) => next + i);
  const drop = workers.slice(n);
  await Promise.all([
    ...add.map((i) =>
      ensureContainer(s, containerConfig(s, tenant, network, { name: namesOf(s.classId).worker(tenant, i), service: 'worker', env: redisEnv }, '')),
    ),
    // Stopped first (SIGTERM: the worker's last flush lands), then removed.
    ...drop.map(async (c) => {
      await s.engine.getContainer(c.Id).stop({ t: 10 }).catch(ignore304);
      await s.engine.getContainer(c.Id).remove({ force: true });
    }),
  ]);
  const [info] = await listTenants(s, tenant);
  if (!info) throw new Error(`tenant ${tenant} vanished while scaling`);
  return info;
}

/** For tests and docs: the commands a tenant's ACL user is allowed. */
export { TENANT_COMMANDS };
