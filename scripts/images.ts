// npm run images -- --tag v0.1 [--registry R] [--push]   |   npm run images -- --base [--tag v0.1]
// Builds the four images, <registry>/<service>:<tag> (registry `dockercoins` by default), the way the workshop
// builds and pushes them before `docker stack deploy` or a Kubernetes rollout, and the common image they share,
// dockercoins/base:latest (the Dockerfile's runtime stage), which ./<service>/Dockerfile specialises: with it, the
// slides' loop `docker build -t $REGISTRY/$SERVICE:$TAG ./$SERVICE` works. --base builds only that one. Releases:
//   v0.1  the original's behaviour (every default as the original).
//   v0.2  the worker's first sleep is 1 s instead of 100 ms: rolled out, the speed graph drops to a quarter —
//         the rollout and rollback lesson. (WORKER_DELAY_MS still overrides it.)
//   v0.3  does not exist, on purpose: `kubectl set image … worker=…:v0.3` is the broken-rollout lesson.
// Any other tag builds the current code with the original's defaults.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVICES = ['rng', 'hasher', 'worker', 'webui'] as const;
const RELEASES: Record<string, Record<string, string>> = { 'v0.1': {}, 'v0.2': { WORKER_DELAY_DEFAULT_MS: '1000' } };
const MISSING = new Set(['v0.3']);
const USAGE = 'usage: npm run images -- --tag TAG [--registry REGISTRY] [--push]  |  npm run images -- --base [--tag TAG]';
/** What ./<service>/Dockerfile starts FROM (its ARG BASE default). */
const BASE = 'dockercoins/base:latest';

function fail(message: string, code = 2): never {
  console.error(`images: ${message}`);
  process.exit(code);
}

function parse(args: string[]): { tag: string; registry: string; push: boolean; baseOnly: boolean } {
  const opts = { tag: '', registry: 'dockercoins', push: false, baseOnly: false };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? args[++i] ?? fail(`${flag} needs a value\n${USAGE}`);
    if (flag === '--tag') opts.tag = value();
    else if (flag === '--registry') opts.registry = value().replace(/\/+$/, '');
    else if (flag === '--push') opts.push = true;
    else if (flag === '--base') opts.baseOnly = true;
    else fail(`unknown option ${JSON.stringify(args[i])}\n${USAGE}`);
  }
  if (opts.baseOnly && opts.push) fail(`--base builds the common image only; it is not pushed\n${USAGE}`);
  if (!opts.tag && opts.baseOnly) opts.tag = 'latest';
  if (!opts.tag) fail(`--tag is required\n${USAGE}`);
  if (!/^[\w][\w.-]{0,127}$/.test(opts.tag)) fail(`--tag ${JSON.stringify(opts.tag)} is not a valid image tag`);
  if (!/^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$/.test(opts.registry)) fail(`--registry ${JSON.stringify(opts.registry)} is not a registry or namespace`);
  if (MISSING.has(opts.tag)) fail(`${opts.tag} deliberately does not exist: deploying it is the broken-rollout lesson`);
  return opts;
}

function docker(args: string[]): void {
  console.log(`$ docker ${args.join(' ')}`);
  const r = spawnSync('docker', args, { stdio: 'inherit', cwd: fileURLToPath(new URL('..', import.meta.url)) });
  if (r.error) fail(`cannot run docker: ${r.error.message}`, 1);
  if (r.status !== 0) fail(`docker ${args[0]} failed (exit ${r.status})`, 1);
}

const { tag, registry, push, baseOnly } = parse(process.argv.slice(2));
const release = RELEASES[tag] ?? {};
const buildArgs = [`VERSION=${tag}`, ...Object.entries(release).map(([k, v]) => `${k}=${v}`)].flatMap((a) => ['--build-arg', a]);
if (process.env.NODE_IMAGE) buildArgs.push('--build-arg', `NODE_IMAGE=${process.env.NODE_IMAGE}`);
docker(['build', '--network', 'host', '--target', 'runtime', ...buildArgs, '-t', BASE, '.']);
if (baseOnly) {
  console.log(`images: ${BASE} (DOCKERCOINS_VERSION=${tag}); now: docker build -t $REGISTRY/$SERVICE:$TAG ./$SERVICE`);
  process.exit(0);
}
for (const service of SERVICES) docker(['build', '--network', 'host', '--target', service, ...buildArgs, '-t', `${registry}/${service}:${tag}`, '.']);
if (push) for (const service of SERVICES) docker(['push', `${registry}/${service}:${tag}`]);
console.log(`images: ${SERVICES.map((s) => `${registry}/${s}:${tag}`).join(' ')}${push ? ' (pushed)' : ''}`);
