// The one Docker Engine client (dockerode): tenants, the class page, load shapes, the workshop replay and the test
// pod runner all reach the engine through here. DOCKER_HOST is honoured (unix://, tcp://, http(s)://); every call
// has a timeout; the engine's own labels are the only state we keep.
import Docker from 'dockerode';

export type Engine = Docker;

export class EngineUnreachable extends Error {
  constructor(
    readonly dockerHost: string,
    cause: unknown,
  ) {
    super(`no Docker engine answers at DOCKER_HOST=${dockerHost} (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'EngineUnreachable';
  }
}

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** dockerode's connection options for a DOCKER_HOST value; throws on a scheme we cannot speak. */
export function engineOptions(dockerHost: string, timeoutMs: number): Docker.DockerOptions {
  const url = new URL(dockerHost);
  if (url.protocol === 'unix:') return { socketPath: url.pathname, timeout: timeoutMs };
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return { host: url.hostname, port: Number(url.port || (protocol === 'https' ? 2376 : 2375)), protocol, timeout: timeoutMs };
  }
  throw new Error(`DOCKER_HOST: unsupported scheme ${JSON.stringify(url.protocol)} (use unix:// or tcp://)`);
}

/** A client for DOCKER_HOST (default: the local socket). Calls time out after timeoutMs (builds and pulls excepted). */
export function connectEngine(dockerHost = process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST, timeoutMs = 30_000): Engine {
  return new Docker(engineOptions(dockerHost, timeoutMs));
}

/** Resolves when the engine answers /_ping; rejects with EngineUnreachable (naming DOCKER_HOST) otherwise. */
export async function pingEngine(engine: Engine, dockerHost = process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      engine.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new EngineUnreachable(dockerHost, err);
  } finally {
    clearTimeout(timer);
  }
}

/** Containers (running or not) carrying every label given; a value of `true` matches the label with any value. */
export async function containersLabelled(engine: Engine, labels: Record<string, string | true>): Promise<Docker.ContainerInfo[]> {
  const label = Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  return engine.listContainers({ all: true, filters: { label } });
}

/** Networks carrying every label given. */
export async function networksLabelled(engine: Engine, labels: Record<string, string | true>): Promise<Docker.NetworkInspectInfo[]> {
  const label = Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  return engine.listNetworks({ filters: { label } });
}

/** The engine's Swarm state: 'inactive', 'active', 'pending', 'error' or 'locked'. */
export async function swarmState(engine: Engine): Promise<string> {
  const info = (await engine.info()) as { Swarm?: { LocalNodeState?: string } };
  return info.Swarm?.LocalNodeState || 'inactive';
}

/** Names of the Swarm services (none when the engine is not a manager). */
export async function serviceNames(engine: Engine): Promise<string[]> {
  if ((await swarmState(engine)) !== 'active') return [];
  return (await engine.listServices()).map((s) => s.Spec?.Name ?? '').filter(Boolean);
}

/** Names of the stacks (`docker stack deploy` labels its services with the namespace). */
export async function stackNames(engine: Engine): Promise<string[]> {
  if ((await swarmState(engine)) !== 'active') return [];
  const labels = (await engine.listServices()).map((s) => s.Spec?.Labels?.['com.docker.stack.namespace']);
  return [...new Set(labels.filter((l): l is string => Boolean(l)))];
}

/** Names of every network. */
export async function networkNames(engine: Engine): Promise<string[]> {
  return (await engine.listNetworks()).map((n) => n.Name);
}

/** Host ports published by running containers and by Swarm services, each with who holds it. */
export async function publishedPorts(engine: Engine): Promise<Map<number, string>> {
  const held = new Map<number, string>();
  for (const c of await engine.listContainers()) {
    for (const p of c.Ports ?? []) if (p.PublicPort) held.set(p.PublicPort, `container ${c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12)}`);
  }
  if ((await swarmState(engine)) === 'active') {
    for (const s of await engine.listServices()) {
      for (const p of [...(s.Endpoint?.Ports ?? []), ...(s.Spec?.EndpointSpec?.Ports ?? [])])
        if (p.PublishedPort) held.set(p.PublishedPort, `service ${s.Spec?.Name}`);
    }
  }
  return held;
}

/** Runs a command in a running container (no TTY); its exit code and output. Bounded by timeoutMs. */
export async function execIn(
  engine: Engine,
  container: string,
  cmd: string[],
  env: string[] = [],
  timeoutMs = 15_000,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { PassThrough } = await import('node:stream');
  const exec = await engine.getContainer(container).exec({ Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const [o, e] = [new PassThrough(), new PassThrough()];
  o.on('data', (b: Buffer) => out.push(b));
  e.on('data', (b: Buffer) => err.push(b));
  engine.modem.demuxStream(stream, o, e);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          stream.destroy();
          reject(new Error(`${cmd[0]} in ${container}: no end within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** True for the engine's 409 Conflict (a name already taken: someone else created it first). */
export const isConflict = (err: unknown) => (err as { statusCode?: number }).statusCode === 409;
/** True for the engine's 404 (already gone). */
export const isNotFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;
