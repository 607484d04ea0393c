// `dockercoins tenant add|list|remove|scale`: the command line of the provisioner (provision.ts). A bad name or
// option exits 2 (UsageError), no engine exits 1 naming DOCKER_HOST (EngineUnreachable from src/engine).
import { hostname } from 'node:os';
import { connectEngine, pingEngine } from '../engine/docker.js';
import { UsageError } from '../usage.js';
import { checkClassId, checkTenantName, DEFAULT_CLASS } from './names.js';
import { addExternalTenant, addTenants, imagesFor, listTenants, removeAll, removeTenant, type Scope, scaleTenant } from './provision.js';
import { DEFAULT_POOL, parseCidr } from './subnets.js';

export const TENANT_USAGE = `usage: dockercoins tenant add NAME... [--workers N] [--port P] [--public-host H] [--subnet-pool CIDR]
         (several names: a class at once, three at a time; --port only with one)
       dockercoins tenant add NAME --compose|--swarm [--public-host H] > NAME.env
         (only its network and Redis user: its services from compose.tenant.yml or stacks/tenant.yml)
       dockercoins tenant list [--json]
       dockercoins tenant remove NAME | --all
       dockercoins tenant scale NAME worker=N
  every tenant command also takes --class ID (default ${DEFAULT_CLASS}): a separate class with its own Redis`;

type Env = Record<string, string | undefined>;

/** Options `--name value` (or `--name=value`) and flags; the rest are positional. */
export function parseOptions(args: string[], valued: readonly string[], flags: readonly string[]) {
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [key, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (flags.includes(key)) options.set(key, 'true');
    else if (valued.includes(key)) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`--${key} needs a value`);
      options.set(key, v);
    } else throw new UsageError(`unknown option --${key}`);
  }
  return { options, positional };
}

