// SIGTERM/SIGINT: run the caller's ordered stop steps once with one deadline (the stop resolves by it: every layer
// is given what is left of it), then exit 0. A second signal while stopping exits at once. SIGTERM_MODE=ignore:
// SIGTERM is ignored, as the original's processes did (the rollout lesson: pods stay Terminating until the grace
// period ends and they are killed).
import type { SigtermMode } from '../config.js';
import { Deadline } from './deadline.js';
import type { Logger } from './logger.js';

export function exitOnSignals(
  logger: Logger,
  deadlineMs: number,
  stop: (deadline: Deadline, signal: string) => Promise<unknown>,
  sigterm: SigtermMode = 'graceful',
): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signal === 'SIGTERM' && sigterm === 'ignore') {
      logger.warn('SIGTERM received: ignored (SIGTERM_MODE=ignore, as the original) — this process only stops when killed');
      return;
    }
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal} received: stopping`);
    const deadline = Deadline.in(deadlineMs);
    let done = false;
    // The stop is cut at the deadline layer by layer (the supervisor's cuts settle in the same turn of the event
    // loop as the deadline's timer); a stop step outside any layer that is still pending after that turn is a bug.
    deadline.signal.addEventListener('abort', () =>
      setImmediate(() => {
        if (done) return;
        logger.error(`still stopping at the ${deadlineMs} ms deadline: exiting anyway`);
        process.exit(1);
      }),
    );
    stop(deadline, signal).then(
      () => {
        done = true;
        process.exit(0);
      },
      (err: Error) => {
        done = true;
        logger.error({ err }, `stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
