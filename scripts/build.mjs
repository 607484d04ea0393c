// npm run build: the services as one minified bundle per entry point (code shared between them in chunks/), so a
// process loads only what it runs and the image needs no node_modules; then the dashboard (build-web.mjs).
// Type checking is `npm run typecheck` (tsc --noEmit).
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
// A release may change the worker's default first sleep (v0.2: 1 s, the workshop's rollout lesson; see npm run images).
const workerDelay = process.env.WORKER_DELAY_DEFAULT_MS ?? '';
if (!/^\d*$/.test(workerDelay)) throw new Error(`WORKER_DELAY_DEFAULT_MS must be a number of ms, got ${JSON.stringify(workerDelay)}`);
// dockerode's ssh:// transport (ssh2, with optional native addons) is replaced by a stub: DOCKER_HOST over ssh is not
// supported (src/engine/docker.ts refuses it), and the bundle stays free of .node files.
const noSsh = {
  name: 'no-ssh2',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'no-ssh2' }));
    b.onLoad({ filter: /.*/, namespace: 'no-ssh2' }, () => ({
      contents: "module.exports = { Client: class { constructor() { throw new Error('DOCKER_HOST=ssh:// is not supported'); } } };",
      loader: 'js',
    }));
  },
};
rmSync('dist', { recursive: true, force: true });
await build({
  plugins: [noSsh],
  entryPoints: { cli: 'src/cli.ts', thread: 'src/system/thread.ts', healthcheck: 'src/healthcheck.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  define: {
    __DOCKERCOINS_PACKAGE_VERSION__: JSON.stringify(pkg.version),
    __DOCKERCOINS_WORKER_DELAY_MS__: workerDelay ? workerDelay : 'undefined',
  },
  // CommonJS dependencies (fastify, ioredis, pino…) call require() for Node's own modules.
  banner: { js: "import { createRequire as __dcRequire } from 'node:module'; const require = __dcRequire(import.meta.url);" },
});
chmodSync('dist/cli.js', 0o755);
await import('./build-web.mjs');
