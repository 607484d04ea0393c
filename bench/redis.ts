// A redis-server for the bench, reached directly (no relay in the bench's own process to add a hop and take CPU
// from the load), with a plain client to read `hashes` the way the original's measurement does.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../test/helpers/net.js';
import { onFreePort } from '../test/helpers/ports.js';

export class BenchRedis {
  pid = 0;
  url = '';
  private child?: ChildProcess;
  private client?: Redis;
  private readonly dir = mkdtempSync(join(tmpdir(), 'dc-bench-redis-'));

  async start(): Promise<this> {
    await onFreePort(async (port) => {
      const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', this.dir, '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let log = '';
      child.stdout!.on('data', (d: Buffer) => {
        log += d.toString();
      });
      child.once('error', () => undefined);
      try {
        await waitFor(
          'redis-server',
          async () => {
            if (child.exitCode !== null) throw new Error(`redis-server exited: ${log.slice(-300)}`);
            return /Ready to accept connections/.test(log);
          },
          15_000,
          20,
        );
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
      this.child = child;
      this.pid = child.pid ?? 0;
      this.url = `redis://127.0.0.1:${port}`;
    });
    this.client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    return this;
  }

  /** The `hashes` counter, as the original's run-original.sh reads it. */
  async hashes(): Promise<number> {
    return Number((await this.client!.get('hashes')) ?? 0);
  }

  /** A clean ledger between rounds. */
  async flush(): Promise<void> {
    await this.client!.flushall();
  }

  async close(): Promise<void> {
    this.client?.disconnect();
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'exit');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
