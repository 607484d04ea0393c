// SIGTERM/SIGINT: run the caller's ordered stop steps once, bounded by a hard deadline, then exit 0.
// A second signal while stopping exits at once. SIGTERM_MODE=ignore: SIGTERM is ignored, as the original's
// processes did (the rollout lesson: pods stay Terminating until the grace period ends and they are killed).
import type { SigtermMode } from '../config.js';
import type { Logger } from './logger.js';

export function exitOnSignals(logger: Logger, deadlineMs: number, stop: (signal: string) => Promise<void>, sigterm: SigtermMode = 'graceful'): void {
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
    const deadline = setTimeout(() => {
      logger.error(`still stopping after ${deadlineMs} ms: exiting anyway`);
      process.exit(1);
    }, deadlineMs);
    deadline.unref();
    stop(signal).then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err }, `stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
