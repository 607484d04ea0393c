// The lab's API on the webui (inject, a recording control): every accepted and refused case, the order of
// concurrent changes, who may post; the lessons' progress; the standalone webui's 404 and watch-only lab.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memoryLedger } from '../../src/ledger/memory.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { LAB_LIMITS, type LabChange, type LabState, type Snapshot } from '../../src/telemetry.js';
import { createWebui } from '../../src/webui/app.js';
import { type LabControl, LabInputError, parseLabChange, watchOnly } from '../../src/webui/lab.js';
import { LESSONS, LessonTracker } from '../../src/webui/lessons.js';
import { serviceBase, testConfig } from '../helpers/quiet.js';

/** Applies changes to plain numbers, slowly when asked, and records the order. */
class RecordingLab implements LabControl {
  readonly controllable = true;
  readonly applied: LabChange[] = [];
  scale = { worker: 1, rng: 1, hasher: 1 };
  settings = { rngConcurrency: 1, rngDelayMs: 100, hasherDelayMs: 100, workerDelayMs: 100 };
  current() {
    return { scale: { ...this.scale }, settings: { ...this.settings }, faults: null };
  }
  async apply(change: LabChange) {
    if (change.worker === 7) await new Promise((r) => setTimeout(r, 100));
    this.applied.push(change);
    const { worker, rng, hasher, faults: _, ...settings } = change;
    Object.assign(this.scale, Object.fromEntries(Object.entries({ worker, rng, hasher }).filter(([, v]) => v !== undefined)));
    Object.assign(this.settings, settings);
  }
}

async function webui(lab: LabControl | undefined, env: Record<string, string> = {}): Promise<HttpService> {
  const config = testConfig(env);
  return createWebui(serviceBase(config, 'webui'), { ledger: memoryLedger(), lab, adminToken: config.server.adminToken, staticDir: '/nonexistent' });
}

