// A real redis-server for the tests, on a free loopback port, as a child of the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './net.js';

export class TestRedis {
  private child?: ChildProcess;
  private args: string[] = [];
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts, on the same port with the same arguments) the server. */
  async start(extraArgs?: string[]): Promise<this> {
    this.port ||= await freePort();
    if (extraArgs) this.args = extraArgs;
    this.child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no', ...this.args], {
      stdio: 'ignore',
    });
    this.child.once('error', (err) => {
      throw new Error(`redis-server could not start (${err.message}); run the README's test command, which installs it`);
    });
    await waitFor('redis-server', async () => {
      const c = this.client();
      try {
        return (await c.ping()) === 'PONG';
      } catch (err) {
        if (/NOAUTH/.test((err as Error).message)) return true; // up, and asking for a password
        throw err;
      } finally {
        c.disconnect();
      }
    });
    return this;
  }

  /** A plain client (no prefix) for checking what is stored. */
  client(): Redis {
    const c = new Redis(this.url, { maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => null });
    c.on('error', () => undefined);
    return c;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = undefined;
    child.kill(signal);
    await once(child, 'exit');
  }
}
