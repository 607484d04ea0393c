// A real redis-server for the tests, as a child of the test process, with its data in a temporary folder. Clients
// reach it through a Relay, so it can be stopped and started again at the same address without reusing a port.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './net.js';
import { onFreePort } from './ports.js';
import { Relay } from './relay.js';

export class TestRedis {
  private child?: ChildProcess;
  private args: string[] = [];
  private readonly relay = new Relay();
  readonly dir = mkdtempSync(join(tmpdir(), 'dc-redis-'));

  /** The stable address clients use (reserve() or start() first). */
  get url(): string {
    return `redis://127.0.0.1:${this.relay.port}`;
  }

  /** The address, with nothing behind it yet (connections are refused until start()). */
  async reserve(): Promise<string> {
    await this.relay.start();
    return this.url;
  }

  /** Starts (or starts again, at the same address and with the same arguments) the server. */
  async start(extraArgs?: string[]): Promise<this> {
    if (extraArgs) this.args = extraArgs;
    await this.relay.start();
    const port = await onFreePort((p) => this.launch(p));
    this.relay.retarget(port);
    return this;
  }

  private async launch(port: number): Promise<number> {
    const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', this.dir, '--save', '', '--appendonly', 'no', ...this.args], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let log = '';
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`redis-server could not start (${err.message}); run the README's test command, which installs it`)));
      child.once('exit', () => reject(new Error(`redis-server exited at start: ${log.slice(-300)}`)));
    });
    failed.catch(() => undefined);
    await Promise.race([failed, waitFor('redis-server', async () => /Ready to accept connections/.test(log), 15_000, 20)]);
    this.child = child;
    return port;
  }

  /** A plain client (no prefix) for checking what is stored. */
  client(password?: string): Redis {
    const c = new Redis(this.url, { password, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => null });
    c.on('error', () => undefined);
    return c;
  }

  /** Stops the server (the address stays, refusing connections); `stop('SIGKILL')` is a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.relay.retarget(undefined);
    if (!child || child.exitCode !== null) return;
    child.kill(signal);
    await once(child, 'exit');
  }

  /** Stops the server and the address for good. */
  async close(): Promise<void> {
    await this.stop();
    await this.relay.stop();
  }
}
