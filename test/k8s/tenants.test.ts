// Two namespace tenants on one shared Redis, run from the chart's rendered objects by the pod runner (a kubelet's
// pod semantics on the Docker engine): the shared Redis release in "redis", each tenant's ACL Job pod run there (with
// the admin Secret of that namespace), then student-a and student-b each mining with its own ACL user; from A's
// worker pod, with A's credentials (its REDIS_URL from A's Secret), B's keys → NOPERM.
// Not a cluster: no NetworkPolicy enforcement here (reachability.test.ts evaluates the policies), no Job controller
// (the Job's pod runs once), no quota admission (chart-tenancy.test.ts checks the quota arithmetic).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { finish, runner, skip, stopAll, sweepDeadRuns, webuiOf } from './harness.js';
import type { K8sObject, PodRunner, RunningPod } from './pod-runner.js';
import { CHART, helmTemplate } from './render.js';

const tenant = (ns: string) => helmTemplate(ns, '-n', ns, '-f', `${CHART}/values-tenant-example.yaml`);

/** A Job's pod as the Job controller would create it, once (restartPolicy Never: its first exit is the result). */
function jobPod(job: K8sObject): K8sObject {
  const t = (job.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } }).template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: job.metadata.name, labels: t.metadata.labels, annotations: { 'helm.sh/hook': 'test' } },
    spec: { ...t.spec, restartPolicy: 'Never' },
  };
}

/** Runs node in a pod's container with its own environment (REDIS_URL from its Secret) and returns what it prints. */
async function inPod(r: PodRunner, pod: RunningPod, script: string): Promise<string> {
  const exec = await r.engine.getContainer(pod.containers[0]!.id).exec({ Cmd: ['node', '-e', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString('utf8')));
  stream.on('error', () => undefined);
  const end = Date.now() + 60_000;
  while (Date.now() < end && (await exec.inspect()).Running) await sleep(200);
  await sleep(200);
  // The attach stream is multiplexed (an 8-byte header before each frame): callers read what follows their marker.
  return out;
}

// With the pod's REDIS_URL (A's Secret), in RESP over a plain socket (the images bundle their client): AUTH as the
// URL's user, then GET/SET of B's key, KEYS, GET of A's own key. Prints "@@ <command> → <first line of the reply>".
const PROBE = `
const net = require('node:net');
const u = new URL(process.env.REDIS_URL);
const cmds = [['AUTH', decodeURIComponent(u.username), decodeURIComponent(u.password)], ['GET', 'student-b:hashes'], ['SET', 'student-b:hashes', '0'], ['KEYS', '*'], ['GET', 'student-a:hashes']];
const resp = (a) => '*' + a.length + '\\r\\n' + a.map((x) => '$' + Buffer.byteLength(x) + '\\r\\n' + x + '\\r\\n').join('');
const s = net.connect(Number(u.port || 6379), u.hostname, () => s.write(cmds.map(resp).join('')));
let buf = '';
s.on('data', (d) => (buf += d));
setTimeout(() => {
  const lines = buf.split('\\r\\n');
  const replies = [];
  for (let i = 0; i < lines.length && replies.length < cmds.length; i++) {
    const l = lines[i];
    if (l.startsWith('$') && l !== '$-1') replies.push(JSON.stringify(lines[++i]));
    else replies.push(l.startsWith('-') ? l.slice(1).split(' ')[0] : l);
  }
  cmds.forEach((c, i) => console.log('@@ ' + (c[0] === 'AUTH' ? 'AUTH ' + c[1] : c.join(' ')) + ' → ' + replies[i]));
  s.destroy();
}, 3000);`;

describe('two namespace tenants on one shared Redis, through the pod runner (no NetworkPolicy enforcement, no Job controller)', { skip }, () => {
  before(sweepDeadRuns);
  after(stopAll);

  it('the ACL Jobs create both users; both tenants mine; from A’s pod with A’s credentials B’s key → NOPERM', async () => {
    const objects = { a: tenant('student-a'), b: tenant('student-b') };
    const jobs = [objects.a, objects.b].map(
      (os) => os.find((o) => o.kind === 'Job' && o.metadata.annotations?.['helm.sh/hook'] === 'pre-install,pre-upgrade')!,
    );
    assert.ok(jobs.every((j) => j.metadata.namespace === 'redis'));
    const redis = runner([...helmTemplate('redis', '-n', 'redis', '-f', `${CHART}/values-shared-redis.yaml`), ...jobs.map(jobPod)], 1024, undefined, 'redis');
    await redis.start();
    await redis.waitReady(180_000);
    const acl = await redis.runTests(120_000);
    assert.equal(acl.length, 2);
    for (const j of acl) assert.equal(j.exitCode, 0, `${j.name}: ACL SETUSER and ACL SAVE answered OK\n${j.logs}`);
    for (const j of acl) assert.match(j.logs, /ACL SETUSER student-[ab] reset on #… ~student-[ab]:\* .* → OK\nACL SAVE → OK/);

    // Only the tenant's own objects: its ACL Job ran above, beside Redis (its post-delete Job: chart-tenancy.test.ts).
    const own = (os: K8sObject[]) => os.filter((o) => o.kind !== 'Job');
    const a = runner(own(objects.a), 1024, undefined, 'student-a');
    const b = runner(own(objects.b), 1024, undefined, 'student-b');
    for (const t of [a, b]) {
      await redis.exposeTo(t);
      await t.start();
    }
    for (const t of [a, b]) await t.waitReady(240_000);
    const hashes = async (r: PodRunner) =>
      ((await (await fetch(`${webuiOf(r)}/json`, { signal: AbortSignal.timeout(10_000) })).json()) as { hashes: number }).hashes;
    const before = [await hashes(a), await hashes(b)];
    await sleep(15_000);
    const after = [await hashes(a), await hashes(b)];
    console.log(`# hashes in 15 s: student-a ${before[0]} → ${after[0]}, student-b ${before[1]} → ${after[1]}`);
    assert.ok(after[0]! > before[0]! && after[1]! > before[1]!, 'both tenants mine');

    const out = await inPod(a, a.podsOf('worker')[0]!, PROBE);
    const lines = out
      .split('\n')
      .filter((l) => l.includes('@@ '))
      .map((l) => l.slice(l.indexOf('@@ ') + 3).trim());
    console.log(`# from student-a's worker pod, as ACL user student-a:\n${lines.map((l) => `#   ${l}`).join('\n')}`);
    assert.deepEqual(lines.slice(0, 4), ['AUTH student-a → +OK', 'GET student-b:hashes → NOPERM', 'SET student-b:hashes 0 → NOPERM', 'KEYS * → NOPERM'], out);
    assert.match(lines[4] ?? '', /^GET student-a:hashes → "\d+"$/, out);

    const tests = [...(await a.runTests(120_000)), ...(await b.runTests(120_000))];
    for (const t of tests) assert.equal(t.exitCode, 0, `${t.name}: helm test doctor as the tenant's ACL user\n${t.logs}`);
    for (const [r, title] of [
      [a, 'tenant student-a'],
      [b, 'tenant student-b'],
      [redis, 'shared Redis (namespace redis) + the ACL Jobs’ pods'],
    ] as const)
      await finish(r, title);
  });
});
