// The HPA algorithm against the Kubernetes documentation's worked examples (horizontal-pod-autoscale: algorithm
// details, tolerance, stabilization window, scaling policies) and the defaults of autoscaling/v2; every decision's
// reason names what held it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Behavior, Hpa, type HpaSpec, SLIDE_SPEC, V2_DEFAULT_BEHAVIOR } from '../../src/autoscale/hpa.js';

const noWindows: Behavior = {
  scaleUp: { ...V2_DEFAULT_BEHAVIOR.scaleUp, stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 10_000, periodSeconds: 15 }] },
  scaleDown: { ...V2_DEFAULT_BEHAVIOR.scaleDown, stabilizationWindowSeconds: 0 },
};
const spec = (over: Partial<HpaSpec> = {}): HpaSpec => ({ minReplicas: 1, maxReplicas: 100, target: 0.1, tolerance: 0.1, behavior: noWindows, ...over });

describe('the HPA algorithm', () => {
  it('desired = ceil(current × metric / target): 200m for a 100m target doubles, 50m halves', () => {
    assert.equal(new Hpa(spec({ target: 100 })).decide(0, 4, 200).desired, 8);
    assert.equal(new Hpa(spec({ target: 100 })).decide(0, 4, 50).desired, 2);
    const d = new Hpa(spec()).decide(0, 3, 0.25);
    assert.equal(d.proposed, 8); // ceil(3 × 2.5) = ceil(7.5)
    assert.equal(d.reason, 'ceil(3 × 2.50) = 8; 3 → 8');
  });

  it('the 10 % tolerance: a ratio within 0.9–1.1 changes nothing, just outside it does', () => {
    for (const metric of [0.091, 0.1, 0.109]) {
      const d = new Hpa(spec()).decide(0, 10, metric);
      assert.equal(d.withinTolerance, true, String(metric));
      assert.equal(d.desired, 10);
    }
    assert.equal(new Hpa(spec()).decide(0, 10, 0.111).desired, 12);
    assert.equal(new Hpa(spec()).decide(0, 10, 0.089).desired, 9);
    assert.match(new Hpa(spec()).decide(0, 10, 0.105).reason, /within the 10 % tolerance: no change proposed; stays at 10/);
  });

  it('min and max: the desired count is clamped, and a current count outside them is brought back first', () => {
    const capped = new Hpa(spec({ maxReplicas: 20 })).decide(0, 10, 1);
    assert.deepEqual([capped.proposed, capped.desired, capped.limitedBy], [100, 20, ['TooManyReplicas']]);
    const floored = new Hpa(spec({ minReplicas: 2 })).decide(0, 4, 0.001);
    assert.deepEqual([floored.desired, floored.limitedBy], [2, ['TooFewReplicas']]);
    assert.equal(new Hpa(spec({ maxReplicas: 5 })).decide(0, 8, 0.1).desired, 5);
  });

  it('scale-down policies, the documented example: Pods 4 and Percent 10 per 60 s take 80 replicas down 8, then 8 (7.2 rounded up), …, 4 at a time below 40', () => {
    const hpa = new Hpa(
      spec({
        behavior: {
          ...noWindows,
          scaleDown: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Max',
            policies: [
              { type: 'Pods', value: 4, periodSeconds: 60 },
              { type: 'Percent', value: 10, periodSeconds: 60 },
            ],
          },
        },
      }),
    );
    const seen = [80];
    // The metric asks for 10 replicas whatever the current count (ratio × current = 10).
    const tenPlease = (current: number) => (0.1 * 10) / current;
    for (let t = 0; seen.at(-1)! > 10 && t < 3600; t += 61) seen.push(hpa.decide(t, seen.at(-1)!, tenPlease(seen.at(-1)!)).desired);
    assert.deepEqual(seen.slice(0, 10), [80, 72, 64, 57, 51, 45, 40, 36, 32, 28]);
    assert.equal(seen.at(-1), 10);
    // Within one 60 s period, what was removed counts: from 80, a second decision 10 s later removes nothing more.
    const fresh = new Hpa(hpa.spec);
    assert.equal(fresh.decide(0, 80, tenPlease(80)).desired, 72);
    const again = fresh.decide(10, 72, tenPlease(72));
    assert.deepEqual([again.desired, again.limitedBy], [72, ['ScaleDownLimit']]);
  });

  it('autoscaling/v2 default scale-up: +4 pods or double per 15 s, whichever is more', () => {
    const hpa = new Hpa(spec({ behavior: V2_DEFAULT_BEHAVIOR, maxReplicas: 50 }));
    const first = hpa.decide(0, 1, 10);
    assert.deepEqual([first.proposed, first.desired, first.limitedBy], [100, 5, ['ScaleUpLimit']]);
    assert.match(first.reason, /limited to 5 by the scale-up policies; 1 → 5/);
    assert.equal(hpa.decide(10, 5, 10).desired, 5, 'the 4 added 10 s ago still count in the 15 s period');
    assert.equal(hpa.decide(16, 5, 10).desired, 10, 'a new period: double 5');
    assert.equal(hpa.decide(32, 10, 10).desired, 20);
  });

  it('a Percent 900 policy takes 1 replica to 10 in one period', () => {
    const behavior: Behavior = {
      ...noWindows,
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 900, periodSeconds: 60 }] },
    };
    assert.equal(new Hpa(spec({ behavior })).decide(0, 1, 100).desired, 10);
  });

  it('scale-down stabilization (v2 default 300 s): the highest recommendation of the window is kept', () => {
    const hpa = new Hpa(spec({ behavior: V2_DEFAULT_BEHAVIOR }));
    assert.equal(hpa.decide(0, 10, 0.1).desired, 10);
    const held = hpa.decide(15, 10, 0.02);
    assert.deepEqual([held.proposed, held.stabilized, held.desired, held.limitedBy], [2, 10, 10, ['ScaleDownStabilized']]);
    assert.match(held.reason, /held at 10 by the scale-down window \(highest recommendation of the last 300 s\); stays at 10/);
    assert.equal(hpa.decide(299, 10, 0.02).desired, 10);
    assert.equal(hpa.decide(301, 10, 0.02).desired, 2, 'the 10 of t=0 has left the window');
  });

  it("the slide's windows: 60 s up (lowest recent recommendation), 180 s down, 1–20 replicas", () => {
    const hpa = new Hpa(SLIDE_SPEC);
    assert.equal(hpa.decide(0, 1, 0.1).desired, 1);
    const early = hpa.decide(15, 1, 1);
    assert.deepEqual([early.proposed, early.desired, early.limitedBy], [10, 1, ['ScaleUpStabilized']]);
    assert.match(early.reason, /held at 1 by the scale-up window \(lowest recommendation of the last 60 s\)/);
    assert.equal(hpa.decide(45, 1, 1).desired, 1, 'the recommendation of 1 at t=0 is still in the window');
    const up = hpa.decide(61, 1, 1);
    assert.equal(up.stabilized, 10, 'lowest of the last 60 s: 10, 10, 10');
    assert.equal(up.desired, 5, 'then the default policies: max(1 + 4, 2 × 1)');
    assert.equal(hpa.decide(76, 5, 0.2).desired, 10);
    // Down: latency far under the target keeps the replicas for 180 s after the last high recommendation.
    assert.equal(hpa.decide(91, 10, 0.01).desired, 10);
    assert.equal(hpa.decide(250, 10, 0.01).desired, 10);
    assert.equal(hpa.decide(257, 10, 0.01).desired, 1, 'every recommendation of the last 180 s is 1');
  });

  it('selectPolicy Disabled: no scaling in that direction', () => {
    const behavior: Behavior = { ...noWindows, scaleDown: { ...noWindows.scaleDown, selectPolicy: 'Disabled' } };
    const d = new Hpa(spec({ behavior })).decide(0, 10, 0.01);
    assert.deepEqual([d.desired, d.limitedBy], [10, ['ScaleDownLimit']]);
  });
});
