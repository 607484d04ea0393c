// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against real services:
// rng, hasher and webui as separate processes on a real Redis, workers added like `--scale worker=10`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshotPath, watchedPage } from '../helpers/browser.js';
import { waitFor } from '../helpers/net.js';
import { Proc, startService, stopAll } from '../helpers/proc.js';
import { TestRedis } from '../helpers/redis.js';
import { Relay } from '../helpers/relay.js';

describe('dashboard in Chromium', () => {
  const procs: Proc[] = [];
  const redis = new TestRedis();
  let browser: Browser;
  let page: Page;
  // The webui is stopped and started again at the same address: a relay holds it.
  const relay = new Relay();
  let webui: string;
  let env: Record<string, string>;
  const problems: string[] = [];

  const startWebui = async () => {
    const { p, url } = await startService('webui', env);
    procs.push(p);
    relay.retarget(Number(new URL(url).port));
    return p;
  };
  const addWorker = () => procs.push(new Proc(['worker'], env));
  const text = (id: string) => page.locator(`#${id}`).innerText();

  before(async () => {
    await redis.start(['--appendonly', 'yes']);
    webui = (await relay.start()).url;
    env = { HOST: '127.0.0.1', REDIS_URL: redis.url, LOG_LEVEL: 'warn' };
    const [rng, hasher] = await Promise.all([startService('rng', env), startService('hasher', env)]);
    procs.push(rng.p, hasher.p);
    env = { ...env, RNG_URL: rng.url, HASHER_URL: hasher.url };
    await startWebui();
    addWorker();
    browser = await launchChromium();
    page = await watchedPage(browser, 900, problems);
  });

  after(async () => {
    await browser?.close();
    await stopAll(procs);
    await redis.close();
    await relay.stop();
  });

  it('loads from / with no console error, goes live and draws the chart', async () => {
    await page.goto(`${webui}/`);
    assert.equal(new URL(page.url()).pathname, '/index.html');
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
    await waitFor('chart points', async () => Number(await page.evaluate(() => document.querySelectorAll('#chart canvas').length)) > 0);
    await sleep(3000);
    const inked = await page.evaluate(() => {
      const c = document.querySelector('#chart canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return { n, w: c.width, h: c.height };
    });
    assert.ok(inked.w > 500 && inked.h > 200, `chart size ${inked.w}×${inked.h}`);
    assert.ok(inked.n > 2000, `chart has ink (${inked.n} pixels)`);
    assert.deepEqual(problems, []);
  });

  it('shows a steady ≈ 3.33 hashes/s for one worker, never the 4-4-4-0 pattern', async () => {
    await waitFor('warm-up', async () => (await text('speed')) !== '–', 20_000);
    await sleep(9000);
    const readings: number[] = [];
    for (let i = 0; i < 10; i++) {
      readings.push(Number(await text('speed')));
      await sleep(500);
    }
    // The model's ceiling is 3.33 (sleeps are never early); a busy machine only slows it. The 4-4-4-0 pattern (the
    // original's per-second counter) would show a 0: no reading below half the model, none above it plus the fit's 10 %.
    const median = [...readings].sort((x, y) => x - y)[5]!;
    assert.ok(median >= 3.33 * 0.75 && median <= 3.33 * 1.1, `median speed ${median}, readings ${readings.join(', ')}`);
    for (const r of readings) assert.ok(r >= 3.33 * 0.5 && r <= 3.33 * 1.1, `speed readings ${readings.join(', ')}`);
    assert.equal(await text('workers'), '1');
    assert.ok(Number((await text('hashes')).replace(/,/g, '')) > 0);
  });

  it('the bottleneck view turns to rng when workers are scaled to 10', async () => {
    const before = await text('verdict');
    assert.doesNotMatch(before, /rng is the bottleneck/);
    for (let i = 0; i < 9; i++) addWorker();
    await waitFor('10 workers', async () => (await text('workers')) === '10', 15_000);
    await waitFor('rng verdict', async () => /rng is the bottleneck/.test(await text('verdict')), 20_000, 500);
    assert.ok(await page.locator('#row-rng.hot').count(), 'rng row highlighted');
    await waitFor('queue visible', async () => Number(await text('rng-queue')) >= 3, 10_000, 300);
    await sleep(8000);
    const speed = Number(await text('speed'));
    assert.ok(speed >= 6 && speed <= 10 * 1.1, `a plateau at rng's ceiling of 10, read ${speed}`);
    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true });
  });

  it('says when the webui cannot reach Redis, and recovers by itself', async () => {
    await redis.stop();
    await page.waitForSelector('#banner:not([hidden])', { timeout: 10_000 });
    assert.match(await text('banner'), /cannot reach its ledger/);
    await redis.start();
    await page.waitForSelector('#banner[hidden]', { state: 'attached', timeout: 15_000 });
    await page.waitForSelector('#status[data-state="live"]', { timeout: 5000 });
  });

  it('says when it cannot reach the webui, and recovers when it returns', async () => {
    const web = procs.find((p) => p.child.spawnargs.includes('webui') && p.alive)!;
    await web.stop('SIGTERM');
    await page.waitForSelector('#status[data-state="down"]', { timeout: 10_000 });
    assert.match(await text('banner'), /Cannot reach the webui|No update from the webui/);
    await startWebui();
    await page.waitForSelector('#status[data-state="live"]', { timeout: 15_000 });
    assert.equal(await page.locator('#banner').isHidden(), true);
    problems.splice(0, problems.length, ...problems.filter((p) => !/ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/.test(p)));
    assert.deepEqual(problems, []);
  });

  it('is readable on a narrow screen (no fixed 800 px layout)', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    await sleep(500);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `horizontal overflow ${overflow}px`);
    const big = await page.evaluate(() => parseFloat(getComputedStyle(document.getElementById('speed')!).fontSize));
    assert.ok(big >= 30, `speed font ${big}px`);
  });
});
