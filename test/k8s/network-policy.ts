// A pure evaluator of Kubernetes NetworkPolicies (networking.k8s.io/v1, as the API reference defines them): is a
// TCP flow from one pod to another's port allowed? A pod is isolated for ingress (egress) when a policy of its
// namespace selects it with that policy type; then a flow needs a rule of such a policy that matches the peer
// (podSelector / namespaceSelector / both, in the policy's namespace for a bare podSelector) and the port (number,
// named port, endPort). Both the source's egress and the destination's ingress must allow it. ipBlock peers match
// no pod here (pod IPs are not modelled).
import type { K8sObject } from './pod-runner.js';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}

interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

export interface Policy {
  name: string;
  namespace: string;
  spec: NetworkPolicySpec;
}

/** A pod as the policies see it: its namespace (with that namespace's labels), its labels, its named ports. */
export interface PodRef {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels?: Record<string, string>;
  ports?: Record<string, number>;
}

export interface Verdict {
  allowed: boolean;
  /** Which side refused (or "allowed by …"): for assertion messages. */
  why: string;
}

/** The Kubernetes label selector semantics; an empty selector selects everything. */
export function matches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(value!))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(value!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Namespace labels as the API server sets them: at least kubernetes.io/metadata.name. */
const nsLabels = (p: PodRef) => ({ 'kubernetes.io/metadata.name': p.namespace, ...(p.namespaceLabels ?? {}) });

function peerMatches(peer: Peer, policyNamespace: string, other: PodRef): boolean {
  if (peer.ipBlock) return false;
  if (peer.namespaceSelector) {
    if (!matches(peer.namespaceSelector, nsLabels(other))) return false;
    return matches(peer.podSelector, other.labels);
  }
  if (peer.podSelector) return other.namespace === policyNamespace && matches(peer.podSelector, other.labels);
  return false;
}

function portMatches(ports: PolicyPort[] | undefined, port: number, dest: PodRef): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== 'TCP') return false;
    if (p.port === undefined) return true;
    const n = typeof p.port === 'number' ? p.port : /^\d+$/.test(p.port) ? Number(p.port) : dest.ports?.[p.port];
    if (n === undefined) return false;
    return p.endPort !== undefined ? port >= n && port <= p.endPort : port === n;
  });
}

const types = (s: NetworkPolicySpec): string[] => s.policyTypes ?? (s.egress ? ['Ingress', 'Egress'] : ['Ingress']);

/** Is a TCP connection from `from` to `to`:`port` allowed by these policies? */
export function allowed(policies: Policy[], from: PodRef, to: PodRef, port: number): Verdict {
  const egress = policies.filter((p) => p.namespace === from.namespace && types(p.spec).includes('Egress') && matches(p.spec.podSelector, from.labels));
  if (egress.length > 0) {
    const by = egress.find((p) =>
      (p.spec.egress ?? []).some(
        (r) => (!r.to || r.to.length === 0 || r.to.some((peer) => peerMatches(peer, p.namespace, to))) && portMatches(r.ports, port, to),
      ),
    );
    if (!by) return { allowed: false, why: `egress of ${from.name} refused by ${egress.map((p) => p.name).join(', ')}` };
  }
  const ingress = policies.filter((p) => p.namespace === to.namespace && types(p.spec).includes('Ingress') && matches(p.spec.podSelector, to.labels));
  if (ingress.length === 0) return { allowed: true, why: `${to.name} is not isolated for ingress` };
  const by = ingress.find((p) =>
    (p.spec.ingress ?? []).some(
      (r) => (!r.from || r.from.length === 0 || r.from.some((peer) => peerMatches(peer, p.namespace, from))) && portMatches(r.ports, port, to),
    ),
  );
  return by
    ? { allowed: true, why: `allowed by ${by.name}` }
    : { allowed: false, why: `ingress of ${to.name}:${port} refused by ${ingress.map((p) => p.name).join(', ')}` };
}

/** The policies and the pods (one per workload: its template's labels and named ports) of rendered objects. */
export function fromObjects(objects: K8sObject[], namespace = 'default'): { policies: Policy[]; pods: Map<string, PodRef> } {
  const policies: Policy[] = [];
  const pods = new Map<string, PodRef>();
  for (const o of objects) {
    const ns = o.metadata.namespace ?? namespace;
    if (o.kind === 'NetworkPolicy') policies.push({ name: o.metadata.name, namespace: ns, spec: o.spec as NetworkPolicySpec });
    type Template = { metadata?: { labels?: Record<string, string> }; spec: { containers: { ports?: { name?: string; containerPort: number }[] }[] } };
    const template: Template | undefined =
      o.kind === 'Deployment' || o.kind === 'DaemonSet'
        ? (o.spec as { template: Template }).template
        : o.kind === 'Pod'
          ? { metadata: o.metadata, spec: o.spec as Template['spec'] }
          : undefined;
    if (!template) continue;
    const ports: Record<string, number> = {};
    for (const c of template.spec.containers) for (const p of c.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
    pods.set(o.metadata.name, { name: o.metadata.name, namespace: ns, labels: template.metadata?.labels ?? {}, ports });
  }
  return { policies, pods };
}
