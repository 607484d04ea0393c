// Debian's Chromium driven by playwright-core (browsers cannot be downloaded here), and where screenshots go:
// .test-artifacts/ during a test run; docs/ when `npm run screenshot` asks for them (SCREENSHOT_DIR=docs).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** A page of the given height whose console errors and uncaught exceptions are collected in `problems`. */
export async function watchedPage(browser: Browser, height: number, problems: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return page;
}

export function screenshotPath(name: string): string {
  const dir = join(ROOT, process.env.SCREENSHOT_DIR ?? '.test-artifacts/screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
