// Runs the built CLI (dist/cli.js) as a real process, as users and the checks do. Services listen on port 0 and
// the test reads the port they got from their log, so two tests can never race for a port.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { VARIABLES } from '../../src/config.js';
import { get, waitFor } from './net.js';
import { onFreePort } from './ports.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Environment with none of the configuration table's variables from the caller's shell. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(VARIABLES)) delete env[name];
  return { ...env, ...extra };
}

/** Every process a test started: whatever happens to the test, none outlives the test process. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class Proc {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  /**
   * Runs `node dist/cli.js args`; with `how.bin`, the bin itself as npx runs it (its shebang's node flags included);
   * with `how.script`, another script (a bench's bare server).
   */
  constructor(args: string[], env: Record<string, string> = {}, how: { script?: string; bin?: boolean } = {}) {
    const [cmd, argv] = how.bin ? [CLI, args] : [process.execPath, [how.script ?? CLI, ...args]];
    this.child = spawn(cmd, argv, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const child = this.child;
    running.add(child);
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on('data', (d: Buffer) => {
        this.output += d.toString();
      });
    }
    this.exited = once(child, 'exit').then(([code]) => {
      running.delete(child);
      return code as number | null;
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitHttp(url: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      `${url} (process output: ${this.output.slice(-500)})`,
      async () => {
        if (!this.alive) throw new Error(`process exited: ${this.output.slice(-500)}`);
        return (await get(url, { timeoutMs: 1000 })).status < 500;
      },
      timeoutMs,
    );
  }

  async waitOutput(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return waitFor(
      `output ${pattern}`,
      async () => {
        const m = this.output.match(pattern);
        if (!m && !this.alive) throw new Error(`process exited: ${this.output.slice(-500)}`);
        return m ?? undefined;
      },
      timeoutMs,
    );
  }

  /** The base URL of the service this process runs, from its "Server listening at" line (start it with PORT=0). */
  async url(timeoutMs = 15_000): Promise<string> {
    const m = await this.waitOutput(/Server listening at http:\/\/(?:\[[^\]]*\]|[^:\s]+):(\d+)/, timeoutMs);
    return `http://127.0.0.1:${m[1]}`;
  }

  /** Sends a signal and resolves with the exit code and the time it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; ms: number }> {
    const t0 = Date.now();
    if (this.alive) this.child.kill(signal);
    const code = await this.exited;
    return { code, ms: Date.now() - t0 };
  }
}

/** `dockercoins up` on ports the kernel picks; resolves once the dashboard answers. */
export async function startUp(args: string[] = [], env: Record<string, string> = {}) {
  const p = new Proc(['up', ...args], { WEBUI_PORT: '0', RNG_PORT: '0', HASHER_PORT: '0', ...env });
  const m = await p.waitOutput(/DockerCoins is up — dashboard (http:\/\/\S+?)\/ · rng ([\d,]+) · hasher ([\d,]+)/).catch(async (err: Error) => {
    await p.stop('SIGKILL');
    throw err;
  });
  const webui = m[1]!;
  const host = new URL(webui).hostname;
  const rngPorts = m[2]!.split(',');
  const hasherPorts = m[3]!.split(',');
  const urls = {
    webui,
    rng: `http://${host}:${rngPorts[0]}`,
    hasher: `http://${host}:${hasherPorts[0]}`,
    rngs: rngPorts.map((port) => `http://${host}:${port}`),
    hashers: hasherPorts.map((port) => `http://${host}:${port}`),
  };
  await p.waitHttp(`${webui}/json`);
  return { p, ...urls };
}

let serial = 0;

/**
 * Starts a process that listens on a port chosen up front (PORT, or METRICS_PORT for a worker), on a port found
 * free; retried on another one if it was taken in between. The answer's x-served-by — a HOSTNAME of our own —
 * proves the port is this process's, whatever its LOG_LEVEL.
 */
async function startListening(
  args: string[],
  portVariable: 'PORT' | 'METRICS_PORT',
  env: Record<string, string>,
  bin = false,
): Promise<{ p: Proc; url: string }> {
  const name = env.HOSTNAME ?? `${args[0]}-${process.pid}-${++serial}`;
  return onFreePort(async (port) => {
    const p = new Proc(args, { HOST: '127.0.0.1', ...env, HOSTNAME: name, [portVariable]: String(port) }, { bin });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(`${args[0]} on port ${port}`, async () => {
        if (!p.alive) throw new Error(`exited: ${p.output.slice(-300)}`);
        return (await get(`${url}/healthz`, { timeoutMs: 1000 })).headers.get('x-served-by') === name;
      });
    } catch (err) {
      await p.stop('SIGKILL');
      throw err;
    }
    return { p, url };
  });
}

/** One service process (`bin`: started as the package's bin, with its node flags); its URL once /healthz answers. */
export function startService(kind: 'rng' | 'hasher' | 'webui', env: Record<string, string>, bin = false): Promise<{ p: Proc; url: string }> {
  return startListening([kind], 'PORT', { DRAIN_MS: '0', ...env }, bin);
}

/** `dockercoins up` with the workers' admin listener (METRICS_PORT) on a port found free: `url` is that listener. */
export function startUpWithMetrics(args: string[], env: Record<string, string> = {}): Promise<{ p: Proc; url: string }> {
  return startListening(['up', ...args], 'METRICS_PORT', { WEBUI_PORT: '0', RNG_PORT: '0', HASHER_PORT: '0', ...env });
}

/** A worker process with its admin listener (METRICS_PORT); `url` is that listener. */
export function startWorker(env: Record<string, string>): Promise<{ p: Proc; url: string }> {
  return startListening(['worker'], 'METRICS_PORT', env);
}

/** Stops every process in the list, whatever state the test left them in. */
export async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(procs.map((p) => p.stop('SIGKILL').catch(() => undefined)));
}
