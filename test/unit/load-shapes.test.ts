// Load shapes: each shape's schedule exactly (to the second), the same seed → the same schedule and another seed →
// another spike schedule, --speed dividing every time, HPA-friendly defaults, durations, and every bad option refused
// (exit 2 through UsageError); the runner plays a schedule on a recording driver in order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLoadArgs } from '../../src/load/command.js';
import { type LoadDriver, LoadRun } from '../../src/load/runner.js';
import { parseDuration, printable, prng, schedule, workersAt } from '../../src/load/shapes.js';
import { UsageError } from '../../src/usage.js';
import { testConfig } from '../helpers/quiet.js';

const pairs = (shape: string, o = {}) => schedule(shape, o).changes.map((c) => [c.at, c.workers]);

describe('load shapes', () => {
  it('step: min, then the staircase to max, every level held 5 minutes by default', () => {
    assert.deepEqual(pairs('step', { min: 1, max: 10 }), [
      [0, 1],
      [300, 10],
    ]);
    assert.equal(schedule('step', { min: 1, max: 10 }).duration, 600);
    assert.deepEqual(pairs('step', { min: 1, max: 10, steps: 3 }), [
      [0, 1],
      [300, 4],
      [600, 7],
      [900, 10],
    ]);
    assert.deepEqual(pairs('step', { min: 2, max: 8, steps: 2, period: parseDuration('period', '9m') }), [
      [0, 2],
      [180, 5],
      [360, 8],
    ]);
  });

  it('ramp: one change per worker along a straight line over the period', () => {
    assert.deepEqual(pairs('ramp', { min: 1, max: 5, period: 400 }), [
      [0, 1],
      [100, 2],
      [200, 3],
      [300, 4],
      [400, 5],
    ]);
  });

  it('sine: min at 0, max at half the period, min again at the end; 10 minutes by default', () => {
    const s = schedule('sine', { min: 1, max: 20 });
    assert.equal(s.duration, 600);
    assert.deepEqual(s.changes[0], { at: 0, workers: 1 });
    assert.equal(workersAt(s, 300), 20);
    assert.equal(workersAt(s, 150), 10); // 1 + 19 × (1 − cos(π/2)) / 2 = 10.4999… in floating point → 10
    assert.equal(workersAt(s, 599), 1);
    const peak = s.changes.findIndex((c) => c.workers === 20);
    for (let i = 1; i < s.changes.length; i++) {
      const d = s.changes[i]!.workers - s.changes[i - 1]!.workers;
      assert.equal(Math.abs(d), 1, 'one worker at a time at 1 s sampling');
      assert.equal(Math.sign(d), i <= peak ? 1 : -1);
    }
    assert.equal(s.changes.length, 39); // 19 up, 19 down, and the start
  });

  it('spike: the same seed gives the same schedule to the second, another seed another one', () => {
    const a = printable(schedule('spike', { seed: 1 }));
    const b = printable(schedule('spike', { seed: 1 }));
    assert.equal(a, b);
    assert.notEqual(a, printable(schedule('spike', { seed: 2 })));
    const s = schedule('spike', { seed: 1, min: 1, max: 20 });
    assert.equal(s.changes.length, 7, 'the start and 3 spikes up and down');
    assert.equal(s.duration, 600);
    for (let i = 0; i < 3; i++) {
      const [up, down] = [s.changes[1 + 2 * i]!, s.changes[2 + 2 * i]!];
      assert.ok(up.at >= i * 200 + 20 && down.at <= (i + 1) * 200, `spike ${i} stays in its slot: ${up.at}–${down.at}`);
      assert.ok(down.at - up.at >= 40 && down.at - up.at <= 80, `spike ${i} lasts 20–40 % of 200 s: ${down.at - up.at}`);
      assert.ok(up.workers >= 11 && up.workers <= 20, `spike ${i} height ${up.workers}`);
      assert.equal(down.workers, 1);
    }
    // The PRNG itself is fixed: its first draws for seed 1 (mulberry32).
    const r = prng(1);
    assert.deepEqual(
      [r(), r()].map((x) => x.toFixed(6)),
      ['0.627074', '0.002736'],
    );
  });

  it('--speed divides every time, printed times included; changes merged within a second', () => {
    assert.deepEqual(pairs('step', { min: 1, max: 10, speed: 10 }), [
      [0, 1],
      [30, 10],
    ]);
    assert.equal(schedule('step', { min: 1, max: 10, speed: 10 }).duration, 60);
    const fast = schedule('ramp', { min: 1, max: 20, period: 10, speed: 4 });
    for (let i = 1; i < fast.changes.length; i++) assert.ok(fast.changes[i]!.at > fast.changes[i - 1]!.at);
    assert.equal(fast.changes.at(-1)!.workers, 20);
  });

  it('durations: 90s, 10m, 1h, 1500ms, bare seconds; anything else refused', () => {
    assert.deepEqual(
      ['90s', '10m', '1h', '1500ms', '45', '2.5m'].map((d) => parseDuration('period', d)),
      [90, 600, 3600, 1.5, 45, 150],
    );
    for (const bad of ['', '10 minutes', '-5s', 'm', '1d']) assert.throws(() => parseDuration('period', bad), /--period: expected a duration/);
  });

  it('the command line: defaults, the lab target by default, every bad option refused with a message naming it', () => {
    const config = testConfig({});
    const args = parseLoadArgs(['--shape', 'step', '--max', '10', '--print'], config);
    assert.equal(args.print, true);
    assert.deepEqual(args.target, { kind: 'lab', url: `http://127.0.0.1:${config.up.webuiPort}` });
    assert.equal(args.schedule.options.seed, 1);
    assert.deepEqual(parseLoadArgs(['--shape=sine', '--compose', 'dc'], config).target, { kind: 'compose', project: 'dc', files: [] });
    const bad: [string[], RegExp][] = [
      [[], /--shape is required/],
      [['--shape', 'square'], /--shape: expected one of step, ramp, sine, spike/],
      [['--shape', 'step', '--min', '5', '--max', '2'], /--max \(2\) is below --min \(5\)/],
      [['--shape', 'step', '--min', '-1'], /--min: expected a number/],
      [['--shape', 'step', '--steps', '0'], /--steps: expected a whole number from 1 to 100/],
      [['--shape', 'step', '--max', '2.5'], /--max: expected a whole number/],
      [['--shape', 'step', '--speed', '0'], /--speed: expected a factor above 0/],
      [['--shape', 'step', '--period', 'soon'], /--period: expected a duration/],
      [['--shape', 'step', '--period', '0s'], /--period: expected 1s to 24h/],
      [['--shape', 'step', '--lab', 'not a url'], /--lab: not a URL/],
      [['--shape', 'step', '--lab', 'http://x', '--kubectl', 'worker'], /one target at most/],
      [['--shape', 'step', '--seed'], /--seed needs a value/],
      [['--shape', 'step', '--wat'], /unknown option "--wat"/],
    ];
    for (const [argv, message] of bad)
      assert.throws(
        () => parseLoadArgs(argv, config),
        (e: Error) => e instanceof UsageError && message.test(e.message),
        argv.join(' '),
      );
  });
});

describe('the load runner', () => {
  it('plays every change in order with its note, then ends; stop() ends it early', async () => {
    const seen: string[] = [];
    const driver: LoadDriver = { target: 'a recorder', setWorkers: async (w, note) => void seen.push(`${w}: ${note}`) };
    // Started 10 minutes ago: every change is due at once, in order.
    const s = schedule('step', { min: 1, max: 4, steps: 3 });
    const run = new LoadRun(s, driver, Date.now() - s.duration * 1000);
    await run.done;
    assert.deepEqual(seen, [
      '1: load step: workers 1 at 0 s',
      '2: load step: workers 1 → 2 at 300 s',
      '3: load step: workers 2 → 3 at 600 s',
      '4: load step: workers 3 → 4 at 900 s',
    ]);
    seen.length = 0;
    const live = new LoadRun(s, driver);
    await new Promise((r) => setTimeout(r, 50));
    live.stop();
    await live.done;
    assert.deepEqual(seen, ['1: load step: workers 1 at 0 s']);
  });
});
