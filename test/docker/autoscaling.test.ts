// On a real Docker engine: the autoscaling component's httplat pod spec run as a kubelet would run it (a stand-in,
// not a cluster: its command, user, read-only root and dropped capabilities, on a network where `rng` is our rng
// image) starts and serves the httplat histogram of http://rng/; and `dockercoins load --compose` scales a Compose
// project's worker service through the docker-compose CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { engineReachable, testImages } from '../helpers/images.js';
import { waitFor } from '../helpers/net.js';
import { Proc } from '../helpers/proc.js';
import { needs } from '../helpers/skip.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const skip = needs(engineReachable(), 'no Docker engine reachable (scripts/test.sh starts one when run as root on Debian)');
const id = `wt24-${process.pid}`;

/** GET through node:http with a timer that keeps the event loop alive (fetch's abort timer does not). */
function httpGet(url: string, timeoutMs = 3000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
  });
}

async function docker(...args: string[]): Promise<string> {
  try {
    return (await run('docker', args, { timeout: 300_000, maxBuffer: 16 << 20 })).stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${e.stderr || e.message}`.slice(0, 2000));
  }
}

describe('autoscaling pieces on a real Docker engine', { skip }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let images: ReturnType<typeof testImages>;
  before(() => {
    images = testImages();
  });
  after(async () => {
    for (const undo of cleanup.reverse()) await undo().catch(() => undefined);
  });

  it("the httplat pod spec (a stand-in kubelet on Docker) starts and serves http://rng/'s latency", async () => {
    const objects = parseAllDocuments(readFileSync(join(root, 'deploy/kubernetes/components/autoscaling/httplat.yaml'), 'utf8')).map((d) => d.toJSON());
    const pod = objects.find((o) => o.kind === 'Deployment').spec.template.spec;
    const c = pod.containers[0];
    const net = `${id}-net`;
    await docker('network', 'create', net);
    cleanup.push(() => docker('network', 'rm', net));
    const rng = await docker('run', '-d', '--name', `${id}-rng`, '--network', net, '--network-alias', 'rng', images.rng);
    cleanup.push(() => docker('rm', '-f', rng));
    const [cmd, ...args] = c.command as string[];
    // The cluster's DNS name `rng`, as a hosts entry: this engine's embedded DNS does not answer on every setup.
    const rngIp = await docker('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', rng);
    const httplat = await docker(
      'run',
      '-d',
      '--name',
      `${id}-httplat`,
      '--network',
      net,
      '--add-host',
      `rng:${rngIp}`,
      '--user',
      `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`,
      '--read-only',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '-p',
      `127.0.0.1::${c.ports[0].containerPort}`,
      '--entrypoint',
      cmd!,
      images.worker,
      ...args,
    );
    cleanup.push(() => docker('rm', '-f', httplat));
    const hostPort = (await docker('port', httplat, `${c.ports[0].containerPort}/tcp`)).split(':').at(-1);
    const metrics = `http://127.0.0.1:${hostPort}${c.readinessProbe.httpGet.path}`;
    const text = await waitFor(
      'three probes of http://rng/ counted',
      async () => {
        const t = await httpGet(metrics)
          .then((r) => r.text)
          .catch(() => '');
        const n = Number(/^httplat_latency_seconds_count (\d+)/m.exec(t)?.[1] ?? 0);
        return n >= 3 ? t : false;
      },
      // rng's container may take a minute to listen on a busy shared engine
      180_000,
      500,
    );
    const live = await httpGet(`http://127.0.0.1:${hostPort}${c.livenessProbe.httpGet.path}`);
    assert.equal(live.status, 200);
    assert.match(text, /# TYPE httplat_latency_seconds histogram/);
    // Probes while rng was still starting count as failures (reason connect), apart from the latency.
    console.log(`httplat pod on Docker: ${/^httplat_latency_seconds_count .*/m.exec(text)?.[0]}, ${/^httplat_latency_seconds_sum .*/m.exec(text)?.[0]}`);
  });

  it('`load --compose PROJECT`: a ramp 1 → 3 scales the project’s worker service through docker-compose', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-load-compose-'));
    const file = join(dir, 'compose.yml');
    // A stand-in worker (busybox's sleep in the local redis image): what is tested is the scaling, not the mining.
    writeFileSync(file, 'services:\n  worker:\n    image: redis:7-alpine\n    command: ["sleep", "600"]\n    init: true\n');
    const project = `${id}-load`;
    cleanup.push(() => run('docker-compose', ['-f', file, '-p', project, 'down', '-t', '1'], { timeout: 120_000 }));
    const p = new Proc(['load', '--shape', 'ramp', '--min', '1', '--max', '3', '--period', '6s', '--compose', project, '--compose-file', file]);
    assert.equal(await p.exited, 0, p.output);
    assert.match(p.output, /annotation \(Compose has no dashboard API\): load ramp: workers 2 → 3 at 6 s/);
    const running = await docker('ps', '-q', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'label=com.docker.compose.service=worker');
    assert.equal(running.split('\n').filter(Boolean).length, 3);
  });
});
