// Runs the built CLI (dist/cli.js) as a real process, as users and the checks do.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { get, waitFor } from './net.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Environment with none of the contract's variables from the caller's shell. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(PORT|HOST|REDIS_URL|RNG_|HASHER_|WORKER_|FLUSH_|DOCKERCOINS_|LOG_|DEBUG|WEBUI_|METRICS_PORT|DRAIN_MS|FAULT_|HTTP_TIMEOUT|RETRY_MAX)/.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

export class Proc {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitHttp(url: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(`${url} (process output: ${this.output.slice(-500)})`, async () => {
      if (!this.alive) throw new Error(`process exited: ${this.output.slice(-500)}`);
      return (await get(url, { timeoutMs: 1000 })).status < 500;
    }, timeoutMs);
  }

  async waitOutput(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return waitFor(`output ${pattern}`, async () => this.output.match(pattern) ?? undefined, timeoutMs);
  }

  /** Sends a signal and resolves with the exit code and the time it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; ms: number }> {
    const t0 = Date.now();
    if (this.alive) this.child.kill(signal);
    const code = await this.exited;
    return { code, ms: Date.now() - t0 };
  }
}

/** Stops every process in the list, whatever state the test left them in. */
export async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(procs.map((p) => p.stop('SIGKILL').catch(() => undefined)));
}
