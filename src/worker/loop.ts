// One work loop, as the original's worker.py: sleep, ask rng for random bytes, have hasher hash them, keep the
// coin when the hash starts with 0, count the unit. A failure is logged and retried after a capped back-off.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerSettings } from '../config.js';
import type { Logger } from '../platform/logger.js';
import { rootSpan, type Span, type Tracer } from '../platform/tracing.js';
import type { Phase } from '../telemetry.js';
import type { LoopObserver } from './observer.js';
import type { Tally } from './tally.js';
import { type Upstream, UpstreamError } from './upstream.js';

const HEX64 = /^[0-9a-f]{64}$/;

export interface LoopParts {
  /** Read at every unit: the lab may change the delay while the loop runs. */
  settings: Readonly<Pick<WorkerSettings, 'delayMs' | 'rngBytes' | 'retryMaxMs' | 'coinDifficulty'>>;
  rng: Upstream;
  hasher: Upstream;
  tally: Tally;
  observer: LoopObserver;
  logger: Logger;
  tracer?: Tracer;
}

/**
 * Runs until `finish` (the current unit completes first) or `abort` (the unit in flight is abandoned: whoever aborts
 * also closes the upstreams, which ends the calls in flight). Only a unit whose hash came back is counted.
 */
export async function workLoop(p: LoopParts, finish: AbortSignal, abort: AbortSignal): Promise<void> {
  const { settings, rng, hasher, tally, observer, logger, tracer } = p;
  let failures = 0;
  while (!finish.aborted && !abort.aborted) {
    // The observer times each phase from `t` (no wrapper per call: at 10k units/s every promise counts).
    let cause: Phase = 'sleep';
    let t = performance.now();
    const started = t;
    const unit = async (span?: Span) => {
      const { delayMs, rngBytes, coinDifficulty } = settings;
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: finish });
      t = observer.spent('sleep', t);
      cause = 'rng';
      const random = await rng.request('GET', `/${rngBytes}`, undefined, span);
      t = observer.answered('rng', random, t);
      if (random.body.length !== rngBytes) throw new UpstreamError('rng', 'answer', `rng answered ${random.body.length} bytes, asked ${rngBytes}`);
      cause = 'hasher';
      const hashed = await hasher.request('POST', '/', random.body, span);
      t = observer.answered('hasher', hashed, t);
      const hex = hashed.body.toString('latin1');
      if (!HEX64.test(hex))
        throw new UpstreamError('hasher', 'answer', `hasher answered something that is not a SHA-256 hex: ${JSON.stringify(hex.slice(0, 80))}`);
      tally.unitDone();
      if (isCoin(hex, coinDifficulty)) tally.keepCoin(hex, random.body, span);
      else logger.debug('No coin found');
      if (span?.isRecording()) observer.traced(span.spanContext().traceId, performance.now() - started);
    };
    try {
      // With tracing on, each unit is one trace: its rng and hasher calls (and theirs), the coin saved. Its span is
      // passed along, never made active (see rootSpan).
      await rootSpan(tracer, 'unit', unit);
      failures = 0;
    } catch (err) {
      observer.spent(cause, t);
      if (finish.aborted || abort.aborted) break;
      const wait = backoff(++failures, settings.retryMaxMs);
      observer.failed(cause === 'sleep' ? 'rng' : cause, err as Error);
      logger.warn(`${(err as Error).message} — retrying in ${(wait / 1000).toFixed(1)} s`);
      await sleep(wait, undefined, { signal: finish }).catch(() => undefined);
    }
    observer.progress();
  }
}

/** Capped exponential back-off with jitter: 200 ms, 400 ms, … up to RETRY_MAX_MS. */
export function backoff(failures: number, maxMs: number): number {
  const base = Math.min(maxMs, 200 * 2 ** Math.min(failures - 1, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** The original's rule is one leading '0' (1 hash in 16); COIN_DIFFICULTY asks for more. */
export function isCoin(hex: string, difficulty: number): boolean {
  for (let i = 0; i < difficulty; i++) if (hex.charCodeAt(i) !== 48) return false;
  return true;
}
