// Kubernetes manifests and the Helm chart, checked offline: helm lint --strict, helm template for several values,
// every object validated by kubernetes-models' schemas plus our own unknown-field check, and the workshop's
// expectations (names, ports, probes that avoid the cascade, a locked-down securityContext).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, LimitRange, Pod, ResourceQuota, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { needs } from '../helpers/skip.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, any>;
} & Record<string, any>;

const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/ServiceAccount': ServiceAccount,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'v1/ResourceQuota': ResourceQuota,
  'v1/LimitRange': LimitRange,
};

// kubernetes-models accepts unknown fields; these are the fields our objects may use, by where they sit.
const KNOWN: Record<string, string[]> = {
  object: ['apiVersion', 'kind', 'metadata', 'spec', 'data', 'type', 'automountServiceAccountToken'],
  metadata: ['name', 'labels', 'annotations', 'namespace'],
  workloadSpec: ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'updateStrategy'],
  podSpec: [
    'containers',
    'securityContext',
    'terminationGracePeriodSeconds',
    'automountServiceAccountToken',
    'enableServiceLinks',
    'serviceAccountName',
    'imagePullSecrets',
    'priorityClassName',
    'volumes',
    'nodeSelector',
    'affinity',
    'tolerations',
    'topologySpreadConstraints',
    'restartPolicy',
  ],
  container: [
    'name',
    'image',
    'imagePullPolicy',
    'args',
    'command',
    'env',
    'ports',
    'readinessProbe',
    'livenessProbe',
    'startupProbe',
    'resources',
    'securityContext',
    'volumeMounts',
  ],
  probe: ['httpGet', 'exec', 'tcpSocket', 'periodSeconds', 'timeoutSeconds', 'failureThreshold', 'initialDelaySeconds', 'successThreshold'],
  serviceSpec: ['type', 'selector', 'ports', 'clusterIP'],
};

function unknownFields(o: Obj): string[] {
  const bad: string[] = [];
  const check = (where: string, value: Record<string, unknown> | undefined, known: string[]) => {
    for (const k of Object.keys(value ?? {})) if (!known.includes(k)) bad.push(`${where}.${k}`);
  };
  check(o.kind, o, KNOWN.object!);
  check(`${o.kind}.metadata`, o.metadata, KNOWN.metadata!);
  if (o.kind === 'Deployment' || o.kind === 'DaemonSet') {
    check(`${o.kind}.spec`, o.spec, KNOWN.workloadSpec!);
    check(`${o.kind}.pod`, o.spec.template.spec, KNOWN.podSpec!);
    for (const c of o.spec.template.spec.containers) {
      check(`${o.kind}.container`, c, KNOWN.container!);
      for (const p of ['readinessProbe', 'livenessProbe']) check(`${o.kind}.${p}`, c[p], KNOWN.probe!);
    }
  }
  if (o.kind === 'Service') check('Service.spec', o.spec, KNOWN.serviceSpec!);
  return bad;
}

function validate(objects: Obj[], source: string): void {
  assert.ok(objects.length > 0, `${source}: no objects`);
  for (const o of objects) {
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    assert.ok(Model, `${source}: unexpected ${o.apiVersion} ${o.kind}`);
    assert.doesNotThrow(() => new Model(o).validate(), `${source}: ${o.kind}/${o.metadata.name} is invalid`);
    assert.deepEqual(unknownFields(o), [], `${source}: ${o.kind}/${o.metadata.name} has unknown fields`);
  }
}

const docs = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj)
    .filter((o) => o?.kind);

