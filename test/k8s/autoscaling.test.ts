// The autoscaling component's pods on the pod runner (test/k8s/pod-runner.ts: the rendered objects run on the Docker
// engine as a kubelet runs pods; not a cluster — no HPA, no adapter, no Prometheus): kubectl kustomize of the base
// with components/autoscaling; every pod ready, httplat serves the histogram of http://rng/ (rng's `/`, which waits
// in rng's queue) on :9080/metrics, and with 10 workers its latency is far above the HPA's 0.1 s target.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { finish, runner, skip, stopAll, sweepDeadRuns } from './harness.js';
import { parseObjects, ROOT, tool } from './render.js';

function kustomizeWithAutoscaling() {
  const tmp = mkdtempSync(join(tmpdir(), 'dc-k8s-autoscaling-'));
  const rel = (p: string) => relative(tmp, join(ROOT, p));
  writeFileSync(
    join(tmp, 'kustomization.yaml'),
    `resources: [${rel('deploy/kubernetes')}]\ncomponents: [${rel('deploy/kubernetes/components/autoscaling')}]\n`,
  );
  return parseObjects(execFileSync(tool('kubectl'), ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', tmp], { encoding: 'utf8', timeout: 120_000 }));
}

const histogram = (text: string) => ({
  count: Number(/^httplat_latency_seconds_count (\S+)/m.exec(text)?.[1] ?? 0),
  sum: Number(/^httplat_latency_seconds_sum (\S+)/m.exec(text)?.[1] ?? 0),
});

describe('the autoscaling component on the pod runner (no HPA runs: the exporter the HPA would read)', { skip }, () => {
  before(sweepDeadRuns);
  after(stopAll);

  it('httplat starts beside the base, probes http://rng/ and serves its latency; 10 workers push it far over 0.1 s', async () => {
    const objects = kustomizeWithAutoscaling();
    const worker = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'worker')!;
    (worker.spec as { replicas: number }).replicas = 10;
    const r = runner(objects);
    await r.start();
    await r.waitReady(240_000);
    const pod = r.podsOf('httplat')[0]!;
    const metrics = `http://${pod.ip}:9080/metrics`;
    const read = async () => histogram(await (await fetch(metrics, { signal: AbortSignal.timeout(5000) })).text());
    const a = await read();
    await new Promise((res) => setTimeout(res, 20_000));
    const b = await read();
    const mean = (b.sum - a.sum) / (b.count - a.count);
    console.log(`httplat pod: ${b.count - a.count} probes in 20 s, mean latency of http://rng/ ${mean.toFixed(3)} s with 10 workers on one rng`);
    assert.ok(b.count - a.count >= 5, `probes counted: ${b.count - a.count}`);
    assert.ok(mean > 0.2, `rng's / waits in its queue behind 10 workers: ${mean} s (the HPA's target: 0.1 s)`);
    await finish(r, 'kubectl kustomize deploy/kubernetes + components/autoscaling');
  });
});
