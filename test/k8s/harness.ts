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
export function runner(objects: K8sObject[], unprivilegedPortStart = 1024, probeTimeoutScale = BUSY_MACHINE, namespace?: string): PodRunner {
  const r = new PodRunner(objects, { runId: `dctest-21-${process.pid}-${++runs}`, image, unprivilegedPortStart, probeTimeoutScale, namespace });
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

/**
 * The model's rates, as the other rate tests check them on this busy machine: 1 worker 3.33 hashes/s — at most its
 * ceiling +10 %, at least half of it; 10 workers on one rng plateau near 10 — at most 11, at least twice one worker.
 */
export async function assertRates(r: PodRunner, title: string): Promise<[number, number]> {
  await sleep(3000);
  const one = await measureRate(webuiOf(r), 20);
  console.log(`# ${title}: 1 worker ${one.toFixed(2)} hashes/s`);
  assert.ok(one >= 1.67 && one <= 3.67, `${title}, 1 worker: ${one.toFixed(2)} hashes/s, expected 3.33 (ceiling 3.67, floor 1.67)`);
  await r.scale('worker', 10);
  await r.waitReady(180_000);
  await sleep(5000);
  const ten = await measureRate(webuiOf(r), 20);
  console.log(`# ${title}: 10 workers ${ten.toFixed(2)} hashes/s`);
  assert.ok(ten <= 11 && ten >= 2 * one, `${title}, 10 workers: ${ten.toFixed(2)} hashes/s, expected a plateau near 10 (≤ 11, ≥ 2 × ${one.toFixed(2)})`);
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
