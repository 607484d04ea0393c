// SIGTERM/SIGINT: run the caller's ordered stop steps once, bounded by a hard deadline, then exit 0.
// A second signal while stopping exits at once.
import type { Logger } from './logger.js';

export function exitOnSignals(logger: Logger, deadlineMs: number, stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
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
