// NetworkPolicy reachability of every variant we ship, rendered by the real tools (helm template, kubectl kustomize)
// and evaluated with the NetworkPolicy rules (test/k8s/network-policy.ts; the pod runner does not enforce them):
// the flows the docs promise must pass, the others must not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowed, fromObjects, type PodRef } from './network-policy.js';
import type { K8sObject } from './pod-runner.js';
import { helmTemplate, kustomize, ROOT } from './render.js';

const TENANT = `${ROOT}deploy/helm/dockercoins/values-tenant-example.yaml`;
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

  it('helm template: a tenant in the same namespace sharing the first release’s Redis (values-tenant-example.yaml)', () => {
    const objects = [...helmTemplate('dockercoins'), ...helmTemplate('acme', '-f', TENANT)];
    check(
      'default + tenant acme',
      objects,
      [
        ...DATA_PATH,
        ['acme-worker', 'acme-rng', 80],
        ['acme-worker', 'acme-hasher', 80],
        ['acme-worker', 'redis', 6379],
        ['acme-webui', 'redis', 6379],
        ['acme-dockercoins-doctor', 'redis', 6379],
        ['acme-dockercoins-doctor', 'acme-rng', 80],
      ],
      [...LOCKED, ['acme-worker', 'rng', 80], ['worker', 'acme-rng', 80], ['acme-rng', 'redis', 6379], ['dockercoins-doctor', 'acme-hasher', 80]],
    );
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
