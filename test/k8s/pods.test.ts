// The pod runner itself (test/k8s/pod-runner.ts) against what a kubelet does: env (value, $(VAR), fieldRef, Secret
// and ConfigMap keys, Service links unless enableServiceLinks: false), command/args, securityContext, emptyDir,
// limits, the runtime default ip_unprivileged_port_start=1024, probes with their period/threshold and restarts.
// The rendered variants run in variants.test.ts. What this is NOT: a cluster — no scheduler, no kube-proxy, no
// NetworkPolicy enforcement (reachability.test.ts evaluates the policies), no HPA.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { finish, runner, skip, stopAll, sweepDeadRuns } from './harness.js';
import type { K8sObject } from './pod-runner.js';
import { REGISTRY } from './render.js';

describe('the pod runner on a real engine, as a kubelet runs pods (no scheduler, no kube-proxy, no NetworkPolicy enforcement)', { skip }, () => {
  before(sweepDeadRuns);
  after(stopAll);

  it('the runner itself: env (value, $(VAR), fieldRef, secretKeyRef, configMapKeyRef, Service links), command/args, user, read-only root, caps, emptyDir, limits', async () => {
    const node = `${REGISTRY}/worker:v0.1`;
    const script = [
      "const fs = require('fs');",
      'const out = { env: process.env, uid: process.getuid(), gid: process.getgid(), groups: process.getgroups() };',
      "try { fs.writeFileSync('/rootfs-probe', 'x'); out.rootWritable = true } catch (e) { out.rootWritable = e.code }",
      "fs.writeFileSync('/scratch/x', 'x'); out.scratch = fs.readFileSync('/scratch/x', 'utf8');",
      // cgroup v2, or v1 (this engine's)
      "for (const f of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) { try { out.memoryMax = fs.readFileSync(f, 'utf8').trim(); break } catch {} }",
      "out.capEff = fs.readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s*(\\w+)/)[1];",
      "out.portStart = fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim();",
      "console.log('RESULT ' + JSON.stringify(out));",
    ].join(' ');
    const pod = (name: string, enableServiceLinks: boolean | undefined): K8sObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: name } },
      spec: {
        restartPolicy: 'Never',
        ...(enableServiceLinks === undefined ? {} : { enableServiceLinks }),
        securityContext: { runAsUser: 1234, runAsGroup: 2345, fsGroup: 3456 },
        containers: [
          {
            name: 'probe',
            image: node,
            command: ['node'],
            args: ['-e', script],
            env: [
              { name: 'PLAIN', value: 'plain' },
              { name: 'EXPANDED', value: 'x-$(PLAIN)-$(UNDEFINED)' },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } },
              { name: 'FROM_CONFIG', valueFrom: { configMapKeyRef: { name: 'c', key: 'level' } } },
              { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'absent', key: 'k', optional: true } } },
            ],
            resources: { limits: { memory: '96Mi', cpu: '500m' } },
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
          },
        ],
        volumes: [{ name: 'scratch', emptyDir: {} }],
      },
    });
    const objects: K8sObject[] = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { token: Buffer.from('sekret-token').toString('base64') } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { level: 'debug' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'rng' }, spec: { selector: { app: 'nothing' }, ports: [{ port: 80 }] } },
      pod('linked', undefined),
      pod('unlinked', false),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'needs-secret' },
        spec: { containers: [{ name: 'x', image: node, env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'missing', key: 'token' } } }] }] },
      },
    ];
    const r = runner(objects);
    await r.start();
    const results: Record<string, Record<string, unknown>> = {};
    for (const name of ['linked', 'unlinked']) {
      const p = r.podsOf(name)[0]!;
      const code = await p.containers[0]!.waitExit(60_000);
      const logs = await p.containers[0]!.logs(20);
      assert.equal(code, 0, `${name} exits 0: ${logs}`);
      results[name] = JSON.parse(logs.slice(logs.indexOf('RESULT ') + 7).split('\n')[0]!) as Record<string, unknown>;
    }
    const linked = results.linked!;
    const env = linked.env as Record<string, string>;
    assert.equal(env.PLAIN, 'plain');
    assert.equal(env.EXPANDED, 'x-plain-$(UNDEFINED)', 'expansion of earlier variables only, as the kubelet does');
    assert.equal(env.POD_NAME, 'linked');
    assert.equal(env.HOSTNAME, 'linked');
    assert.equal(env.POD_NAMESPACE, 'default');
    assert.equal(env.POD_IP, r.podsOf('linked')[0]!.ip);
    assert.equal(env.FROM_SECRET, 'sekret-token');
    assert.equal(env.FROM_CONFIG, 'debug');
    assert.equal(env.OPTIONAL, undefined);
    assert.equal(env.RNG_PORT, 'tcp://10.96.0.10:80', 'Service links by default');
    assert.equal(env.RNG_PORT_80_TCP_ADDR, '10.96.0.10');
    assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
    const unlinkedEnv = results.unlinked!.env as Record<string, string>;
    assert.equal(unlinkedEnv.RNG_PORT, undefined, 'enableServiceLinks: false');
    assert.equal(unlinkedEnv.KUBERNETES_SERVICE_HOST, '10.96.0.1', "the API server's own variables stay");
    assert.equal(linked.uid, 1234);
    assert.equal(linked.gid, 2345);
    assert.ok((linked.groups as number[]).includes(3456), 'fsGroup is a supplementary group');
    assert.equal(linked.rootWritable, 'EROFS', 'readOnlyRootFilesystem');
    assert.equal(linked.scratch, 'x', 'the emptyDir is writable by the pod user');
    assert.equal(linked.memoryMax, String(96 * 2 ** 20));
    assert.equal(linked.capEff, '0000000000000000');
    assert.equal(linked.portStart, '1024', 'the runtime default this runner models (containerd 1.x, CRI-O)');
    assert.match(r.podsOf('needs-secret')[0]!.notRun, /CreateContainerConfigError: secret missing key token not found/);
    await finish(r, 'runner self-test');
  });

  it('probes with kubelet semantics: a failing liveness probe restarts, a failing readiness probe keeps the pod out, exits restart', async () => {
    const rng = `${REGISTRY}/rng:v0.1`;
    const deployment = (name: string, container: Record<string, unknown>, pod: Record<string, unknown> = {}): K8sObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { terminationGracePeriodSeconds: 2, ...pod, containers: [{ name, image: rng, ...container }] },
        },
      },
    });
    const sysctl0 = { securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } };
    const r = runner(
      [
        deployment('dead', { livenessProbe: { httpGet: { path: '/healthz', port: 81 }, periodSeconds: 1, failureThreshold: 2 } }, sysctl0),
        deployment(
          'unready',
          { env: [{ name: 'FAULT_UNREADY', value: 'on' }], readinessProbe: { httpGet: { path: '/readyz', port: 80 }, periodSeconds: 1 } },
          sysctl0,
        ),
        deployment('fine', { readinessProbe: { httpGet: { path: '/readyz', port: 80 }, periodSeconds: 1 } }, sysctl0),
        // As user 1000 (the image's), port 80, on a runtime that keeps ip_unprivileged_port_start=1024: EACCES, exits.
        deployment('port80', { readinessProbe: { httpGet: { path: '/readyz', port: 80 }, periodSeconds: 1 } }),
      ],
      1024,
      1,
    );
    await r.start();
    const dead = r.podsOf('dead')[0]!;
    const port80 = r.podsOf('port80')[0]!;
    const end = Date.now() + 90_000;
    while (Date.now() < end && (dead.restarts < 1 || port80.restarts < 1 || !r.podsOf('fine')[0]!.ready)) await sleep(500);
    assert.ok(dead.restarts >= 1, 'a failed liveness probe restarts the container');
    assert.match(dead.containers[0]!.status.lastRestartReason, /liveness probe failed 2 times/);
    assert.ok(r.podsOf('fine')[0]!.ready);
    const unready = r.podsOf('unready')[0]!;
    assert.equal(unready.ready, false, 'readiness failing: not ready');
    assert.ok(unready.containers[0]!.status.probes.readiness.failures >= 3);
    assert.equal(unready.restarts, 0, 'readiness never restarts');
    assert.ok(port80.restarts >= 1, 'port 80 as user 1000 with the runtime at 1024: the container exits and is restarted');
    assert.match(port80.containers[0]!.status.lastRestartReason, /exited/);
    assert.match(await port80.containers[0]!.logs(30), /EACCES/);
    await finish(r, 'probe semantics');
  });
});
