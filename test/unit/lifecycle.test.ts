// The supervisor: start in the order added, stop by stage in reverse (in parallel within a stage), one deadline
// passed down (a component that hangs is cut there, the later stages still stop), components added and removed
// while running; the Deadline itself; and the all-in-one's typed settings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deadline } from '../../src/platform/deadline.js';
import { type Component, Supervisor } from '../../src/platform/lifecycle.js';
import { parseUpArgs, upConfig } from '../../src/system/up.js';
import { isWorkerStats, LAB_LIMITS } from '../../src/telemetry.js';
import { stats } from '../helpers/ledger-suite.js';
import { silentLogger, testConfig } from '../helpers/quiet.js';

function recorder() {
  const events: string[] = [];
  const make = (name: string, stopMs = 0): Component & { deadline?: Deadline } => {
    const c: Component & { deadline?: Deadline } = {
      name,
      async start() {
        events.push(`start ${name}`);
      },
      async stop(deadline) {
        c.deadline = deadline;
        events.push(`stopping ${name}`);
        await new Promise((r) => setTimeout(r, stopMs));
        events.push(`stopped ${name}`);
      },
    };
    return c;
  };
  return { events, make };
}

describe('supervisor', () => {
  it('starts in the order added and stops the later stages first, each stage in parallel', async () => {
    const { events, make } = recorder();
    const s = new Supervisor(silentLogger());
    await s.add('ledger', make('ledger'));
    await s.add('rng', make('rng.1', 20));
    await s.add('rng', make('rng.2', 5));
    await s.add('webui', make('webui'));
    await s.add('workers', make('workers', 10));
    assert.deepEqual(events, ['start ledger', 'start rng.1', 'start rng.2', 'start webui', 'start workers']);
    events.length = 0;
    assert.deepEqual(await s.stop(Deadline.in(5000)), [], 'nothing cut');
    assert.deepEqual(events, [
      'stopping workers',
      'stopped workers',
      'stopping webui',
      'stopped webui',
      'stopping rng.1',
      'stopping rng.2',
      'stopped rng.2',
      'stopped rng.1',
      'stopping ledger',
      'stopped ledger',
    ]);
  });

  it('adds and removes components while running; every component is given the one deadline', async () => {
    const { events, make } = recorder();
    const s = new Supervisor(silentLogger());
    const ledger = make('ledger');
    await s.add('ledger', ledger);
    await s.add('rng', make('rng.1'));
    await s.add('rng', make('rng.2'));
    await assert.rejects(s.add('rng', make('rng.2')), /running already/);
    await s.remove('rng.2', Deadline.in(5000));
    assert.deepEqual(s.names, ['ledger', 'rng.1']);
    assert.ok(events.includes('stopped rng.2'));
    const workers = make('workers', 100);
    await s.add('workers', workers);
    const deadline = Deadline.in(5000);
    await s.stop(deadline);
    assert.equal(ledger.deadline, deadline, 'the ledger is given the same deadline, not a budget of its own');
    assert.equal(workers.deadline, deadline);
    await assert.rejects(s.add('rng', make('rng.3')), /stopping/);
  });

  it('a component that fails to stop does not keep the others from stopping', async () => {
    const { events, make } = recorder();
    const s = new Supervisor(silentLogger());
    await s.add('ledger', make('ledger'));
    await s.add('workers', { name: 'bad', start: async () => undefined, stop: async () => Promise.reject(new Error('boom')) });
    await s.stop(Deadline.in(5000));
    assert.ok(events.includes('stopped ledger'));
  });

  it('cuts a component that hangs at the deadline, then still stops the later stages in order', async () => {
    const { events, make } = recorder();
    const s = new Supervisor(silentLogger());
    const ledger = make('ledger');
    await s.add('ledger', ledger);
    await s.add('rng', make('rng'));
    const hang: Component = {
      name: 'workers',
      start: async () => undefined,
      stop: () => {
        events.push('stopping workers');
        return new Promise<void>(() => undefined);
      },
    };
    await s.add('workers', hang);
    events.length = 0;
    const deadline = Deadline.in(200);
    const cut = await s.stop(deadline);
    assert.ok(Date.now() >= deadline.at, 'cut at the deadline, not before');
    assert.ok(deadline.passed);
    // Past the deadline the later stages are still asked to stop, in order, but not waited for: cut too.
    assert.deepEqual(cut, ['workers', 'rng', 'ledger']);
    assert.deepEqual(events.slice(0, 3), ['stopping workers', 'stopping rng', 'stopping ledger']);
    assert.equal(ledger.deadline, deadline);
  });

  it('a stop that resolves in time is not cut, even with the deadline near', async () => {
    const { make } = recorder();
    const s = new Supervisor(silentLogger());
    await s.add('workers', make('workers', 10));
    assert.deepEqual(await s.stop(Deadline.in(2000)), []);
  });
});

