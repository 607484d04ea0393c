// The image HEALTHCHECK (src/healthcheck.sh) against real service processes, on both of its paths: bash's /dev/tcp
// (Debian-based images) and busybox nc (busybox and alpine images; PATH holding busybox alone). A healthy service
// passes, a dead port and a hung process (SIGSTOP: the kernel still accepts, nothing answers) fail, a draining one
// still passes (liveness is not readiness: no flapping while it finishes its work).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { get } from '../helpers/net.js';
import { type Proc, startService, stopAll } from '../helpers/proc.js';
import { needs } from '../helpers/skip.js';

const SCRIPT = fileURLToPath(new URL('../../src/healthcheck.sh', import.meta.url));

const busybox = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();

/** A PATH with busybox alone (sh, nc, timeout, head): the image without bash. */
function busyboxPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dc-busybox-'));
  for (const applet of ['sh', 'nc', 'timeout', 'head']) symlinkSync(busybox, join(dir, applet));
  return dir;
}

interface Probe {
  code: number;
  stderr: string;
  ms: number;
}

const paths: { name: string; skip: string | false; run: (env: Record<string, string>) => Promise<Probe> }[] = [
  { name: "bash's /dev/tcp", skip: false, run: (env) => probe('sh', [SCRIPT], env) },
  {
    name: 'busybox nc',
    skip: needs(busybox !== '', 'busybox is not installed (scripts/test.sh installs busybox-static when root on Debian)'),
    run: (env) => {
      const dir = busyboxPath();
      return probe(join(dir, 'sh'), [SCRIPT], { ...env, PATH: dir });
    },
  },
];

function probe(cmd: string, args: string[], env: Record<string, string>): Promise<Probe> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stderr, ms: performance.now() - t0 });
    });
  });
}

for (const path of paths) {
  describe(`the image healthcheck, ${path.name}`, { skip: path.skip }, () => {
    let rng: { p: Proc; url: string };
    const port = () => new URL(rng.url).port;
    before(async () => {
      rng = await startService('rng', { PORT: '0', DRAIN_MS: '4000' });
    });
    after(() => stopAll([rng.p]));

    it('passes on a healthy service, on PORT or on HEALTHCHECK_PORT (before PORT)', async () => {
      assert.deepEqual(await path.run({ PORT: port() }).then((r) => [r.code, r.stderr]), [0, '']);
      assert.equal((await path.run({ PORT: '1', HEALTHCHECK_PORT: port() })).code, 0);
      assert.equal((await path.run({ PORT: '1', HEALTHCHECK_PORT: '0', METRICS_PORT: port() })).code, 0, 'METRICS_PORT: the worker');
    });

    it('fails at once on a port nobody listens on, and on a port that is not a number', async () => {
      const dead = await path.run({ PORT: '1' });
      assert.equal(dead.code, 1);
      assert.match(dead.stderr, /refused|no answer/i);
      const bad = await path.run({ PORT: '80; reboot' });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /port '80; reboot' is not a number/);
    });

    it('fails on a hung process (stopped: connected, never answered) within its 2 s, and passes once it runs again', async () => {
      process.kill(rng.p.pid, 'SIGSTOP');
      try {
        const hung = await path.run({ PORT: port() });
        assert.equal(hung.code, 1, hung.stderr);
        assert.ok(hung.ms >= 1900, `gave up after ${hung.ms.toFixed(0)} ms: the 2 s read timeout, not a connect error`);
        assert.match(hung.stderr, /no answer/);
      } finally {
        process.kill(rng.p.pid, 'SIGCONT');
      }
      assert.equal((await path.run({ PORT: port() })).code, 0);
    });

    it('keeps passing while the service drains (not ready, still alive): no flapping on a rolling update', async () => {
      rng.p.child.kill('SIGTERM');
      await rng.p.waitOutput(/draining/i, 5000);
      assert.equal((await get(`${rng.url}/readyz`)).status, 503, 'draining: not ready');
      for (let i = 0; i < 3; i++) assert.equal((await path.run({ PORT: port() })).code, 0, `check ${i + 1} during the drain`);
      assert.equal(await rng.p.exited, 0);
    });
  });
}