export function integerOption(value: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

/** The engine client and names of one class: REGISTRY and TAG pick the images, as in compose.yml. */
export async function scopeFor(classId: string, env: Env, log?: (l: string) => void): Promise<Scope> {
  // Generous: on a busy machine the engine may take tens of seconds to create and start a container.
  const engine = connectEngine(env.DOCKER_HOST || undefined, 120_000);
  await pingEngine(engine, env.DOCKER_HOST || undefined);
  return { engine, classId, images: imagesFor(env.REGISTRY || undefined, env.TAG || undefined), log };
}

export async function tenantCommand(args: string[], env: Env): Promise<void> {
  try {
    await run(args, env);
  } catch (err) {
    const e = err as Error;
    if (e instanceof UsageError || e.name === 'EngineUnreachable') throw err;
    console.error(`dockercoins: tenant ${args[0] ?? ''}: ${e.message}`);
    process.exitCode = 1;
  }
}

async function run(args: string[], env: Env): Promise<void> {
  const [verb, ...rest] = args;
  const { options, positional } = parseOptions(rest, ['workers', 'port', 'public-host', 'subnet-pool', 'class'], ['json', 'all', 'compose', 'swarm']);
  const classId = checkClassId(options.get('class') ?? DEFAULT_CLASS);
  const log = (line: string) => console.error(`dockercoins: ${line}`);
  if (verb === 'add') {
    if (positional.length === 0) throw new UsageError(`tenant add takes a NAME\n${TENANT_USAGE}`);
    const names = positional.map(checkTenantName);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new UsageError(`tenant add: ${twice} is named twice`);
    const name = names[0]!;
    const workers = integerOption(options.get('workers'), '--workers', 0, 25, 1);
    const port = integerOption(options.get('port'), '--port', 0, 65_535, 0);
    const pool = options.get('subnet-pool') ?? DEFAULT_POOL;
    try {
      parseCidr(pool);
    } catch (err) {
      throw new UsageError(`--subnet-pool: ${(err as Error).message}`);
    }
    const publicHost = options.get('public-host') ?? hostname();
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(publicHost)) throw new UsageError(`--public-host: not a host name: ${JSON.stringify(publicHost)}`);
    const external = options.has('compose') ? 'compose' : options.has('swarm') ? 'swarm' : null;
    if (options.has('compose') && options.has('swarm')) throw new UsageError('--compose or --swarm, not both');
    if (names.length > 1 && (external || options.has('port')))
      throw new UsageError(`tenant add: ${external ? `--${external}` : '--port'} takes one NAME (${names.length} given)`);
    if (external && (options.has('workers') || options.has('port')))
      throw new UsageError(`--${external}: workers and port are the ${external === 'compose' ? 'Compose project' : 'stack'}'s (docs/tenants.md)`);
    const s = await scopeFor(classId, env, log);
    if (external) {
      const t = await addExternalTenant(s, name, { subnetPool: pool, driver: external === 'swarm' ? 'overlay' : 'bridge' });
      log(
        `${t.created ? 'added' : 'exists:'} ${name} for ${external === 'compose' ? 'Compose' : 'a Swarm stack'}: network ${t.network}, Redis user ${name} (docs/tenants.md)`,
      );
      // An env file: `docker compose --env-file NAME.env …` reads it; for `docker stack deploy`: set -a; . ./NAME.env
      const vars = { TENANT_NETWORK: t.network, DOCKERCOINS_CLASS: classId, DOCKERCOINS_NAMESPACE: name, PUBLIC_HOST: publicHost, REDIS_URL: t.redisUrl };
      for (const [k, v] of Object.entries(vars)) console.log(`${k}=${v}`);
      return;
    }
    await addTenants(s, names, { workers, port, publicHost, subnetPool: pool }, (n, r) => {
      if (r instanceof Error) {
        console.error(`dockercoins: tenant add ${n}: ${r.message}`);
        process.exitCode = 1;
      } else console.log(`${r.created ? 'added' : 'exists:'} ${r.tenant.name}  ${r.tenant.url}  workers=${r.tenant.workers}  ${r.tenant.state}`);
    });
    return;
  }
  if (verb === 'list') {
    if (positional.length > 0) throw new UsageError(`tenant list takes no NAME\n${TENANT_USAGE}`);
    const tenants = await listTenants(await scopeFor(classId, env, log));
    if (options.has('json')) {
      console.log(JSON.stringify(tenants.map(({ name, url, port, workers, state }) => ({ name, url, port, workers, state }))));
      return;
    }
    if (tenants.length === 0) return void console.log(`no tenants in class ${classId}`);
    const width = Math.max(4, ...tenants.map((t) => t.name.length));
    console.log(`${'NAME'.padEnd(width)}  WORKERS  STATE    URL`);
    for (const t of tenants) console.log(`${t.name.padEnd(width)}  ${String(t.workers).padEnd(7)}  ${t.state.padEnd(7)}  ${t.url}`);
    return;
  }
  if (verb === 'remove') {
    if (options.has('all')) {
      if (positional.length > 0) throw new UsageError('tenant remove takes NAME or --all, not both');
      const gone = await removeAll(await scopeFor(classId, env, log));
      console.log(`removed ${gone.length} tenant(s)${gone.length ? `: ${gone.join(' ')}` : ''} and the shared Redis of class ${classId}`);
      return;
    }
    if (positional.length !== 1) throw new UsageError(`tenant remove takes one NAME (or --all)\n${TENANT_USAGE}`);
    const name = checkTenantName(positional[0]!);
    const existed = await removeTenant(await scopeFor(classId, env, log), name);
    console.log(existed ? `removed ${name}` : `no tenant ${name} in class ${classId}: nothing to remove`);
    return;
  }
  if (verb === 'scale') {
    const [name, setting, ...extra] = positional;
    const m = /^worker=(\d+)$/.exec(setting ?? '');
    if (!name || !m || extra.length > 0) throw new UsageError(`tenant scale takes NAME worker=N\n${TENANT_USAGE}`);
    const n = integerOption(m[1], 'worker', 0, 25, 1);
    const t = await scaleTenant(await scopeFor(classId, env, log), checkTenantName(name), n);
    console.log(`${t.name}  workers=${t.workers}  ${t.state}`);
    return;
  }
  throw new UsageError(`unknown tenant command ${JSON.stringify(verb ?? '')}\n${TENANT_USAGE}`);
}