describe('deadline', () => {
  it('counts down from an absolute time, aborts its signal when it passes, and cuts work there', async () => {
    const d = Deadline.in(150);
    assert.ok(d.remaining() > 0 && d.remaining() <= 150);
    assert.equal(d.passed, false);
    assert.equal(await d.within(Promise.resolve()), true, 'settled work is in time');
    assert.equal(await d.within(Promise.reject(new Error('x'))), true, 'a rejection settles too');
    assert.equal(await d.within(undefined), true);
    const aborted = new Promise((r) => d.signal.addEventListener('abort', r));
    assert.equal(await d.within(new Promise(() => undefined)), false, 'work that never settles is cut');
    await aborted;
    assert.ok(Date.now() >= d.at);
    assert.equal(d.remaining(), 0);
    assert.equal(d.passed, true);
    assert.equal(await d.within(new Promise(() => undefined)), false, 'past the deadline: cut at once');
    assert.equal(new Deadline(Date.now() - 1).signal.aborted, true, 'a deadline already passed is aborted from the start');
  });
});

describe('dockercoins up settings', () => {
  it('--turbo zeroes the delays and lifts rng limit as typed settings; DRAIN_MS is 0 unless set', () => {
    const base = testConfig({ RNG_DELAY_MS: '250' });
    const faithful = upConfig(base, parseUpArgs([]));
    assert.equal(faithful.rng.delayMs, 250);
    assert.equal(faithful.server.drainMs, 0);
    const turbo = upConfig(base, parseUpArgs(['--turbo', '--scale', 'worker=8', '--scale=rng=2', '--redis', 'redis://r:1']));
    assert.deepEqual([turbo.rng.delayMs, turbo.rng.concurrency, turbo.hasher.delayMs, turbo.worker.delayMs], [0, 0, 0, 0]);
    assert.equal(turbo.server.accessLog, false, 'no access log in turbo');
    assert.equal(faithful.server.accessLog, true);
    assert.equal(upConfig(testConfig({ ACCESS_LOG: 'on' }), parseUpArgs(['--turbo'])).server.accessLog, true, 'unless asked for');
    assert.equal(turbo.ledger.url, 'redis://r:1');
    assert.equal(upConfig(testConfig({ DRAIN_MS: '700' }), parseUpArgs([])).server.drainMs, 700);
    assert.deepEqual(parseUpArgs(['--scale', 'worker=8', '--scale=rng=2']).scale, { worker: 8, rng: 2, hasher: 1 });
    assert.throws(() => parseUpArgs(['--scale', 'rng=0']), /rng=0: expected 1 to 20/);
    // One limit for the number of workers: the lab's.
    assert.equal(parseUpArgs(['--scale', `worker=${LAB_LIMITS.worker.max}`]).scale.worker, LAB_LIMITS.worker.max);
    assert.throws(() => parseUpArgs(['--scale', 'worker=9999']), /worker=9999: expected 0 to 200/);
    assert.throws(() => parseUpArgs(['--bogus']), /unknown option/);
  });
});

describe('telemetry contract', () => {
  it('accepts what a worker publishes and nothing else', () => {
    const good = stats('w', 3);
    assert.ok(isWorkerStats(JSON.parse(JSON.stringify(good))));
    for (const bad of [
      null,
      3,
      [],
      { ...good, units: 'x' },
      { ...good, phaseMs: { sleep: 1 } },
      { ...good, replicas: [{ upstream: 'redis', replica: 'x', calls: 1, ms: 1 }] },
      { ...good, errors: { rng: 5 } },
    ]) {
      assert.equal(isWorkerStats(bad), false, JSON.stringify(bad));
    }
  });
});
