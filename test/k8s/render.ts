// The objects the pod runner runs, rendered by the real tools (offline): `helm template`, `kubectl kustomize`, and
// the workshop's own commands (`kubectl create deployment … --dry-run=client -o yaml`; `kubectl expose` needs an API
// server even with --dry-run=client, so its Service is built as kubectl's generator builds it).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { Service } from '../helpers/images.js';
import type { K8sObject } from './pod-runner.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = `${ROOT}deploy/helm/dockercoins`;
/** Our published images (deploy/kubernetes/kustomization.yaml, the chart's image.registry, the release workflow). */
export const REGISTRY = 'ghcr.io/dockercoins/dockercoins';

const tools = new Map<string, string>();
export function tool(name: 'helm' | 'kubectl'): string {
  if (!tools.has(name)) tools.set(name, execFileSync(`${ROOT}scripts/fetch-k8s-tool.sh`, [name], { encoding: 'utf8', timeout: 300_000 }).trim());
  return tools.get(name)!;
}

export const parseObjects = (text: string): K8sObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJSON() as K8sObject)
    .filter((o) => o?.kind);

const run = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000, maxBuffer: 32 << 20 });

/** `helm template <release> deploy/helm/dockercoins <args…>` */
export const helmTemplate = (release: string, ...args: string[]): K8sObject[] => parseObjects(run(tool('helm'), ['template', release, CHART, ...args]));

/** `kubectl kustomize <dir>` (a path under the repository). */
export const kustomize = (dir: string): K8sObject[] => parseObjects(run(tool('kubectl'), ['kustomize', `${ROOT}${dir}`]));

/**
 * The workshop's flow as typed (seed slides): `kubectl create deployment redis --image=redis`, `kubectl expose
 * deployment redis --port 6379`, `kubectl create deployment <svc> --image=$REGISTRY/<svc>:$TAG` for the four services,
 * `kubectl expose deployment rng|hasher --port 80`, `kubectl expose deploy/webui --type=NodePort --port=80`.
 */
export function workshopObjects(tag = 'v0.1'): K8sObject[] {
  const create = (name: string, image: string) =>
    parseObjects(run(tool('kubectl'), ['create', 'deployment', name, `--image=${image}`, '--dry-run=client', '-o', 'yaml']))[0]!;
  // kubectl expose deployment X --port P [--type T]: a Service named X, the Deployment's selector, port P → P, TCP.
  const expose = (d: K8sObject, port: number, type?: string): K8sObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: d.metadata.name, labels: d.metadata.labels },
    spec: {
      ...(type ? { type } : {}),
      selector: (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
      ports: [{ port, protocol: 'TCP', targetPort: port }],
    },
  });
  const redis = create('redis', 'redis');
  const services = (['rng', 'hasher', 'webui', 'worker'] as Service[]).map((s) => create(s, `${REGISTRY}/${s}:${tag}`));
  const [rng, hasher, webui] = services as [K8sObject, K8sObject, K8sObject, K8sObject];
  return [redis, expose(redis, 6379), ...services, expose(rng, 80), expose(hasher, 80), expose(webui, 80, 'NodePort')];
}
