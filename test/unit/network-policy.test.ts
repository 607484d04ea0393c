// The NetworkPolicy evaluator (test/k8s/network-policy.ts) against the rules of the Kubernetes API reference:
// isolation per direction, peers (podSelector in the policy's namespace, namespaceSelector, both = AND, a list = OR),
// ports (number, named, endPort, protocol), policyTypes defaulting, egress and ingress both needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowed, matches, type PodRef, type Policy } from '../k8s/network-policy.js';

const pod = (name: string, labels: Record<string, string>, namespace = 'default', ports: Record<string, number> = {}): PodRef => ({
  name,
  namespace,
  labels,
  ports,
});
const worker = pod('worker', { app: 'worker' });
const webui = pod('webui', { app: 'webui' });
const rng = pod('rng', { app: 'rng', tier: 'back' }, 'default', { http: 80 });
const prometheus = pod('prometheus', { app: 'prometheus' }, 'monitoring');
const stranger = pod('stranger', { app: 'worker' }, 'elsewhere');
const policy = (name: string, spec: Policy['spec'], namespace = 'default'): Policy => ({ name, namespace, spec });

describe('NetworkPolicy evaluator', () => {
  it('label selectors: matchLabels and every matchExpressions operator; {} selects all', () => {
    assert.ok(matches({}, { a: '1' }));
    assert.ok(matches({ matchLabels: { a: '1' } }, { a: '1', b: '2' }));
    assert.ok(!matches({ matchLabels: { a: '1' } }, { a: '2' }));
    assert.ok(matches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }));
    assert.ok(!matches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, {}));
    assert.ok(matches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}));
    assert.ok(!matches({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, {}));
    assert.ok(matches({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { b: '' }));
  });

  it('no policy selecting a pod: everything allowed; deny-all ingress: nothing', () => {
    assert.ok(allowed([], webui, rng, 80).allowed);
    const deny = policy('deny', { podSelector: {}, policyTypes: ['Ingress'] });
    assert.ok(!allowed([deny], worker, rng, 80).allowed);
    assert.ok(allowed([deny], rng, prometheus, 9090).allowed, 'a policy of another namespace does not isolate');
  });

  it('a bare podSelector peer means pods of the policy namespace; namespaceSelector other namespaces; both together = AND', () => {
    const fromWorker = policy('w', {
      podSelector: { matchLabels: { app: 'rng' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'worker' } } }] }],
    });
    assert.ok(allowed([fromWorker], worker, rng, 80).allowed);
    assert.ok(!allowed([fromWorker], stranger, rng, 80).allowed, 'same labels, another namespace');
    assert.ok(!allowed([fromWorker], webui, rng, 80).allowed);
    const fromMonitoring = policy('m', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] }],
    });
    assert.ok(allowed([fromMonitoring], prometheus, rng, 80).allowed);
    const and = policy('and', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'prometheus' } } }] }],
    });
    assert.ok(allowed([and], prometheus, rng, 80).allowed);
    assert.ok(!allowed([and], stranger, rng, 80).allowed);
    const or = policy('or', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }, { podSelector: { matchLabels: { app: 'prometheus' } } }] }] });
    assert.ok(allowed([or], stranger, rng, 80).allowed, 'a list of peers is OR');
    assert.ok(!allowed([policy('ip', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })], worker, rng, 80).allowed);
  });

  it('ports: numbers, named ports of the destination, ranges, protocol; no ports = all; rules of all policies add up', () => {
    const on = (ports: Policy['spec']['ingress']) => [policy('p', { podSelector: { matchLabels: { app: 'rng' } }, ingress: ports })];
    assert.ok(allowed(on([{ ports: [{ port: 80 }] }]), worker, rng, 80).allowed);
    assert.ok(!allowed(on([{ ports: [{ port: 80 }] }]), worker, rng, 9100).allowed);
    assert.ok(allowed(on([{ ports: [{ port: 'http' }] }]), worker, rng, 80).allowed, 'named port');
    assert.ok(!allowed(on([{ ports: [{ port: 'metrics' }] }]), worker, rng, 80).allowed, 'a name the pod lacks');
    assert.ok(allowed(on([{ ports: [{ port: 8000, endPort: 9000 }] }]), worker, rng, 8500).allowed);
    assert.ok(!allowed(on([{ ports: [{ port: 80, protocol: 'UDP' }] }]), worker, rng, 80).allowed);
    assert.ok(allowed(on([{}]), worker, rng, 12345).allowed);
    assert.ok(!allowed(on([]), worker, rng, 80).allowed, 'selected with no rule: isolated');
    const two = [
      policy('a', { podSelector: { matchLabels: { app: 'rng' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'worker' } } }] }] }),
      policy('b', { podSelector: { matchLabels: { tier: 'back' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'webui' } } }] }] }),
    ];
    assert.ok(allowed(two, worker, rng, 80).allowed && allowed(two, webui, rng, 80).allowed, 'policies are additive');
  });

  it('egress: isolated when a policy of the source selects it for Egress (implied by egress rules); both sides must allow', () => {
    const egress = policy('e', {
      podSelector: { matchLabels: { app: 'worker' } },
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'rng' } } }], ports: [{ port: 80 }] }],
    });
    assert.ok(allowed([egress], worker, rng, 80).allowed);
    assert.ok(!allowed([egress], worker, webui, 80).allowed);
    assert.match(allowed([egress], worker, webui, 80).why, /egress of worker/);
    assert.ok(allowed([egress], webui, rng, 80).allowed, 'egress policies isolate only the pods they select');
    const ingressOnly = policy('i', { podSelector: {}, policyTypes: ['Ingress'], egress: [{ to: [] }] });
    assert.ok(allowed([ingressOnly, egress], worker, rng, 80).allowed === false, 'ingress: the deny-all still refuses');
    const denyEgress = policy('de', { podSelector: {}, policyTypes: ['Egress'] });
    assert.ok(!allowed([denyEgress], worker, rng, 80).allowed);
  });
});