const post = (svc: HttpService, payload: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  svc.app.inject({ method: 'POST', url: '/api/lab', payload, headers: { 'content-type': 'application/json', ...headers }, remoteAddress });

describe('lab API', () => {
  const lab = new RecordingLab();
  let svc: HttpService;
  before(async () => {
    svc = await webui(lab);
  });
  after(() => svc.close(0, 500));

  it('GET /api/lab: scale, limits, settings and the lessons', async () => {
    const res = await svc.app.inject('/api/lab');
    assert.equal(res.statusCode, 200);
    const s = res.json() as LabState;
    assert.deepEqual(s.scale, { worker: 1, rng: 1, hasher: 1 });
    assert.deepEqual(s.limits.worker, { min: 0, max: 200 });
    assert.deepEqual(s.limits.rng, { min: 1, max: 20 });
    assert.equal(s.settings?.rngConcurrency, 1);
    assert.equal(s.controllable, true);
    assert.deepEqual(
      s.lessons.map((l) => l.id),
      LESSONS.map((l) => l.id),
    );
  });

  it('POST applies a change and answers with the new state (any content type: curl -d sends a form type)', async () => {
    let res = await post(svc, '{"worker":10,"rng":3}');
    assert.equal(res.statusCode, 200);
    assert.deepEqual((res.json() as LabState).scale, { worker: 10, rng: 3, hasher: 1 });
    res = await post(svc, '{"rngConcurrency":0,"workerDelayMs":250}', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual((res.json() as LabState).settings, { rngConcurrency: 0, rngDelayMs: 100, hasherDelayMs: 100, workerDelayMs: 250 });
  });

  const refused: [string, RegExp][] = [
    ['{"worker":-1}', /^lab: worker: expected 0 to 200, got -1/],
    ['{"worker":201}', /^lab: worker: expected 0 to 200/],
    ['{"rng":0}', /^lab: rng: expected 1 to 20, got 0/],
    ['{"hasher":21}', /^lab: hasher: expected 1 to 20/],
    ['{"worker":2.5}', /^lab: worker: expected a whole number, got 2.5/],
    ['{"worker":"10"}', /^lab: worker: expected a whole number/],
    ['{"rngConcurrency":101}', /^lab: rngConcurrency: expected 0 to 100/],
    ['{"workerDelayMs":10001}', /^lab: workerDelayMs:/],
    ['{"workers":10}', /^lab: workers: unknown setting/],
    ['{"faults":{"redis":{}}}', /^lab: faults\.redis: unknown service/],
    ['{"faults":{"rng":{"errorRate":2}}}', /^lab: faults\.rng\.errorRate: expected a fraction/],
    ['{"faults":{"rng":{"unready":"yes"}}}', /^lab: faults\.rng\.unready: expected true or false/],
    ['{"faults":{"hasher":{"latencyMs":-5}}}', /^lab: faults\.hasher\.latencyMs:/],
    ['{"faults":{"hasher":{"slow":true}}}', /^lab: faults\.hasher\.slow: unknown fault/],
    ['[1,2]', /^lab: body: expected an object/],
    ['worker=10', /^lab: body: not JSON/],
    ['', /^lab: body: not JSON/],
  ];
  for (const [body, message] of refused) {
    it(`refuses ${JSON.stringify(body)} with 400 naming the field`, async () => {
      const before = lab.applied.length;
      const res = await post(svc, body);
      assert.equal(res.statusCode, 400);
      assert.match(res.body, message);
      assert.equal(lab.applied.length, before, 'nothing applied');
    });
  }

  it('applies concurrent posts one at a time, in the order they came', async () => {
    lab.applied.length = 0;
    const [a, b] = await Promise.all([post(svc, '{"worker":7}'), post(svc, '{"worker":3}')]);
    assert.equal(a.statusCode, 200);
    assert.equal(b.statusCode, 200);
    assert.deepEqual(
      lab.applied.map((c) => c.worker),
      [7, 3],
      'the slow first change finished before the second began',
    );
    assert.equal((b.json() as LabState).scale.worker, 3);
  });

  it('accepts loopback clients only (no token set); refuses other sites', async () => {
    let res = await post(svc, '{"worker":1}', {}, '10.1.2.3');
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /loopback.*ADMIN_TOKEN/);
    res = await post(svc, '{"worker":1}', {}, '::ffff:127.0.0.1');
    assert.equal(res.statusCode, 200);
    res = await post(svc, '{"worker":1}', { origin: 'http://evil.example' });
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /another site/);
    res = await post(svc, '{"worker":1}', { 'sec-fetch-site': 'cross-site' });
    assert.equal(res.statusCode, 403);
    res = await post(svc, '{"worker":1}', { origin: 'http://localhost:80', host: 'localhost:80', 'sec-fetch-site': 'same-origin' });
    assert.equal(res.statusCode, 200, "the dashboard's own calls");
  });
});

describe('lab API with ADMIN_TOKEN (or LAB_TOKEN)', () => {
  for (const variable of ['ADMIN_TOKEN', 'LAB_TOKEN']) {
    it(`${variable}: a bearer token is needed from anywhere, loopback included`, async () => {
      const svc = await webui(new RecordingLab(), { [variable]: 's3cret-token-42' });
      try {
        let res = await post(svc, '{"worker":2}');
        assert.equal(res.statusCode, 401);
        assert.match(res.body, /Bearer/);
        res = await post(svc, '{"worker":2}', { authorization: 'Bearer wrong-token-000' });
        assert.equal(res.statusCode, 401);
        assert.match(res.body, /wrong/);
        res = await post(svc, '{"worker":2}', { authorization: 'Bearer s3cret-token-42' }, '10.9.9.9');
        assert.equal(res.statusCode, 200, 'a remote client with the token');
        assert.equal((await svc.app.inject('/api/lab')).statusCode, 200, 'reading the lab needs no token');
      } finally {
        await svc.close(0, 500);
      }
    });
  }
});

