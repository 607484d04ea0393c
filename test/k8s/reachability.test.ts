// NetworkPolicy reachability of every variant we ship, rendered by the real tools (helm template, kubectl kustomize)
// and evaluated with the NetworkPolicy rules (test/k8s/network-policy.ts; the pod runner does not enforce them):
// the flows the docs promise must pass, the others must not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowed, fromObjects, type PodRef, type Policy } from './network-policy.js';
import type { K8sObject } from './pod-runner.js';
import { helmTemplate, kustomize, ROOT } from './render.js';

const TENANT = `${ROOT}deploy/helm/dockercoins/values-tenant-example.yaml`;
const SHARED = `${ROOT}deploy/helm/dockercoins/values-shared-redis.yaml`;
// Pods that are not ours: Prometheus in `monitoring` (kube-prometheus-stack), a debug pod in the same namespace,
// a pod of another namespace wearing our labels.
const prometheus: PodRef = { name: 'prometheus', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
const intruder: PodRef = { name: 'intruder', namespace: 'default', labels: { run: 'debug' } };
const stranger: PodRef = { name: 'stranger', namespace: 'elsewhere', labels: { app: 'worker', 'app.kubernetes.io/instance': 'dockercoins' } };

type Flow = [from: string, to: string, port: number];

function check(title: string, objects: K8sObject[], pass: Flow[], refuse: Flow[], namespace = 'default'): void {
  const { policies, pods } = fromObjects(objects, namespace);
  assert.ok(policies.length > 0, `${title}: renders NetworkPolicies`);
  for (const p of [prometheus, intruder, stranger]) pods.set(p.name, p);
  const pod = (name: string) => pods.get(name) ?? assert.fail(`${title}: no pod ${name} (have ${[...pods.keys()].join(', ')})`);
  const failures: string[] = [];
  for (const [from, to, port] of pass) {
    const v = allowed(policies, pod(from), pod(to), port);
    if (!v.allowed) failures.push(`must pass: ${from} → ${to}:${port} (${v.why})`);
  }
  for (const [from, to, port] of refuse) {
    const v = allowed(policies, pod(from), pod(to), port);
    if (v.allowed) failures.push(`must not pass: ${from} → ${to}:${port} (${v.why})`);
  }
  assert.deepEqual(failures, [], `${title}:\n${failures.join('\n')}`);
}

const DATA_PATH: Flow[] = [
  ['worker', 'rng', 80],
  ['worker', 'hasher', 80],
  ['worker', 'redis', 6379],
  ['webui', 'redis', 6379],
  ['intruder', 'webui', 80],
  ['stranger', 'webui', 80],
];
const LOCKED: Flow[] = [
  ['webui', 'rng', 80],
  ['rng', 'redis', 6379],
  ['hasher', 'redis', 6379],
  ['intruder', 'redis', 6379],
  ['intruder', 'rng', 80],
  ['stranger', 'redis', 6379],
  ['stranger', 'hasher', 80],
  ['prometheus', 'redis', 6379],
];

describe('NetworkPolicy reachability of every variant', () => {
  it('kubectl kustomize deploy/kubernetes: only the data path', () => {
    check('base', kustomize('deploy/kubernetes'), DATA_PATH, [...LOCKED, ['prometheus', 'rng', 80]]);
  });

  it('the observability overlay with deploy/tracing: Prometheus scrapes everything, spans reach the collector, the collector Jaeger', () => {
    const objects = [...kustomize('deploy/overlays/observability'), ...kustomize('deploy/tracing')];
    const scrapes: Flow[] = [
      ['prometheus', 'rng', 80],
      ['prometheus', 'hasher', 80],
      ['prometheus', 'webui', 80],
      ['prometheus', 'worker', 9100],
    ];
    const spans: Flow[] = ['rng', 'hasher', 'worker', 'webui'].map((s) => [s, 'otel-collector', 4318]);
    check(
      'observability + tracing',
      objects,
      [...DATA_PATH, ...scrapes, ...spans, ['otel-collector', 'jaeger', 4317]],
      [...LOCKED, ['intruder', 'otel-collector', 4318], ['rng', 'jaeger', 4317], ['stranger', 'otel-collector', 4318]],
    );
  });

  it('helm template (defaults): the data path and the helm test doctor', () => {
    const doctor: Flow[] = [
      ['dockercoins-doctor', 'rng', 80],
      ['dockercoins-doctor', 'hasher', 80],
      ['dockercoins-doctor', 'redis', 6379],
      ['dockercoins-doctor', 'webui', 80],
    ];
    check('chart defaults', helmTemplate('dockercoins'), [...DATA_PATH, ...doctor], LOCKED);
  });

  it('helm template: two namespace tenants (values-tenant-example.yaml) on the shared Redis of namespace redis, Prometheus in monitoring', () => {
    // Each release is rendered into its namespace; pods are named namespace/name here.
    const releases: [string, K8sObject[]][] = [
      ['student-a', helmTemplate('student-a', '-n', 'student-a', '-f', TENANT)],
      ['student-b', helmTemplate('student-b', '-n', 'student-b', '-f', TENANT)],
      ['redis', helmTemplate('redis', '-n', 'redis', '-f', SHARED, '--set', 'redis.tenantNamespaces={student-a,student-b}')],
    ];
    const policies: Policy[] = [];
    const pods = new Map<string, PodRef>();
    for (const [ns, objects] of releases) {
      const r = fromObjects(objects, ns);
      policies.push(...r.policies);
      for (const p of r.pods.values()) pods.set(`${p.namespace}/${p.name}`, { ...p, name: `${p.namespace}/${p.name}` });
    }
    // The ACL Job of a tenant release sits in redis; what is not ours: DNS, Prometheus, a debug pod in a tenant's
    // namespace (`kubectl create deployment`), an ingress controller, a pod elsewhere wearing our labels.
    const ours = { 'app.kubernetes.io/part-of': 'dockercoins', 'app.kubernetes.io/name': 'worker', 'app.kubernetes.io/instance': 'student-a' };
    for (const p of [
      { name: 'kube-system/coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      { name: 'monitoring/prometheus', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } },
      { name: 'student-a/debug', namespace: 'student-a', labels: { app: 'debug' } },
      { name: 'ingress/controller', namespace: 'ingress', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
      { name: 'elsewhere/stranger', namespace: 'elsewhere', labels: { ...ours, app: 'worker' } },
    ] as PodRef[])
      pods.set(p.name, p);
    const job = releases[0]![1].find((o) => o.kind === 'Job')!;
    const jobLabels = (job.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    pods.set('redis/acl-job', { name: 'redis/acl-job', namespace: 'redis', labels: jobLabels });
    const pod = (n: string) => pods.get(n) ?? assert.fail(`no pod ${n} (have ${[...pods.keys()].join(', ')})`);
    const flows = (list: Flow[], want: boolean) =>
      list.flatMap(([from, to, port]) => {
        const v = allowed(policies, pod(from), pod(to), port);
        return v.allowed === want ? [] : [`${want ? 'must pass' : 'must not pass'}: ${from} → ${to}:${port} (${v.why})`];
      });
    const tenantFlows = (t: string): Flow[] => [
      [`${t}/worker`, `${t}/rng`, 80],
      [`${t}/worker`, `${t}/hasher`, 80],
      [`${t}/worker`, 'redis/redis', 6379],
      [`${t}/webui`, 'redis/redis', 6379],
      [`${t}/dockercoins-doctor`, 'redis/redis', 6379],
      [`${t}/dockercoins-doctor`, `${t}/rng`, 80],
      [`${t}/dockercoins-doctor`, `${t}/hasher`, 80],
      [`${t}/dockercoins-doctor`, `${t}/webui`, 80],
      [`${t}/worker`, 'kube-system/coredns', 53],
      [`${t}/rng`, 'kube-system/coredns', 53],
      ['monitoring/prometheus', `${t}/rng`, 80],
      ['monitoring/prometheus', `${t}/hasher`, 80],
      ['monitoring/prometheus', `${t}/webui`, 80],
      ['monitoring/prometheus', `${t}/worker`, 9100],
      ['ingress/controller', `${t}/webui`, 80],
    ];
    const across: Flow[] = [
      ['student-a/worker', 'student-b/rng', 80],
      ['student-a/worker', 'student-b/hasher', 80],
      ['student-a/worker', 'student-b/webui', 80],
      ['student-a/webui', 'student-b/worker', 9100],
      ['student-b/worker', 'student-a/rng', 80],
      ['student-b/dockercoins-doctor', 'student-a/webui', 80],
      ['student-b/webui', 'student-a/webui', 80],
    ];
    const locked: Flow[] = [
      ['student-a/webui', 'student-a/rng', 80],
      ['student-a/rng', 'redis/redis', 6379],
      ['student-a/hasher', 'student-a/rng', 80],
      ['student-a/debug', 'student-a/rng', 80],
      ['student-a/debug', 'redis/redis', 6379],
      ['student-a/debug', 'student-a/webui', 80],
      ['student-a/worker', 'monitoring/prometheus', 9090],
      ['monitoring/prometheus', 'redis/redis', 6379],
      ['elsewhere/stranger', 'redis/redis', 6379],
      ['student-a/worker', 'student-a/webui', 80],
    ];
    const failures = [
      ...flows(
        [...tenantFlows('student-a'), ...tenantFlows('student-b'), ['redis/acl-job', 'redis/redis', 6379], ['student-a/debug', 'kube-system/coredns', 53]],
        true,
      ),
      ...flows([...across, ...locked], false),
    ];
    assert.deepEqual(failures, [], failures.join('\n'));
    // Without redis.tenantNamespaces the shared Redis admits our clients from any namespace (their ACL user decides).
    const open = fromObjects(helmTemplate('redis', '-n', 'redis', '-f', SHARED), 'redis').policies;
    assert.equal(allowed(open, pod('elsewhere/stranger'), pod('redis/redis'), 6379).allowed, true);
  });

  it('helm template with the autoscaling lesson (httplat + the latency HPA): httplat reaches rng, Prometheus scrapes httplat — also in a tenant namespace', () => {
    const flows: Flow[] = [
      ['httplat', 'rng', 80],
      ['prometheus', 'httplat', 9080],
    ];
    const values = ['--set', 'httplat.enabled=true,hpa.rng.enabled=true,hpa.rng.metric=latency'];
    check('httplat', helmTemplate('dockercoins', ...values), [...DATA_PATH, ...flows], [...LOCKED, ['httplat', 'hasher', 80], ['intruder', 'httplat', 9080]]);
    const { policies, pods } = fromObjects(helmTemplate('s1', '-n', 's1', '-f', TENANT, ...values), 's1');
    const p = (n: string) => pods.get(n)!;
    for (const [from, to, port] of flows.map(([f, t, n]) => [f === 'prometheus' ? prometheus : p(f), p(t), n] as const))
      assert.ok(allowed(policies, from, to, port).allowed, `tenant: ${from.name} → ${to.name}:${port} ${allowed(policies, from, to, port).why}`);
    assert.equal(allowed(policies, p('httplat'), p('hasher'), 80).allowed, false, 'tenant: httplat → hasher refused');
  });

  it('helm template with serviceMonitor or the rng HPA: Prometheus scrapes rng and hasher on 80 and the worker on 9100', () => {
    const scrapes: Flow[] = [
      ['prometheus', 'rng', 80],
      ['prometheus', 'hasher', 80],
      ['prometheus', 'webui', 80],
      ['prometheus', 'worker', 9100],
    ];
    check('serviceMonitor', helmTemplate('dockercoins', '--set', 'serviceMonitor.enabled=true'), [...DATA_PATH, ...scrapes], LOCKED);
    check('rng HPA', helmTemplate('dockercoins', '--set', 'hpa.rng.enabled=true'), [...DATA_PATH, ...scrapes], LOCKED);
  });
});
