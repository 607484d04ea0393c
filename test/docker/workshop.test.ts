// The workshop replay (npm run workshop) on a real engine: every step of the three seed chapters holds. Its commands
// take fixed names (a swarm, services rng/hasher/…, stack dockercoins, ports 5000 and 8000–8002), so it runs only on
// an engine this test run started itself (scripts/test.sh → ownEngine); under CI=true it must run, never skip.
// From the installed package too (npx dockercoins workshop, outside any clone): chapter 1, images from its bundles.
// And it fails when a slide's observation fails: with rng's `/` immediate again, the httping step turns ✗.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadChapters, Replay, workshopDir } from '../../src/workshop/runner.js';
import type { Chapter, StepResult } from '../../src/workshop/steps.js';
import { ownEngine, ROOT } from '../helpers/images.js';
import { needs } from '../helpers/skip.js';

// Under CI=true, needs() fails the file instead of skipping: CI must give the run its own engine.
const skip = needs(ownEngine, 'the replay takes fixed names and ports: it runs only on an engine the test run started (scripts/test.sh)');
const ARTIFACTS = join(ROOT, '.test-artifacts');

describe('the workshop replay, every chapter', { skip }, () => {
  it('npm run workshop: every step of chapters 1–3 holds (exit 0), one line each', { timeout: 1_500_000 }, async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const child = spawn('node', ['dist/cli.js', 'workshop', '--json', '--log', join(ARTIFACTS, 'workshop-steps')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    writeFileSync(join(ARTIFACTS, 'workshop.json'), out);
    const report = JSON.parse(out.slice(out.indexOf('{'))) as { ok: boolean; seconds: number; steps: StepResult[] };
    const { formatLine } = await import('../../src/workshop/steps.js');
    console.log(`${report.steps.map(formatLine).join('\n')}\n${Math.round(report.seconds)} s`);
    const failed = report.steps.filter((s) => !s.ok);
    assert.deepEqual(
      failed.map((s) => `${s.id} ${s.command}: ${s.measured} (expected ${s.expected})`),
      [],
      err,
    );
    assert.equal(code, 0);
    assert.ok(report.steps.length >= 45, `${report.steps.length} steps`);
    assert.ok(
      report.steps.filter((s) => s.adjusted).every((s) => s.adjusted && s.adjusted.length > 10),
      'every adjusted step says why',
    );
  });
});

describe('npx dockercoins workshop, from the installed package (no clone)', { skip }, () => {
  it('the package installs from its tarball, and chapter 1 holds from it: the images built from the bundles it ships', { timeout: 900_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-npx-'));
    const run = (cmd: string, args: string[], cwd: string, timeoutMs: number) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
    try {
      // dist/ is built (npm run test:docker builds first); the tarball is what `npm publish` would upload.
      const pack = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], ROOT, 120_000);
      assert.equal(pack.code, 0, pack.out);
      const tarball = join(dir, pack.out.trim().split('\n').at(-1)!);
      writeFileSync(join(dir, 'package.json'), '{"name":"a-class","private":true}\n');
      const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev', tarball], dir, 300_000);
      assert.equal(install.code, 0, install.out);
      const installed = join(dir, 'node_modules', 'dockercoins');
      assert.ok(
        !existsSync(join(installed, 'package-lock.json')) && !existsSync(join(installed, 'src', 'cli.ts')),
        'the package has no sources: it is not a clone',
      );
      const replay = await run('npx', ['--no-install', 'dockercoins', 'workshop', '--chapter', '1', '--json'], dir, 800_000);
      const report = JSON.parse(replay.out.slice(replay.out.indexOf('{'))) as { ok: boolean; steps: StepResult[] };
      const { formatLine } = await import('../../src/workshop/steps.js');
      console.log(report.steps.map(formatLine).join('\n'));
      assert.deepEqual(
        report.steps.filter((s) => !s.ok).map((s) => `${s.id} ${s.command}: ${s.measured} (expected ${s.expected})`),
        [],
      );
      assert.equal(replay.code, 0);
      assert.ok(report.steps.length >= 10, `${report.steps.length} steps`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the workshop replay fails when a slide does not hold', { skip }, () => {
  /** Chapter 1's two httping steps, verbatim, against `dockercoins up` with ten workers on ports 8001/8002. */
  async function httpingSteps(env: Record<string, string>): Promise<StepResult[]> {
    const ch1 = loadChapters(workshopDir()).find((c) => c.chapter === 1);
    assert.ok(ch1);
    const pid = join(mkdtempSync(join(tmpdir(), 'dc-workshop-')), 'up.pid');
    const chapter: Chapter = {
      ...ch1,
      steps: [
        {
          slide: 'ten workers',
          run: `node dist/cli.js up --scale worker=10 >/dev/null 2>&1 & echo $! > ${pid}; sleep 4`,
          expect: 'running',
          setup: true,
        },
        ...ch1.steps.filter((s) => s.run.startsWith('httping')),
      ],
      cleanup: [`kill $(cat ${pid})`],
    };
    const replay = new Replay(ROOT, console.log, { ...process.env, RNG_PORT: '8001', HASHER_PORT: '8002', WEBUI_PORT: '0', ...env });
    await replay.chapter(chapter);
    return replay.results;
  }

  it('with the slides’ rng (its / waits in the queue) the httping steps hold', async () => {
    const r = await httpingSteps({});
    assert.deepEqual(
      r.map((s) => s.ok),
      [true, true, true],
    );
  });

  it('with rng’s / immediate again (RNG_CONCURRENCY=0), the httping step turns ✗', async () => {
    const r = await httpingSteps({ RNG_CONCURRENCY: '0' });
    // rng no slower than hasher: the ≥ 20× ratio fails (and the ≥ 300 ms bound too, unless the machine is that slow).
    console.log(`rng / immediate: ${r[1]?.measured}; ${r[2]?.measured}`);
    assert.equal(r[2]?.ok, false, `rng/hasher: ${r[2]?.measured}`);
  });
});
