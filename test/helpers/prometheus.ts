// A real Prometheus server (Debian's package) for tests: started on a free loopback port with a given config,
// queried through its HTTP API, stopped by the test. Its data lives in a temporary directory.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, waitFor } from './net.js';
import { onFreePort } from './ports.js';
import { needs } from './skip.js';

const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
/** false when prometheus and promtool are installed, else the reason to skip (under CI=true: a failure). */
export const skipWithoutPrometheus = needs(
  has('prometheus') && has('promtool'),
  'prometheus/promtool not installed (the README test command installs them as root on Debian)',
);

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
export interface RuleState {
  name: string;
  type: 'recording' | 'alerting';
  health: string;
  lastError?: string;
  state?: string;
  alerts?: { labels: Record<string, string>; state: string }[];
}

export class Prometheus {
  child?: ChildProcess;
  url = '';
  startedAt = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'dc-prometheus-'));
  log = '';

  async start(config: string): Promise<void> {
    writeFileSync(join(this.dir, 'prometheus.yml'), config);
    this.url = await onFreePort(async (port) => {
      const child = spawn(
        'prometheus',
        [`--config.file=${join(this.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-20_000)));
      const exited = once(child, 'exit').then(() => {
        throw new Error(`prometheus exited: ${this.log.slice(-800)}`);
      });
      exited.catch(() => undefined);
      await Promise.race([exited, waitFor('prometheus ready', async () => /Server is ready to receive web requests/.test(this.log), 20_000, 100)]);
      this.child = child;
      this.startedAt = Date.now();
      return `http://127.0.0.1:${port}`;
    });
  }

  async query(expr: string): Promise<Sample[]> {
    const body = await json<{ status: string; data: { result: Sample[] } }>(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    assert.equal(body.status, 'success', expr);
    return body.data.result;
  }

  async rules(): Promise<RuleState[]> {
    const body = await json<{ data: { groups: { rules: RuleState[] }[] } }>(`${this.url}/api/v1/rules`);
    return body.data.groups.flatMap((g) => g.rules);
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'exit');
    }
  }
}
