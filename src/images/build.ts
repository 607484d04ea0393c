// dockercoins images --tag v0.1 [--registry R] [--push]  |  --base [--tag T]  |  --debug   (npm run images -- … in a clone)
// Builds the four images, <registry>/<service>:<tag> (registry `dockercoins` by default), the way the workshop
// builds and pushes them before `docker stack deploy` or a Kubernetes rollout, and the common image they share,
// dockercoins/base:latest (the Dockerfile's runtime stage), which ./<service>/Dockerfile specialises: with it, the
// slides' loop `docker build -t $REGISTRY/$SERVICE:$TAG ./$SERVICE` works. --base builds only that one; --debug the
// overlay-debugging chapter's tools image on it (scripts/debug-image.sh). In a clone the images are built from the
// source; from an installed package, from the bundles it ships (the same Dockerfile without its build stage).
// Releases:
//   v0.1  the original's behaviour (every default as the original).
//   v0.2  the worker's first sleep is 1 s instead of 100 ms: rolled out, the speed graph drops to a quarter —
//         the rollout and rollback lesson. (WORKER_DELAY_MS still overrides it.)
//   v0.3  does not exist, on purpose: `kubectl set image … worker=…:v0.3` is the broken-rollout lesson.
// Any other tag builds the current code with the original's defaults.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSourceTree, packageRoot } from './package.js';
import { prepareWorkspace } from './workspace.js';

export const SERVICES = ['rng', 'hasher', 'worker', 'webui'] as const;
/** The lesson tags' build arguments (the release workflow passes the same: test/integration/release.test.ts). */
export const RELEASES: Record<string, Record<string, string>> = { 'v0.1': {}, 'v0.2': { WORKER_DELAY_DEFAULT_MS: '1000' } };
const MISSING = new Set(['v0.3']);
const USAGE = 'usage: dockercoins images --tag TAG [--registry REGISTRY] [--push]  |  --base [--tag TAG]  |  --debug';
/** What ./<service>/Dockerfile starts FROM (its ARG BASE default). */
export const BASE = 'dockercoins/base:latest';

export class ImagesUsage extends Error {}
class ImagesFailed extends Error {}

interface Options {
  tag: string;
  registry: string;
  push: boolean;
  only?: 'base' | 'debug';
}

export function parseImages(args: string[]): Options {
  const opts: Options = { tag: '', registry: 'dockercoins', push: false };
  const usage = (m: string): never => {
    throw new ImagesUsage(`${m}\n${USAGE}`);
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? args[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--tag') opts.tag = value();
    else if (flag === '--registry') opts.registry = value().replace(/\/+$/, '');
    else if (flag === '--push') opts.push = true;
    else if (flag === '--base' || flag === '--debug') {
      if (opts.only && opts.only !== flag.slice(2)) usage('--base and --debug are two different builds');
      opts.only = flag.slice(2) as 'base' | 'debug';
    } else usage(`unknown option ${JSON.stringify(args[i])}`);
  }
  if (opts.only && opts.push) usage(`--${opts.only} builds one local image; it is not pushed`);
  if (!opts.tag && opts.only) opts.tag = 'latest';
  if (!opts.tag) usage('--tag is required');
  if (!/^[\w][\w.-]{0,127}$/.test(opts.tag)) usage(`--tag ${JSON.stringify(opts.tag)} is not a valid image tag`);
  if (!/^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$/.test(opts.registry)) usage(`--registry ${JSON.stringify(opts.registry)} is not a registry or namespace`);
  if (MISSING.has(opts.tag)) usage(`${opts.tag} deliberately does not exist: deploying it is the broken-rollout lesson`);
  return opts;
}

function run(cmd: string, args: string[], cwd: string, out: (s: string) => void): void {
  out(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd });
  if (r.error) throw new ImagesFailed(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new ImagesFailed(`${cmd} ${args[0]} failed (exit ${r.status})`);
}

/** Exit code: 0 built, 1 a build failed, 2 bad options. */
export function images(argv: string[], out: (s: string) => void = console.log): number {
  let opts: Options;
  try {
    opts = parseImages(argv);
  } catch (err) {
    if (err instanceof ImagesUsage) {
      console.error(`images: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const root = packageRoot();
  const fromSource = isSourceTree(root);
  const release = RELEASES[opts.tag] ?? {};
  if (release.WORKER_DELAY_DEFAULT_MS && !fromSource) {
    console.error(`images: ${opts.tag} changes a default compiled into the bundles: build it from a clone (npm run images -- --tag ${opts.tag})`);
    return 1;
  }
  const temp = fromSource ? undefined : mkdtempSync(join(tmpdir(), 'dockercoins-images-'));
  const context = temp ? prepareWorkspace(root, temp) : root;
  try {
    const buildArgs = [`VERSION=${opts.tag}`, ...Object.entries(release).map(([k, v]) => `${k}=${v}`)].flatMap((a) => ['--build-arg', a]);
    if (process.env.NODE_IMAGE) buildArgs.push('--build-arg', `NODE_IMAGE=${process.env.NODE_IMAGE}`);
    // From the source, the build stage runs `npm ci`: it needs the registry (and the host's network, where the
    // default bridge has no way out). From the bundles it needs nothing.
    const network = fromSource ? ['--network', 'host'] : [];
    const build = (target: string, tag: string) => run('docker', ['build', ...network, '--target', target, ...buildArgs, '-t', tag, '.'], context, out);
    build('runtime', BASE);
    if (opts.only === 'base') {
      out(`images: ${BASE} (DOCKERCOINS_VERSION=${opts.tag}); now: docker build -t $REGISTRY/$SERVICE:$TAG ./$SERVICE`);
      return 0;
    }
    if (opts.only === 'debug') {
      run('bash', [join(context, 'scripts/debug-image.sh')], context, out);
      return 0;
    }
    for (const s of SERVICES) build(s, `${opts.registry}/${s}:${opts.tag}`);
    if (opts.push) for (const s of SERVICES) run('docker', ['push', `${opts.registry}/${s}:${opts.tag}`], context, out);
    out(`images: ${SERVICES.map((s) => `${opts.registry}/${s}:${opts.tag}`).join(' ')}${opts.push ? ' (pushed)' : ''}`);
    return 0;
  } catch (err) {
    if (!(err instanceof ImagesFailed)) throw err;
    console.error(`images: ${err.message}`);
    return 1;
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}
