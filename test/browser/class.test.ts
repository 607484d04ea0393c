// The instructor's page in Chromium with real tenants on the Docker engine (a class id of this test's own): every
// tenant a card with its speed, hashes, workers and dashboard link; a tenant whose rng is stopped is flagged (the
// container, then "no hashes for 10 s"); GET /api/tenants has the contract's fields. Screenshot: class.png.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import type { TenantRow } from '../../src/class/monitor.js';
import { launchChromium, screenshotPath, watchedPage } from '../helpers/browser.js';
import { engineReachable, ROOT, testImages } from '../helpers/images.js';
import { json, waitFor } from '../helpers/net.js';
import { CLI } from '../helpers/proc.js';

const run = promisify(execFile);
const engine = engineReachable();
const CLASS = `t22w${randomBytes(3).toString('hex')}`;
const [OK, STUCK] = ['t22-busy', 't22-stuck'];

describe('the class page (dockercoins class) in Chromium', { skip: engine ? false : 'no Docker engine reachable', timeout: 400_000 }, () => {
  let env: NodeJS.ProcessEnv = {};
  let page: ChildProcess | undefined;
  let url = '';
  let browser: Browser | undefined;
  const cli = (...args: string[]) => run('node', [CLI, ...args, '--class', CLASS], { cwd: ROOT, env, timeout: 300_000 });

  before(async () => {
    const images = testImages();
    env = { ...process.env, REGISTRY: images.rng.split('/')[0]!, TAG: images.rng.split(':')[1]! };
    await Promise.all([cli('tenant', 'add', OK, '--workers', '2', '--public-host', '127.0.0.1'), cli('tenant', 'add', STUCK, '--public-host', '127.0.0.1')]);
    const child = spawn('node', [CLI, 'class', '--port', '0', '--class', CLASS], {
      cwd: ROOT,
      env: { ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    page = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const port = await waitFor('the class page', async () => /class page on port (\d+)/.exec(out)?.[1], 30_000);
    url = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    page?.kill('SIGTERM');
    await cli('tenant', 'remove', '--all').catch(() => undefined);
  });

  it('GET /api/tenants: every tenant with name, url, speed, hashes, workers, healthy', async () => {
    const rows = await waitFor(
      'both tenants mining',
      async () => {
        const r = await json<TenantRow[]>(`${url}/api/tenants`);
        return r.length === 2 && r.every((x) => x.healthy && x.hashes > 0 && x.speed !== null && x.speed > 0) ? r : undefined;
      },
      180_000,
      1000,
    );
    assert.deepEqual(
      rows.map((r) => [r.name, r.workers, r.healthy]),
      [
        [OK, 2, true],
        [STUCK, 1, true],
      ],
    );
    for (const r of rows) {
      for (const k of ['name', 'url', 'speed', 'hashes', 'workers', 'healthy']) assert.ok(k in r, k);
      assert.match(r.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    }
    // The speed the tenant's own dashboard shows. The class page polls each dashboard, so right after a tenant starts
    // (its speed still climbing) the two readings can be a poll apart: they must agree once the speed has settled.
    const seen: string[] = [];
    await waitFor(
      'the class page showing the speed of each dashboard',
      async () => {
        const now = await json<TenantRow[]>(`${url}/api/tenants`);
        seen.length = 0;
        for (const r of now) {
          const own = await json<{ speed: number }>(`${r.url}api/snapshot`);
          seen.push(`${r.name}: ${r.speed} vs its dashboard ${own.speed}`);
          if (r.speed === null || Math.abs(own.speed - r.speed) >= Math.max(0.5, own.speed * 0.3)) return false;
        }
        return now.length === 2;
      },
      60_000,
      1000,
    ).catch((err: Error) => assert.fail(`${err.message}; last readings: ${seen.join('; ')}`));
  });

  it('shows every tenant live; a tenant whose rng stopped is flagged, then called stuck after 10 s without hashes', async (t) => {
    const problems: string[] = [];
    const p = await watchedPage(browser!, 720, problems);
    await p.goto(`${url}/`);
    await p.waitForFunction(() => document.querySelectorAll('.tenant[data-healthy="true"]').length === 2, undefined, { timeout: 30_000 });
    const busy = p.locator(`.tenant[data-tenant="${OK}"]`);
    assert.match((await busy.locator('.speed').textContent()) ?? '', /^\d+\.\d\d hashes\/s$/);
    assert.match((await busy.locator('.facts').textContent()) ?? '', /hashes · 2 workers · dashboard/);
    const href = await busy.locator('a').getAttribute('href');
    assert.match(href ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);

    const stoppedAt = Date.now();
    await run('docker', ['stop', '-t', '1', `${CLASS}-${STUCK}-rng`], { env, timeout: 60_000 });
    const stuck = p.locator(`.tenant[data-tenant="${STUCK}"]`);
    await p.waitForFunction((n) => document.querySelector(`.tenant[data-tenant="${n}"]`)?.getAttribute('data-healthy') === 'false', STUCK, { timeout: 30_000 });
    // The engine's state arrives with the next round (the worker's errors may come first).
    await p.waitForFunction((n) => /rng exited/.test(document.querySelector(`.tenant[data-tenant="${n}"]`)?.textContent ?? ''), STUCK, { timeout: 30_000 });
    await p.waitForFunction((n) => /no hashes for \d+ s/.test(document.querySelector(`.tenant[data-tenant="${n}"]`)?.textContent ?? ''), STUCK, {
      timeout: 60_000,
    });
    t.diagnostic(`flagged stuck ${((Date.now() - stoppedAt) / 1000).toFixed(0)} s after its rng was stopped`);
    assert.match((await stuck.locator('.health').textContent()) ?? '', /STUCK/);
    assert.equal(await busy.getAttribute('data-healthy'), 'true', 'the other tenant is not affected');
    assert.equal(await p.locator('#unhealthy').textContent(), '1');
    await p.screenshot({ path: screenshotPath('class.png') });
    assert.deepEqual(problems, []);
    await p.close();
  });
});
