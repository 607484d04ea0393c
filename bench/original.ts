// The original DockerCoins (Flask rng, Sinatra/Thin hasher, Python worker, its own redis-server), run by the
// project's run-original.sh from the container.training sources, measured the way that script measures it: the
// slope of Redis `hashes`. Where its packages, its sources or root are missing, says why instead of a figure.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** ORIGINAL_RUNNER, or the shared tools folder next to the repository (../shared/tools/original). */
export function originalRunner(): string {
  return process.env.ORIGINAL_RUNNER ?? fileURLToPath(new URL('../../shared/tools/original/run-original.sh', import.meta.url));
}

const ok = (cmd: string, args: string[]) => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
};

/** null when the original can run here; otherwise what is missing. */
export function originalMissing(): string | null {
  const runner = originalRunner();
  if (!existsSync(runner)) return `no ${runner} (set ORIGINAL_RUNNER)`;
  if (process.getuid?.() !== 0) return 'needs root (port 80, /etc/hosts)';
  if (!ok('/usr/bin/python3', ['-c', 'import flask, redis, requests']) || !existsSync('/usr/bin/flask'))
    return 'python3-flask, python3-redis or python3-requests not installed';
  if (!ok('/usr/bin/ruby', ['-e', 'require "sinatra/base"; require "thin"'])) return 'ruby, ruby-sinatra or thin not installed';
  if (!existsSync('/usr/bin/redis-server') || !existsSync('/usr/bin/redis-cli')) return 'redis-server or redis-tools not installed';
  return null;
}

/** One run: `run-original.sh --turbo WORKERS SECONDS`: hashes/s and the script's warnings, or its error as a rejection. */
export function runOriginal(workers: number, seconds: number, warmupS: number): Promise<{ rate: number; warnings: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [originalRunner(), '--turbo', String(workers), String(seconds)], {
      env: { ...process.env, WARMUP_S: String(warmupS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), (seconds + warmupS + 60) * 1000);
    child.once('error', (e) => reject(e));
    child.once('exit', (code) => {
      clearTimeout(timer);
      const m = /hashes_per_s=([\d.]+)/.exec(out);
      if (code === 0 && m) return resolve({ rate: Number(m[1]), warnings: [...err.matchAll(/WARNING: (.*)/g)].map((w) => w[1]!) });
      const why = /ERROR: (.*)/.exec(err)?.[1] ?? `exit ${code}: ${err.trim().split('\n').pop() ?? ''}`;
      reject(new Error(why));
    });
  });
}