describe('standalone webui', () => {
  it('has no lab: /api/lab is 404', async () => {
    const svc = await webui(undefined);
    try {
      assert.equal((await svc.app.inject('/api/lab')).statusCode, 404);
      assert.equal((await post(svc, '{"worker":1}')).statusCode, 404);
    } finally {
      await svc.close(0, 500);
    }
  });

  it('with LAB=on it watches: the scale it measures, the lessons, and 409 for changes it cannot make', async () => {
    const svc = await webui(watchOnly);
    try {
      const s = (await svc.app.inject('/api/lab')).json() as LabState;
      assert.equal(s.controllable, false);
      assert.equal(s.settings, null);
      const res = await post(svc, '{"worker":10}');
      assert.equal(res.statusCode, 409);
      assert.match(res.body, /kubectl scale deployment worker/);
    } finally {
      await svc.close(0, 500);
    }
  });
});

describe('lessons', () => {
  const snap = (speed: number, rngShare = 0.3): Snapshot =>
    ({ speed, workers: { count: 1, speed, measured: true, phases: { sleep: 0.3, rng: rngShare, hasher: 0.3, ledger: 0 }, list: [] } }) as unknown as Snapshot;
  const faithful = { rngConcurrency: 1, rngDelayMs: 100, hasherDelayMs: 100, workerDelayMs: 100 };

  it('a step turns done once its measurement has held for 5 s, and stays done', () => {
    const t = new LessonTracker();
    const one = { worker: 1, rng: 1, hasher: 1 };
    t.update(snap(3.3), one, faithful, 0);
    t.update(snap(3.3), one, faithful, 4000);
    assert.equal(t.view(4000)[0]!.done, false);
    assert.equal(t.view(4000)[0]!.holding, 4);
    t.update(snap(2.0), one, faithful, 4500);
    assert.equal(t.view(4500)[0]!.holding, 0, 'the hold starts over when the measurement leaves the band');
    t.update(snap(3.4), one, faithful, 5000);
    t.update(snap(3.4), one, faithful, 10_000);
    assert.equal(t.view()[0]!.done, true);
    t.update(snap(0), { worker: 0, rng: 1, hasher: 1 }, faithful, 11_000);
    assert.equal(t.view()[0]!.done, true, 'done stays done');
  });

  it('ten workers need the plateau and the rng verdict; the last step needs rng unlimited', () => {
    const t = new LessonTracker();
    const ten = { worker: 10, rng: 1, hasher: 1 };
    t.update(snap(9.9, 0.3), ten, faithful, 0);
    t.update(snap(9.9, 0.3), ten, faithful, 6000);
    assert.equal(t.view().find((l) => l.id === 'ten-workers')!.done, false, 'no rng verdict yet');
    t.update(snap(9.9, 0.7), ten, faithful, 7000);
    t.update(snap(9.9, 0.7), ten, faithful, 12_000);
    assert.equal(t.view().find((l) => l.id === 'ten-workers')!.done, true);
    t.update(snap(33), ten, { ...faithful, rngConcurrency: 0 }, 13_000);
    t.update(snap(33), ten, { ...faithful, rngConcurrency: 0 }, 18_000);
    assert.equal(t.view().find((l) => l.id === 'unlimited-rng')!.done, true);
    assert.match(t.view().find((l) => l.id === 'unlimited-rng')!.why!, /scale it out/);
  });
});

describe('parseLabChange', () => {
  it('keeps valid fields, with nested faults', () => {
    assert.deepEqual(parseLabChange({ worker: 0, rng: 20, faults: { hasher: { latencyMs: 500, unready: false }, rng: { errorRate: 0.25 } } }), {
      worker: 0,
      rng: 20,
      faults: { hasher: { latencyMs: 500, unready: false }, rng: { errorRate: 0.25 } },
    });
    assert.ok(Object.keys(LAB_LIMITS).every((k) => parseLabChange({ [k]: LAB_LIMITS[k as keyof typeof LAB_LIMITS].min })));
    assert.throws(() => parseLabChange(null), LabInputError);
  });
});
