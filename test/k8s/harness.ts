// What the pod-runner tests share: the runner with this machine's settings (images from testImages(), names
// dctest-21-<pid>-<n>-…, probe timeouts for a busy shared machine), its report, the rate check, the clean-up.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectEngine } from '../../src/engine/docker.js';
import { engineReachable } from '../helpers/images.js';
import { measureRate } from '../helpers/rate.js';
import { localImages } from './images.js';
import { type K8sObject, PodRunner, sweepRuns } from './pod-runner.js';

export const engine = engineReachable();
export const skip = engine || process.env.CI === 'true' ? false : 'no Docker engine reachable (scripts/test.sh starts one when run as root on Debian)';
const image = engine ? localImages() : () => null;
const runners: PodRunner[] = [];
let runs = 0;

// The probes' timeouts ×4 for the rendered objects: on this shared 2-core machine a single `docker exec` (Redis's
// readiness probe) takes 2–4 s at times (measured), so 1 s timeouts fail for the machine, not for the pod. Periods,
// failure thresholds, startup gating and liveness restarts stay the kubelet's; the probe-semantics test runs at ×1.
export const BUSY_MACHINE = 4;

/** A runner for these objects; everything it makes is named dctest-21-<pid>-<n>-… and removed after the test. */
export function runner(objects: K8sObject[], unprivilegedPortStart = 1024, probeTimeoutScale = BUSY_MACHINE): PodRunner {
  const r = new PodRunner(objects, { runId: `dctest-21-${process.pid}-${++runs}`, image, unprivilegedPortStart, probeTimeoutScale });
  runners.push(r);
  return r;
}

export async function finish(r: PodRunner, title: string): Promise<string[]> {
  const report = r.report();
  console.log(`# pod runner: ${title}\n${report.map((l) => `#   ${l}`).join('\n')}`);
  await r.stop();
  return report;
}

export const webuiOf = (r: PodRunner, name = 'webui') => `http://${r.podsOf(name)[0]!.ip}`;

/** 1 worker ≈ 3.33 hashes/s; 10 workers on one rng plateau near 10 (fits over 20 s, margins for a busy 2-core machine). */
export async function assertRates(r: PodRunner, title: string): Promise<[number, number]> {
  await sleep(3000);
  const one = await measureRate(webuiOf(r), 20);
  console.log(`# ${title}: 1 worker ${one.toFixed(2)} hashes/s`);
  await r.scale('worker', 10);
  await r.waitReady(180_000);
  await sleep(5000);
  const ten = await measureRate(webuiOf(r), 20);
  console.log(`# ${title}: 1 worker ${one.toFixed(2)} hashes/s, 10 workers ${ten.toFixed(2)} hashes/s`);
  assert.ok(one >= 3.0 && one <= 3.67, `${title}, 1 worker: ${one.toFixed(2)} hashes/s, expected 3.33 ± 10 %`);
  assert.ok(ten >= 7 && ten <= 11, `${title}, 10 workers: ${ten.toFixed(2)} hashes/s, expected a plateau near 10`);
  return [one, ten];
}

/** Removes what earlier runs of these tests left when their process died before the clean-up. */
export async function sweepDeadRuns(): Promise<void> {
  const gone = (runId: string) => {
    const pid = /^dctest-21-(\d+)-/.exec(runId)?.[1];
    if (!pid) return false;
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch {
      return true;
    }
  };
  await sweepRuns(connectEngine(), gone);
}

/** Stops every runner made here (their containers and networks). */
export async function stopAll(): Promise<void> {
  for (const r of runners) await r.stop().catch(() => undefined);
}
