// Load shapes and the lab's autoscaler on a real `dockercoins up` (processes, real HTTP): `dockercoins load --print`
// twice gives the same schedule; `dockercoins load --lab` drives the workers and annotates the chart; and end to end,
// a step from 1 to 10 workers with the HPA (target 0.1 s, the slide's windows, time ×10) ends with enough rng for the
// plateau to lift — every decision logged with its reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabState, Snapshot } from '../../src/telemetry.js';
import { json } from '../helpers/net.js';
import { Proc, startUp, stopAll } from '../helpers/proc.js';

const post = async (url: string, body: unknown, method = 'POST') => {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
};

describe('load shapes and the autoscaler on dockercoins up', () => {
  const procs: Proc[] = [];
  let webui = '';
  let rng = '';
  before(async () => {
    const up = await startUp([]);
    procs.push(up.p);
    webui = up.webui;
    rng = up.rng;
  });

  /** Does rng's `/` wait its turn in the queue (the contract), or answer at once (before that change landed)? */
  async function rootQueues(): Promise<boolean> {
    await (await fetch(`${rng}/`)).text(); // a warm connection: the first request pays for it
    const busy = Array.from({ length: 10 }, () => fetch(`${rng}/32`).then((r) => r.arrayBuffer()));
    await sleep(20);
    const t0 = performance.now();
    await (await fetch(`${rng}/`)).text();
    const ms = performance.now() - t0;
    await Promise.all(busy);
    await sleep(1000);
    return ms > 500; // behind ~10 requests of 100 ms each, or at once
  }
  after(async () => stopAll(procs));

  it('`load --print`: the same schedule twice, to the second; nothing is touched', async () => {
    const print = async () => {
      const p = new Proc(['load', '--shape', 'spike', '--seed', '42', '--min', '1', '--max', '20', '--print']);
      assert.equal(await p.exited, 0, p.output);
      return p.output;
    };
    const [a, b] = [await print(), await print()];
    console.log(`spike seed 42, printed twice:\n${a}`);
    assert.equal(a, b);
    assert.match(a, /^0 1\n(\d+ \d+\n){6}$/);
    assert.equal((await json<LabState>(`${webui}/api/lab`)).scale.worker, 1);
  });

  it('`load --lab URL`: each change applied through the lab API and marked on the chart; bad options exit 2', async () => {
    const p = new Proc(['load', '--shape', 'ramp', '--min', '1', '--max', '3', '--period', '4s', '--lab', webui]);
    assert.equal(await p.exited, 0, p.output);
    const state = await json<LabState>(`${webui}/api/lab`);
    assert.equal(state.scale.worker, 3);
    const notes = state.automation!.annotations.filter((a) => a.by === 'dockercoins load').map((a) => a.text);
    assert.deepEqual(notes, ['load ramp: workers 1 at 0 s', 'load ramp: workers 1 → 2 at 2 s', 'load ramp: workers 2 → 3 at 4 s']);
    const bad = new Proc(['load', '--shape', 'ramp', '--max', '0', '--lab', webui]);
    assert.equal(await bad.exited, 2);
    assert.match(bad.output, /--max \(0\) is below --min \(1\)/);
    assert.equal((await post(`${webui}/api/lab`, { worker: 1 })).status, 200);
  });

  it('the lab API refuses bad shapes and autoscaler settings with 400 naming the field', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['load', { shape: 'square' }, /shape: expected one of step, ramp, sine, spike/],
      ['load', { shape: 'step', min: 5, max: 2 }, /max \(2\) is below --min \(5\)|max \(2\) is below/],
      ['load', { shape: 'step', period: 'soon' }, /period: /],
      ['load', { shape: 'step', colour: 'red' }, /colour: unknown field/],
      ['autoscale', { target: 0 }, /target: expected seconds above 0/],
      ['autoscale', { maxReplicas: 30 }, /maxReplicas: expected a whole number from 1 to 20/],
      ['autoscale', { behavior: 'fast' }, /behavior: expected "slide"/],
      ['autoscale', { path: '/../etc' }, /path: expected "\/" or "\/<n>"/],
    ];
    for (const [route, body, message] of cases) {
      const res = await post(`${webui}/api/lab/${route}`, body);
      assert.equal(res.status, 400, `${route} ${JSON.stringify(body)}: ${res.text}`);
      assert.match(res.text, message);
    }
  });

  it('end to end: a step from 1 to 10 workers, the HPA on rng latency (target 0.1 s) lifts the plateau within its windows', async () => {
    // Time ×10: the slide's 60 s / 180 s windows become 6 s / 18 s, the 15 s sync 1.5 s, the 2 m metric window 12 s.
    // The slide's metric: rng's `/` (its wait in the queue), target 0.1 s. Where `/` does not queue yet, /1 stands in:
    // the same wait plus rng's own 100 ms, so its target is 0.2 s (the same 0.1 s of waiting).
    const speed = 10;
    const [path, target] = (await rootQueues()) ? ['/', 0.1] : ['/1', 0.2];
    console.log(`probing ${path} with target ${target} s`);
    assert.equal((await post(`${webui}/api/lab/autoscale`, { target, speed, path })).status, 200);
    const started = Date.now();
    assert.equal((await post(`${webui}/api/lab/load`, { shape: 'step', min: 1, max: 10, speed })).status, 200);
    const stepAt = started + 30_000;
    const seen: { t: number; rng: number }[] = [];
    let state = await json<LabState>(`${webui}/api/lab`);
    while (state.automation!.load!.running && Date.now() - started < 90_000) {
      await sleep(500);
      state = await json<LabState>(`${webui}/api/lab`);
      if (seen.at(-1)?.rng !== state.scale.rng) seen.push({ t: (Date.now() - started) / 1000, rng: state.scale.rng });
    }
    // The last level (10 workers) holds; let the speed's window fill with it.
    await sleep(8000);
    state = await json<LabState>(`${webui}/api/lab`);
    const snapshot = await json<Snapshot>(`${webui}/api/snapshot`);
    const decisions = state.automation!.autoscale!.decisions.filter((d) => d.desired !== d.current || d.limitedBy.length > 0);
    console.log(`rng over time (s since the load started): ${seen.map((s) => `${s.t.toFixed(1)}→${s.rng}`).join(', ')}`);
    for (const d of decisions)
      console.log(`  ${((d.at * 1000 - started) / 1000).toFixed(1)} s: ${(d.metric * 1000).toFixed(0)} ms, ${d.current} → ${d.desired}: ${d.reason}`);
    console.log(`after the step: ${state.scale.worker} workers, ${state.scale.rng} rng, ${snapshot.speed?.toFixed(2)} hashes/s`);
    assert.equal(state.scale.worker, 10);
    assert.ok(state.scale.rng >= 3, `enough rng for the plateau to lift: ${state.scale.rng}`);
    assert.ok(snapshot.speed !== null && snapshot.speed > 13, `the plateau (10 hashes/s on one rng) lifted: ${snapshot.speed}`);
    const lifted = seen.find((s) => s.rng >= 3);
    assert.ok(lifted && lifted.t * 1000 + started > stepAt, 'rng grew past 2 only after the step');
    // Within the windows' time: the metric window (12 s) to see the queue, the up window (6 s), a few syncs (1.5 s).
    assert.ok(lifted.t - 30 <= 30, `rng ≥ 3 ${(lifted.t - 30).toFixed(1)} s after the step`);
    assert.ok(
      state.automation!.annotations.some((a) => a.by === 'autoscaler' && /rng \d+ → \d+/.test(a.text)),
      'every autoscaler change is an annotation',
    );
    assert.equal((await post(`${webui}/api/lab/autoscale`, {}, 'DELETE')).status, 200);
  });
});
