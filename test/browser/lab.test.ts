// The lab in Chromium, on the real all-in-one: the workshop's scaling lesson done with the dashboard's own controls
// (mouse and keyboard) — each step turns ✓ from the measurements — and the screenshot of the lab for the README.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { LabState } from '../../src/telemetry.js';
import { launchChromium, screenshotPath, watchedPage } from '../helpers/browser.js';
import { json, waitFor } from '../helpers/net.js';
import { startUp } from '../helpers/proc.js';

describe('the lab in Chromium', () => {
  let up: Awaited<ReturnType<typeof startUp>>;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  // Readings of earlier steps: later steps are asserted as orders against them, not as absolute rates.
  let one = 0;
  let plateau = 0;
  const text = (selector: string) => page.locator(selector).innerText();
  const speed = async () => Number(await text('#speed'));
  const done = async (id: string) => (await page.locator(`#lesson-list li[data-lesson="${id}"]`).getAttribute('class'))?.includes('done') ?? false;
  const untilDone = (id: string) => waitFor(`lesson ${id} ✓`, () => done(id), 60_000, 500);
  const scale = async () => (await json<LabState>(`${up.webui}/api/lab`)).scale;

  before(async () => {
    up = await startUp();
    browser = await launchChromium();
    page = await watchedPage(browser, 1100, problems);
    await page.goto(`${up.webui}/`);
    await page.waitForSelector('#lab:not([hidden])', { timeout: 10_000 });
  });

  after(async () => {
    await browser?.close();
    await up?.p.stop('SIGKILL');
  });

  it('one worker: 3.33 hashes/s, the first step turns ✓', async () => {
    assert.equal(await page.inputValue('#worker-count'), '1');
    await untilDone('one-worker');
    const s = await speed();
    one = s;
    // The model's ceiling is 3.33 (sleeps are never early); a busy machine only slows it.
    assert.ok(s >= 3.33 * 0.75 && s <= 3.33 * 1.1, `speed ${s}`);
  });

  it('+ gives two workers, twice as fast; the progress survives a reload', async () => {
    await page.click('.scaler[data-kind="worker"] button[data-step="1"]');
    await waitFor('2 workers', async () => (await scale()).worker === 2);
    await untilDone('two-workers');
    const s = await speed();
    assert.ok(s >= 1.6 * one && s <= 6.67 * 1.1, `two workers: speed ${s}, one worker read ${one}`);
    await page.reload();
    await page.waitForSelector('#lab:not([hidden])');
    await waitFor('progress shown again', async () => (await done('one-worker')) && (await done('two-workers')), 10_000, 200);
  });

  it('ten workers, typed with the keyboard: a plateau near 10 and the verdict names rng', async () => {
    await page.focus('#worker-count');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('10');
    await page.keyboard.press('Enter');
    await waitFor('10 workers', async () => (await scale()).worker === 10, 10_000, 200);
    await waitFor('rng verdict', async () => /rng is the bottleneck/.test(await text('#verdict')), 20_000, 500);
    await untilDone('ten-workers');
    const s = await speed();
    plateau = s;
    assert.ok(s >= 2 * one && s <= 10 * 1.05, `a plateau at rng's ceiling of 10, read ${s} (one worker ${one})`);
    assert.ok(await page.locator('#row-rng.hot').count(), 'rng row highlighted');
  });

  it('three rng instances lift the plateau (at least double)', async () => {
    const plus = page.locator('.scaler[data-kind="rng"] button[data-step="1"]');
    await plus.click();
    await waitFor('2 rng', async () => (await scale()).rng === 2, 10_000, 200);
    await plus.click();
    await waitFor('3 rng', async () => (await scale()).rng === 3, 10_000, 200);
    await untilDone('three-rng');
    const s = await speed();
    assert.ok(s >= 2 * plateau, `speed ${s} on 3 rng, ${plateau} on one`);
    assert.equal(await text('#rng-replicas'), '3');
  });

  it('the "fix" that removes the lesson: rng unlimited on one instance, with why the workshop scales instead', async () => {
    const minus = page.locator('.scaler[data-kind="rng"] button[data-step="-1"]');
    await minus.click();
    await waitFor('2 rng', async () => (await scale()).rng === 2, 10_000, 200);
    await minus.click();
    await waitFor('1 rng', async () => (await scale()).rng === 1, 10_000, 200);
    await page.click('#concurrency');
    await waitFor('unlimited', async () => (await page.getAttribute('#concurrency', 'aria-pressed')) === 'true', 10_000, 200);
    await untilDone('unlimited-rng');
    assert.match(await text('#lesson-list li[data-lesson="unlimited-rng"]'), /scale it out/);
    await page.screenshot({ path: screenshotPath('lab.png'), fullPage: true });
  });

  it('fault buttons toggle the faults of a service', async () => {
    await page.click('button[data-fault="slow-hasher"]');
    await waitFor('slow hasher on', async () => (await json<LabState>(`${up.webui}/api/lab`)).faults?.hasher.latencyMs === 500, 10_000, 200);
    await waitFor('pressed', async () => (await page.getAttribute('button[data-fault="slow-hasher"]', 'aria-pressed')) === 'true', 5000, 200);
    await page.click('button[data-fault="slow-hasher"]');
    await waitFor('slow hasher off', async () => (await json<LabState>(`${up.webui}/api/lab`)).faults?.hasher.latencyMs === 0, 10_000, 200);
    assert.deepEqual(problems, []);
  });

  it('a page from another site cannot drive the lab or the faults: Chromium marks them cross-site, the services refuse (403)', async () => {
    const before = await json<LabState>(`${up.webui}/api/lab`);
    const rng = up.rngs[0]!;
    // A page the learner happens to visit, on another origin (localhost vs 127.0.0.1, another port): it fires the
    // simple requests no preflight stops — fetch in no-cors mode and a plain form.
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><body>
        <form id="f" method="POST" action="${rng}/admin/faults?hang_rate=1" target="sink"></form><iframe name="sink"></iframe>
        <script>
          fetch('${up.webui}/api/lab', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ workers: 7 }) });
          fetch('${rng}/admin/faults?unready=true', { method: 'POST', mode: 'no-cors' });
          document.getElementById('f').submit();
        </script></body>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const other = await browser.newPage();
    try {
      await other.goto(`http://localhost:${(evil.address() as { port: number }).port}/`);
      // The three requests reached the services and were refused (each refusal leaves a warn line saying why).
      await waitFor(
        'three cross-site refusals in the log',
        async () => (up.p.output.match(/refused POST \/(api\/lab|admin\/faults\?\S*) from \S+: cross-site \((Sec-Fetch-Site|Origin)/g) ?? []).length >= 3,
        10_000,
        100,
      );
      const after = await json<LabState>(`${up.webui}/api/lab`);
      assert.deepEqual(after.scale, before.scale, 'the lab did not change');
      const faults = await (await fetch(`${rng}/admin/faults`)).json();
      assert.deepEqual([faults.unready, faults.hangRate], [false, 0], 'rng has no fault');
      assert.match(up.p.output, /refused POST \/api\/lab from \S+: cross-site/);
    } finally {
      await other.close();
      evil.close();
    }
    // The dashboard's own buttons (same origin) still work: the fault test above used them.
  });
});