function checkWorkloads(objects: Obj[], source: string, prefix = ''): void {
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
  for (const w of workloads) {
    const pod = w.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true, `${source} ${w.metadata.name}: runAsNonRoot`);
    assert.equal(pod.enableServiceLinks, false, `${source} ${w.metadata.name}: no Service link variables`);
    if (pod.containers.some((c: Obj) => c.ports?.some((p: Obj) => p.containerPort < 1024))) {
      assert.deepEqual(
        pod.securityContext.sysctls,
        [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
        `${source} ${w.metadata.name}: port 80 as user 1000 on runtimes that keep 1024`,
      );
    }
    for (const c of pod.containers) {
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${source} ${w.metadata.name}: read-only root`);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      assert.ok(c.resources?.requests && c.resources?.limits?.memory, `${source} ${w.metadata.name}: resources`);
      assert.ok(c.readinessProbe && c.livenessProbe, `${source} ${w.metadata.name}: probes`);
      if (c.livenessProbe.httpGet) assert.equal(c.livenessProbe.httpGet.path, '/healthz', 'liveness never goes through the rng route');
    }
  }
  const svc = Object.fromEntries(objects.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s.spec]));
  assert.equal(svc[`${prefix}rng`]?.ports[0].port, 80);
  assert.equal(svc[`${prefix}hasher`]?.ports[0].port, 80);
  assert.ok(svc[`${prefix}webui`]);
  assert.equal(svc[`${prefix}webui`]!.ports[0].port, 80);
}

describe('plain Kubernetes manifests', () => {
  const dir = `${root}deploy/kubernetes/`;
  const all = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');

  const extra = [
    'extras/rng-daemonset.yaml',
    'components/network-policies/networkpolicy.yaml',
    'components/monitoring/hpa-rng.yaml',
    'components/monitoring/worker-metrics.yaml',
    'components/monitoring/networkpolicy-prometheus.yaml',
  ];
  let kubectl: string;
  before(() => {
    kubectl = execFileSync(`${root}scripts/fetch-k8s-tool.sh`, ['kubectl'], { encoding: 'utf8' }).trim();
  });
  /** kubectl kustomize of a kustomization made in a temporary folder: these resources and components. */
  const kustomize = (resources: string[], components: string[] = []) => {
    const tmp = mkdtempSync(join(tmpdir(), 'dc-kz-'));
    const rel = (p: string) => relative(tmp, `${root}deploy/${p}`);
    writeFileSync(join(tmp, 'kustomization.yaml'), `resources: [${resources.map(rel).join(', ')}]\ncomponents: [${components.map(rel).join(', ')}]\n`);
    return docs(
      execFileSync(kubectl, ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  };

  it('every object is valid and has no unknown field', () => {
    for (const f of [...all, ...extra]) validate(docs(readFileSync(dir + f, 'utf8')), f);
  });

  it("use the workshop's names and ports, safe probes and a locked-down securityContext", () => {
    const objects = all.flatMap((f) => docs(readFileSync(dir + f, 'utf8')));
    checkWorkloads(objects, 'manifests');
    const names = objects
      .filter((o) => o.kind === 'Deployment')
      .map((o) => o.metadata.name)
      .sort();
    assert.deepEqual(names, ['hasher', 'redis', 'rng', 'webui', 'worker']);
    const services = Object.fromEntries(objects.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s.spec]));
    assert.equal(services.redis!.ports[0].port, 6379);
    assert.equal(services.webui!.type, 'NodePort');
    const kustomization = readFileSync(`${dir}kustomization.yaml`, 'utf8');
    for (const f of all) assert.match(kustomization, new RegExp(f.replace('.', '\\.')), `kustomization lists ${f}`);
  });

  it('Kustomize: the base (with its NetworkPolicies), each component, and the observability overlay build', () => {
    const base = docs(execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8' }));
    validate(base, 'kustomize base');
    checkWorkloads(base, 'kustomize base');
    assert.equal(base.filter((o) => o.kind === 'NetworkPolicy').length, 4, 'least privilege on by default');
    const deployments = (objects: Obj[]) => objects.filter((o) => o.kind === 'Deployment' && o.metadata.name !== 'redis');
    const overlay = docs(execFileSync(kubectl, ['kustomize', `${root}deploy/overlays/observability`], { encoding: 'utf8' }));
    validate(
      overlay.filter((o) => o.kind !== 'ServiceMonitor'),
      'observability overlay',
    );
    // The Prometheus Operator ignores the annotations: ServiceMonitors on the Services' named ports.
    const monitors = overlay.filter((o) => o.kind === 'ServiceMonitor');
    assert.deepEqual(
      monitors.map((m) => m.spec.endpoints[0].port),
      ['http', 'metrics'],
    );
    for (const s of overlay.filter((o) => o.kind === 'Service' && o.metadata.name !== 'redis')) {
      const monitored = monitors.some((m) => {
        const labels = s.metadata.labels ?? {};
        const sel = m.spec.selector;
        const ok = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
        const exprs = (sel.matchExpressions ?? []).every((e: { key: string; values: string[] }) => e.values.includes(labels[e.key] ?? ''));
        return ok && exprs && s.spec.ports.some((p: { name: string }) => p.name === m.spec.endpoints[0].port);
      });
      assert.ok(monitored, `a ServiceMonitor scrapes Service ${s.metadata.name}`);
    }
    const overlayRng = overlay.find((o) => o.kind === 'Deployment' && o.metadata.name === 'rng')!;
    assert.equal(overlayRng.spec.replicas, undefined, 'the HPA owns the replica count: apply does not scale rng back to 1');
    for (const d of deployments(overlay)) {
      const env = envOf(d);
      assert.equal(loadConfig(env).tracing.url, 'http://otel-collector:4318/v1/traces', d.metadata.name);
      const a = d.spec.template.metadata.annotations ?? {};
      assert.deepEqual([a['prometheus.io/scrape'], a['prometheus.io/port']], ['true', d.metadata.name === 'worker' ? '9100' : '80'], d.metadata.name);
    }
    assert.ok(overlay.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec.scaleTargetRef.name === 'rng'));
    const metrics = overlay.find((o) => o.kind === 'Service' && o.metadata.name === 'worker-metrics')!;
    assert.deepEqual([metrics.spec.clusterIP, metrics.spec.ports[0].port], ['None', 9100]);
    const naive = kustomize(['kubernetes'], ['kubernetes/components/naive-liveness']);
    validate(naive, 'naive liveness');
    const rng = naive.find((o) => o.kind === 'Deployment' && o.metadata.name === 'rng')!;
    assert.equal(envOf(rng).LIVENESS_MODE, 'naive');
    assert.equal(rng.spec.template.spec.containers[0].livenessProbe.timeoutSeconds, 1);
    assert.equal(envOf(rng).DRAIN_MS, '5000', 'the patch adds to the env, keeps the rest');
  });

  it('the naive-liveness patch really points liveness at the queue (for teaching)', () => {
    const patch =
      docs(readFileSync(`${dir}components/naive-liveness/rng-naive-liveness.yaml`, 'utf8'))[0] ??
      (parseAllDocuments(readFileSync(`${dir}components/naive-liveness/rng-naive-liveness.yaml`, 'utf8'))[0]!.toJSON() as Obj);
    const c = patch.spec.template.spec.containers[0];
    assert.deepEqual(c.env, [{ name: 'LIVENESS_MODE', value: 'naive' }]);
    assert.equal(c.livenessProbe.timeoutSeconds, 1);
  });

  it("the autoscaling component: httplat probing http://rng/ on :9080, the slide's HPA to the letter, the KEDA alternative on the same metric", () => {
    const objects = kustomize(['kubernetes'], ['kubernetes/components/autoscaling']);
    validate(objects, 'autoscaling component');
    checkWorkloads(objects, 'autoscaling component');
    const httplat = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'httplat')!;
    assert.deepEqual(httplat.spec.template.spec.containers[0].command, ['node', 'dist/cli.js', 'httplat', 'http://rng/']);
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'httplat')!;
    assert.equal(svc.spec.ports[0].port, 9080);
    assert.deepEqual(svc.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9080', 'prometheus.io/path': '/metrics' });
    // The HPA is the slide's file (container.training k8s/hpa-v2-pa-httplat.yaml), field for field.
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    assert.deepEqual(hpa.spec, {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'rng' },
      minReplicas: 1,
      maxReplicas: 20,
      behavior: { scaleUp: { stabilizationWindowSeconds: 60 }, scaleDown: { stabilizationWindowSeconds: 180 } },
      metrics: [
        {
          type: 'Object',
          object: {
            describedObject: { apiVersion: 'v1', kind: 'Service', name: 'httplat' },
            metric: { name: 'httplat_latency_seconds' },
            target: { type: 'Value', value: 0.1 },
          },
        },
      ],
    });
    const adapter = parse(readFileSync(`${dir}components/autoscaling/prometheus-adapter-httplat.yaml`, 'utf8'));
    const metricName = (hpa.spec.metrics as { object: { metric: { name: string } } }[])[0]!.object.metric.name;
    assert.equal(adapter.rules.custom[0].name.as, metricName, 'the adapter serves the metric the HPA reads');
    const keda = parse(readFileSync(`${dir}components/autoscaling/keda-rng-httplat.yaml`, 'utf8'));
    assert.deepEqual([keda.spec.scaleTargetRef.name, keda.spec.minReplicaCount, keda.spec.maxReplicaCount], ['rng', 1, 20]);
    assert.deepEqual(keda.spec.advanced.horizontalPodAutoscalerConfig.behavior, hpa.spec.behavior);
    assert.deepEqual([keda.spec.triggers[0].metricType, Number(keda.spec.triggers[0].metadata.threshold)], ['Value', 0.1]);
  });
});

describe('Helm chart', () => {
  let helm: string;
  const chart = `${root}deploy/helm/dockercoins`;
  const template = (...args: string[]) => docs(execFileSync(helm, ['template', 'dc', chart, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  before(() => {
    helm = execFileSync(`${root}scripts/fetch-k8s-tool.sh`, ['helm'], { encoding: 'utf8' }).trim();
  });
  const notes = () => readFileSync(`${chart}/templates/NOTES.txt`, 'utf8');

  it('passes helm lint --strict (default, namespace tenant and shared Redis values)', () => {
    execFileSync(helm, ['lint', '--strict', chart], { encoding: 'utf8' });
    execFileSync(helm, ['lint', '--strict', chart, '-n', 'student-01', '-f', `${chart}/values-tenant-example.yaml`], { encoding: 'utf8' });
    execFileSync(helm, ['lint', '--strict', chart, '-n', 'redis', '-f', `${chart}/values-shared-redis.yaml`], { encoding: 'utf8' });
  });

  it('renders valid objects with the default values', () => {
    const objects = template();
    validate(objects, 'default');
    checkWorkloads(objects, 'default');
    const worker = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'worker')!;
    const env = Object.fromEntries(worker.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(env.RNG_URL, 'http://rng');
    assert.equal(env.REDIS_URL, 'redis://redis:6379');
    assert.equal(env.DOCKERCOINS_NAMESPACE, '');
    assert.ok(objects.some((o) => o.kind === 'PodDisruptionBudget'));
  });

  it('renders a namespace tenant (values-tenant-example.yaml): the namespace as key prefix, REDIS_URL from its Secret, rng as a DaemonSet', () => {
    const objects = template('-n', 'student-01', '-f', `${chart}/values-tenant-example.yaml`);
    validate(objects, 'tenant');
    checkWorkloads(objects, 'tenant');
    assert.ok(!objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'redis'), 'uses the shared Redis');
    assert.ok(objects.some((o) => o.kind === 'DaemonSet' && o.metadata.name === 'rng'));
    const worker = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'worker')!;
    const env = worker.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: any }[];
    assert.equal(env.find((e) => e.name === 'DOCKERCOINS_NAMESPACE')?.value, 'student-01');
    assert.equal(env.find((e) => e.name === 'RNG_URL')?.value, 'http://rng');
    assert.deepEqual(
      env.find((e) => e.name === 'REDIS_URL'),
      { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'dockercoins-redis', key: 'url' } } },
    );
    const kinds = (os: Obj[]) => [...new Set(os.map((o) => o.kind))].sort();
    assert.deepEqual(kinds(objects.filter((o) => !['Deployment', 'DaemonSet', 'Service', 'PodDisruptionBudget'].includes(o.kind))), [
      'Job',
      'LimitRange',
      'NetworkPolicy',
      'Pod',
      'ResourceQuota',
      'Secret',
      'ServiceAccount',
    ]);
    validate(template('-n', 'redis', '-f', `${chart}/values-shared-redis.yaml`), 'shared Redis');
  });

  it('renders the HPA, naive liveness, registry and tag on request', () => {
    const objects = template(
      '--set',
      'hpa.rng.enabled=true',
      '--set',
      'liveness=naive',
      '--set',
      'image.registry=registry.local:5000',
      '--set',
      'image.tag=v0.2',
    );
    validate(objects, 'options');
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    assert.equal(hpa.spec.metrics[0].pods.metric.name, 'dockercoins_rng_queue_depth');
    const rng = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'rng')!;
    assert.equal(rng.spec.replicas, undefined, 'the HPA owns the replica count');
    assert.equal(rng.spec.template.spec.containers[0].image, 'registry.local:5000/rng:v0.2');
    assert.ok(rng.spec.template.spec.containers[0].env.some((e: { name: string; value: string }) => e.name === 'LIVENESS_MODE' && e.value === 'naive'));
  });

  it("the monitoring kit in the chart: a PrometheusRule with the kit's rules, the dashboard for Grafana's sidecar", () => {
    assert.ok(!template().some((o) => o.kind === 'PrometheusRule' || o.metadata.name.endsWith('grafana-dashboard')), 'off by default');
    const objects = template('--set', 'prometheusRule.enabled=true', '--set', 'prometheusRule.labels.release=kps', '--set', 'grafanaDashboard.enabled=true');
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    assert.equal(rule.metadata.labels?.release, 'kps');
    // The Go templates of the annotations ({{ $value }}) reach the operator untouched, not rendered by Helm.
    assert.deepEqual(rule.spec, parse(readFileSync(`${root}deploy/monitoring/rules/dockercoins.rules.yml`, 'utf8')));
    const dash = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'dockercoins-grafana-dashboard')!;
    validate([dash], 'dashboard');
    assert.equal(dash.metadata.labels?.grafana_dashboard, '1');
    assert.equal(dash.data['dockercoins.json'], readFileSync(`${root}deploy/monitoring/grafana/dashboards/dockercoins.json`, 'utf8'));
  });

  it('parity with podinfo: helm test runs doctor, startup probes, topology spread, annotations, ServiceMonitor, HTTPRoute', () => {
    const objects = template(
      '--set',
      'serviceMonitor.enabled=true',
      '--set',
      'serviceMonitor.labels.release=kube-prometheus-stack',
      '--set',
      'httpRoute.enabled=true',
      '--set',
      'httpRoute.parentRefs[0].name=public',
      '--set',
      'httpRoute.hostnames[0]=coins.example.com',
      '--set',
      'podAnnotations.team=platform',
    );
    const crds = ['ServiceMonitor', 'HTTPRoute'];
    validate(
      objects.filter((o) => !crds.includes(o.kind)),
      'parity',
    );
    const workloads = objects.filter((o) => o.kind === 'Deployment' && o.metadata.name !== 'redis');
    for (const w of workloads) {
      const pod = w.spec.template;
      assert.equal(pod.metadata.annotations?.team, 'platform', w.metadata.name);
      assert.equal(pod.spec.topologySpreadConstraints[0].whenUnsatisfiable, 'ScheduleAnyway', 'spreading never blocks scheduling');
      assert.deepEqual(pod.spec.topologySpreadConstraints[0].labelSelector.matchLabels, w.spec.selector.matchLabels);
      const c = pod.spec.containers[0];
      assert.equal(c.startupProbe.httpGet.path, '/healthz');
      assert.equal(c.startupProbe.httpGet.port, c.livenessProbe.httpGet.port);
    }
    // Every ServiceMonitor finds a Service by its labels, on a port of that name, and the port serves /metrics.
    const services = objects.filter((o) => o.kind === 'Service');
    const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
    assert.equal(monitors.length, 4);
    for (const m of monitors) {
      assert.equal(m.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(m.metadata.labels?.release, 'kube-prometheus-stack');
      const match = services.filter((s) => Object.entries(m.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
      assert.equal(match.length, 1, `${m.metadata.name} selects one Service`);
      const port = match[0]!.spec.ports.find((p: { name: string }) => p.name === m.spec.endpoints[0].port);
      assert.ok(port, `${m.metadata.name}: port ${m.spec.endpoints[0].port}`);
      assert.equal(port.port, m.metadata.name === 'worker' ? 9100 : 80);
      assert.equal(m.spec.endpoints[0].path, '/metrics');
    }
    const route = objects.find((o) => o.kind === 'HTTPRoute')!;
    assert.equal(route.apiVersion, 'gateway.networking.k8s.io/v1');
    assert.deepEqual(route.spec.parentRefs, [{ name: 'public' }]);
    assert.deepEqual(route.spec.hostnames, ['coins.example.com']);
    assert.deepEqual(route.spec.rules[0].backendRefs, [{ name: 'webui', port: 80 }]);
    assert.ok(services.some((s) => s.metadata.name === 'webui' && s.spec.ports[0].port === 80));
    // helm test: a pod that runs doctor with the services' addresses, let through by the NetworkPolicies.
    const test = objects.find((o) => o.kind === 'Pod')!;
    assert.equal(test.metadata.annotations?.['helm.sh/hook'], 'test');
    const c = test.spec.containers[0];
    assert.deepEqual(c.command, ['node', 'dist/cli.js', 'doctor']);
    const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    const config = loadConfig(env);
    assert.deepEqual(
      [config.worker.rngUrls, config.worker.hasherUrls, config.ledger.url, config.webuiUrl],
      [['http://rng'], ['http://hasher'], 'redis://redis:6379', 'http://webui'],
    );
    for (const np of objects.filter((o) => o.kind === 'NetworkPolicy')) {
      const admits = np.spec.ingress[0].from.some((f: { podSelector: { matchLabels: Record<string, string> } }) =>
        Object.entries(f.podSelector.matchLabels).every(([k, v]) => test.metadata.labels?.[k] === v),
      );
      assert.ok(admits, `${np.metadata.name} lets the doctor through`);
    }
    assert.throws(() => template('--set', 'httpRoute.enabled=true'), /httpRoute.parentRefs/);
  });

  it('parity with podinfo (2): ServiceAccount without token, imagePullSecrets, extraEnv, placement, per-service resources, Ingress, schema', () => {
    const objects = template(
      '--set-json',
      'extraEnv=[{"name":"LOG_FORMAT","value":"json"}]',
      '--set-json',
      'worker.extraEnv=[{"name":"WORKER_CONCURRENCY","value":"2"}]',
      '--set-json',
      'imagePullSecrets=[{"name":"ghcr-pull"}]',
      '--set',
      'nodeSelector.pool=workshop',
      '--set-json',
      'tolerations=[{"key":"workshop","operator":"Exists","effect":"NoSchedule"}]',
      '--set-json',
      'affinity={"nodeAffinity":{}}',
      '--set',
      'priorityClassName=low',
      '--set-json',
      'rng.resources={"requests":{"cpu":"200m","memory":"64Mi"},"limits":{"memory":"96Mi"}}',
      '--set',
      'ingress.enabled=true',
      '--set',
      'ingress.className=nginx',
      '--set',
      'ingress.hosts[0]=coins.example.com',
    );
    validate(objects, 'parity 2');
    const sa = objects.find((o) => o.kind === 'ServiceAccount')!;
    assert.equal(sa.metadata.name, 'dockercoins');
    assert.equal(sa.automountServiceAccountToken, false);
    const pods = [
      ...objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet').map((o) => [o.metadata.name, o.spec.template.spec] as const),
      ...objects.filter((o) => o.kind === 'Pod').map((o) => [o.metadata.name, o.spec] as const),
    ];
    assert.equal(pods.length, 6, 'five workloads and the helm test pod');
    for (const [name, pod] of pods) {
      assert.equal(pod.serviceAccountName, 'dockercoins', name);
      assert.equal(pod.automountServiceAccountToken, false, name);
      assert.equal(pod.enableServiceLinks, false, name);
      assert.deepEqual(pod.imagePullSecrets, [{ name: 'ghcr-pull' }], name);
      assert.deepEqual(pod.nodeSelector, { pool: 'workshop' }, name);
      assert.equal(pod.tolerations[0].key, 'workshop', name);
      assert.equal(pod.priorityClassName, 'low', name);
      assert.ok(pod.affinity, name);
    }
    const byName = Object.fromEntries(pods);
    const env = (name: string) => byName[name]!.containers[0].env.map((e: { name: string }) => e.name);
    for (const name of ['rng', 'hasher', 'webui', 'worker']) assert.ok(env(name).includes('LOG_FORMAT'), name);
    assert.ok(env('worker').includes('WORKER_CONCURRENCY') && !env('rng').includes('WORKER_CONCURRENCY'));
    assert.equal(byName.rng!.containers[0].resources.limits.memory, '96Mi');
    assert.equal(byName.hasher!.containers[0].resources.limits.memory, '128Mi', 'the shared default');
    assert.equal(byName.redis!.containers[0].resources.limits.memory, '256Mi', 'Redis has its own');
    const ingress = objects.find((o) => o.kind === 'Ingress')!;
    assert.equal(ingress.spec.ingressClassName, 'nginx');
    assert.equal(ingress.spec.rules[0].host, 'coins.example.com');
    assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, 'webui');
    // values.schema.json refuses at install time what the services would refuse at start.
    const refused: [string, string, RegExp][] = [
      ['tenant', 'a b', /tenant: Does not match pattern/],
      ['admin.token', 'short', /admin\.token: Does not match pattern/],
      ['namePrefix', 'Acme_', /namePrefix: Does not match pattern/],
      ['rng.kind', 'StatefulSet', /rng\.kind must be one of/],
      ['tpyo', '1', /Additional property tpyo is not allowed/],
    ];
    for (const [flag, value, message] of refused) {
      const r = spawnSync(helm, ['template', 'dc', chart, '--set', `${flag}=${value}`], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, `${flag}=${value} refused`);
      assert.match(r.stderr, message);
    }
  });

  it("the autoscaling lesson as values: httplat.enabled and hpa.rng.metric=latency give the Kustomize component's exporter and the slide's HPA", () => {
    const objects = template('--set', 'httplat.enabled=true,hpa.rng.enabled=true,hpa.rng.metric=latency,hpa.rng.maxReplicas=20');
    validate(objects, 'httplat');
    checkWorkloads(objects, 'httplat');
    const component = docs(readFileSync(`${root}deploy/kubernetes/components/autoscaling/httplat.yaml`, 'utf8'));
    const slide = parse(readFileSync(`${root}deploy/kubernetes/components/autoscaling/hpa-v2-pa-httplat.yaml`, 'utf8')) as Obj;
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    assert.deepEqual(hpa.spec, slide.spec, "the slide's HPA");
    const container = (os: Obj[]) => os.find((o) => o.kind === 'Deployment' && o.metadata.name === 'httplat')!.spec.template.spec.containers[0];
    for (const k of ['command', 'ports', 'readinessProbe', 'livenessProbe', 'resources']) assert.deepEqual(container(objects)[k], container(component)[k], k);
    const svc = (os: Obj[]) => os.find((o) => o.kind === 'Service' && o.metadata.name === 'httplat')!;
    assert.deepEqual(svc(objects).metadata.annotations, svc(component).metadata.annotations);
    assert.deepEqual(svc(objects).spec.ports, svc(component).spec.ports);
    const r = spawnSync(helm, ['template', 'dc', chart, '--set', 'hpa.rng.enabled=true,hpa.rng.metric=latency'], { encoding: 'utf8' });
    assert.match(r.stderr, /set httplat.enabled=true/);
  });

  it('ADMIN_TOKEN from a Secret: generated at install, given, or an existing one', () => {
    const tokenRef = (objects: Obj[], name: string) =>
      objects
        .find((o) => o.kind === 'Deployment' && o.metadata.name === name)!
        .spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'ADMIN_TOKEN').valueFrom.secretKeyRef;
    const generated = template();
    const secret = generated.find((o) => o.kind === 'Secret')!;
    assert.equal(secret.metadata.name, 'dockercoins-admin');
    assert.equal(secret.metadata.annotations?.['helm.sh/resource-policy'], 'keep', 'not lost on uninstall/upgrade');
    assert.match(Buffer.from(secret.data.token, 'base64').toString(), /^[A-Za-z0-9]{32}$/);
    for (const name of ['rng', 'hasher', 'webui', 'worker']) assert.deepEqual(tokenRef(generated, name), { name: 'dockercoins-admin', key: 'token' });
    const given = template('--set', 'admin.token=s3cret-token');
    assert.equal(Buffer.from(given.find((o) => o.kind === 'Secret')!.data.token, 'base64').toString(), 's3cret-token');
    const theirs = template('--set', 'admin.existingSecret=vault-admin', '--set', 'admin.existingSecretKey=bearer');
    assert.ok(!theirs.some((o) => o.kind === 'Secret'), 'no Secret of ours');
    assert.deepEqual(tokenRef(theirs, 'worker'), { name: 'vault-admin', key: 'bearer' });
    assert.match(
      execFileSync(helm, ['template', 'dc', chart, '--set', 'admin.existingSecret=vault-admin'], { encoding: 'utf8' }) + notes(),
      /kubectl get secret/,
    );
  });

  it('tracing.endpoint turns tracing on in every service (the variables our config accepts), the viewer in the webui', () => {
    for (const o of template().filter((x) => x.kind === 'Deployment')) assert.equal(envOf(o).OTEL_EXPORTER_OTLP_ENDPOINT, undefined, 'off by default');
    const objects = template(
      '--set',
      'tracing.endpoint=http://otel-collector:4318',
      '--set',
      'tracing.sampler=parentbased_traceidratio',
      '--set',
      'tracing.samplerArg=0.2',
      '--set',
      'tracing.uiUrl=http://localhost:16686',
    );
    validate(objects, 'tracing');
    for (const name of ['rng', 'hasher', 'worker', 'webui']) {
      const o = objects.find((x) => x.kind === 'Deployment' && x.metadata.name === name)!;
      const env = envOf(o);
      // Kubernetes expands $(POD_NAMESPACE) from the downward API before the process sees it.
      const seen = { ...env, OTEL_RESOURCE_ATTRIBUTES: env.OTEL_RESOURCE_ATTRIBUTES!.replace('$(POD_NAMESPACE)', 'default') };
      const tracing = loadConfig(seen).tracing;
      assert.deepEqual(
        [tracing.enabled, tracing.url, tracing.sampler, tracing.ratio],
        [true, 'http://otel-collector:4318/v1/traces', 'parentbased_traceidratio', 0.2],
        name,
      );
      assert.equal(tracing.resource['k8s.namespace.name'], 'default');
      assert.equal(tracing.uiUrl, name === 'webui' ? 'http://localhost:16686' : '', name);
    }
  });
});

type Env = { name: string; value?: string }[];
const envOf = (o: Obj): Record<string, string> =>
  Object.fromEntries(((o.spec.template.spec.containers[0].env ?? []) as Env).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

describe('tracing kit', () => {
  const workloads = ['rng', 'hasher', 'worker', 'webui'];

  it('kubectl kustomize deploy/tracing: a valid collector (the Compose profile’s configuration) wired to Jaeger', () => {
    const kubectl = execFileSync(`${root}scripts/fetch-k8s-tool.sh`, ['kubectl'], { encoding: 'utf8' }).trim();
    const objects = docs(execFileSync(kubectl, ['kustomize', `${root}deploy/tracing`], { encoding: 'utf8' }));
    validate(objects, 'tracing');
    const file = readFileSync(`${root}deploy/tracing/otel-collector.yaml`, 'utf8');
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'otel-collector')!;
    assert.equal(cm.data['config.yaml'], file, 'the ConfigMap is the file Compose mounts');
    const config = parseAllDocuments(file)[0]!.toJSON() as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } } };
    };
    const pipeline = config.service.pipelines.traces;
    assert.deepEqual(pipeline.receivers, ['otlp']);
    assert.ok(config.receivers.otlp.protocols.http.endpoint.endsWith(':4318'), 'OTLP/HTTP on 4318, where the services send');
    const services = Object.fromEntries(
      objects.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s.spec.ports.map((p: { port: number }) => p.port)]),
    );
    assert.ok(services['otel-collector'].includes(4318));
    for (const name of pipeline.exporters) {
      const [host, port] = config.exporters[name]!.endpoint.split(':');
      assert.ok(services[host!]?.includes(Number(port)), `exporter ${name} → ${host}:${port} is a Service here`);
    }
    const mount = objects.find((o) => o.metadata.name === 'otel-collector' && o.kind === 'Deployment')!.spec.template.spec.containers[0];
    assert.ok(mount.args.includes('--config=/etc/otelcol/config.yaml') && mount.volumeMounts[0].mountPath === '/etc/otelcol');
  });

  const compose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
  it('the Compose profile validates and every service passes the OTEL variables through (off when empty)', {
    skip: needs(compose, 'docker-compose is not installed (scripts/test.sh installs it when root on Debian)'),
  }, () => {
    const cfg = parseAllDocuments(
      execFileSync('docker-compose', ['-f', `${root}compose.yml`, '--profile', 'tracing', 'config'], {
        encoding: 'utf8',
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318', TRACING_UI_URL: 'http://localhost:16686' },
      }),
    )[0]!.toJSON() as { services: Record<string, { environment?: Record<string, string>; volumes?: (string | { source: string })[] }> };
    assert.ok(cfg.services['otel-collector'] && cfg.services.jaeger);
    assert.ok(cfg.services['otel-collector']!.volumes?.some((v) => (typeof v === 'string' ? v : v.source).includes('deploy/tracing/otel-collector.yaml')));
    for (const name of workloads) {
      const env = cfg.services[name]!.environment!;
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318', name);
      assert.ok(loadConfig(env).tracing.enabled, `${name}: its environment turns tracing on`);
    }
    assert.equal(cfg.services.webui!.environment!.TRACING_UI_URL, 'http://localhost:16686');
    const plain = parseAllDocuments(execFileSync('docker-compose', ['-f', `${root}compose.yml`, 'config'], { encoding: 'utf8' }))[0]!.toJSON() as {
      services: Record<string, { environment?: Record<string, string>; profiles?: string[] }>;
    };
    assert.deepEqual(plain.services['otel-collector']?.profiles, ['tracing'], 'the collector only with the profile');
    for (const name of workloads) assert.equal(loadConfig(plain.services[name]!.environment!).tracing.enabled, false, `${name}: off by default`);
  });
});

describe('Compose tenants', () => {
  it('REDIS_URL reaches the worker and the webui (a shared Redis), the project’s own redis otherwise', () => {
    type Cfg = { services: Record<string, { environment?: Record<string, string> }> };
    const config = (env: Record<string, string>) =>
      parseAllDocuments(
        execFileSync('docker-compose', ['-f', `${root}compose.yml`, 'config'], { encoding: 'utf8', env: { ...process.env, ...env } }),
      )[0]!.toJSON() as Cfg;
    const shared = config({ REDIS_URL: 'redis://shared-redis:6379', DOCKERCOINS_NAMESPACE: 'acme' });
    for (const name of ['worker', 'webui']) {
      const env = shared.services[name]!.environment!;
      assert.equal(loadConfig(env, name as 'worker' | 'webui').ledger.url, 'redis://shared-redis:6379', name);
      assert.equal(env.DOCKERCOINS_NAMESPACE, 'acme');
    }
    const own = config({});
    for (const name of ['worker', 'webui']) assert.equal(loadConfig(own.services[name]!.environment!).ledger.url, 'redis://redis:6379', name);
  });
});
