// The four images every container test uses, built once per content of the build context and tagged with names of
// the tests' own (`dockercoins-test/<service>:<hash>`), so a test never overwrites a user's `dockercoins/*` tags and
// the Docker tiers (Compose, Swarm, the pod runner, tenants, the workshop replay) share one build.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVICES = ['rng', 'hasher', 'worker', 'webui'] as const;
export type Service = (typeof SERVICES)[number];
export const TEST_REGISTRY = 'dockercoins-test';

/** True when `docker info` answers (DOCKER_HOST honoured). */
export function engineReachable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** True when the engine was started by this test run (scripts/test.sh sets it): only then may a test take fixed names. */
export const ownEngine = process.env.DOCKERCOINS_TEST_OWN_ENGINE === '1';

/** A hash of what the Dockerfile copies (tracked and untracked files of the build context) plus the build arguments. */
function contextHash(args: Record<string, string>): string {
  const files = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', 'Dockerfile', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts', 'src', 'web'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter(Boolean)
    .sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f);
    try {
      h.update(readFileSync(`${ROOT}${f}`));
    } catch {
      h.update('(deleted)');
    }
  }
  h.update(JSON.stringify(args));
  return h.digest('hex').slice(0, 12);
}

/**
 * The image names of the four services for these build arguments (e.g. `{ WORKER_DELAY_DEFAULT_MS: '1000' }` for the
 * v0.2 worker), building them first when the engine does not have them yet.
 */
export function testImages(buildArgs: Record<string, string> = {}): Record<Service, string> {
  const tag = `t-${contextHash(buildArgs)}`;
  const names = Object.fromEntries(SERVICES.map((s) => [s, `${TEST_REGISTRY}/${s}:${tag}`])) as Record<Service, string>;
  const args = Object.entries({ VERSION: tag, ...buildArgs }).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  for (const service of SERVICES) {
    const present = spawnSync('docker', ['image', 'inspect', names[service]], { stdio: 'ignore', timeout: 30_000 }).status === 0;
    if (present) continue;
    const r = spawnSync('docker', ['build', '-q', '--network', 'host', '--target', service, ...args, '-t', names[service], '.'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 900_000,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    if (r.status !== 0)
      throw new Error(`docker build --target ${service} failed (exit ${r.status}):\n${(r.stderr || r.stdout || String(r.error)).slice(-4000)}`);
  }
  return names;
}
