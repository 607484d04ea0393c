// TRACING_UI_URL in Chromium: the all-in-one traced to a real OTLP receiver; the dashboard's bottleneck view lists
// the slowest recent units, each a link to its trace in the viewer — traces the receiver really got.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshotPath, watchedPage } from '../helpers/browser.js';
import { waitFor } from '../helpers/net.js';
import { OtlpReceiver } from '../helpers/otlp.js';
import { type Proc, startUp } from '../helpers/proc.js';

const VIEWER = 'http://jaeger.example:16686';

describe('links to the slowest traces in Chromium', () => {
  const receiver = new OtlpReceiver();
  let up: { p: Proc; webui: string };
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    await receiver.start();
    up = await startUp(['--scale', 'worker=4'], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200', TRACING_UI_URL: `${VIEWER}/` });
    browser = await launchChromium();
    page = await watchedPage(browser, 1100, problems);
  });

  after(async () => {
    await browser?.close();
    await up?.p.stop('SIGKILL');
    await receiver.stop();
  });

  it('lists the slowest recent units, each linking to a trace the collector has', async () => {
    await page.goto(`${up.webui}/`);
    await page.waitForSelector('#traces:not([hidden]) #trace-list a', { timeout: 20_000 });
    const links = await page
      .locator('#trace-list a')
      .evaluateAll((as) =>
        as.map((a) => ({ href: a.getAttribute('href') ?? '', text: a.textContent ?? '', target: a.getAttribute('target'), rel: a.getAttribute('rel') })),
      );
    assert.ok(links.length >= 1 && links.length <= 5, JSON.stringify(links));
    const units = await waitFor('the linked units at the receiver', async () => {
      const byId = new Map(receiver.spans.filter((s) => s.name === 'unit').map((s) => [s.traceId, s]));
      const found = links.map((l) => byId.get(l.href.slice(`${VIEWER}/trace/`.length)));
      return found.every(Boolean) ? found : undefined;
    });
    for (const [i, l] of links.entries()) {
      assert.match(l.href, new RegExp(`^${VIEWER}/trace/[0-9a-f]{32}$`));
      assert.equal(l.target, '_blank');
      assert.equal(l.rel, 'noopener noreferrer');
      const shown = Number(/^(\d+) ms$/.exec(l.text)?.[1]);
      const span = units[i]!;
      assert.ok(Math.abs(shown - (span.endMs - span.startMs)) <= 5, `${l.text} for a unit span of ${(span.endMs - span.startMs).toFixed(1)} ms`);
    }
    const shown = links.map((l) => Number.parseInt(l.text, 10));
    assert.deepEqual(
      shown,
      [...shown].sort((a, b) => b - a),
      'slowest first',
    );
    await page.locator('#traces').screenshot({ path: screenshotPath('traces.png') });
    assert.deepEqual(problems, []);
  });
});
