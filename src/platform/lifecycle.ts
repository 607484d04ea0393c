// One lifecycle for every way DockerCoins runs: components with start()/stop(), run by one Supervisor in the
// order they were added and stopped in reverse — by stage, so that what depends on a component is gone before it
// goes (workers flush into the ledger before it closes). Components can be added and removed while running.
import type { Logger } from './logger.js';

export interface Component {
  /** Unique within a supervisor: `rng.2`, `workers`, `ledger`. */
  readonly name: string;
  start(): Promise<void>;
  /** Must resolve by the deadline (ms from now); whatever is unfinished then is cut. */
  stop(deadlineMs: number): Promise<void>;
}

/** Start order, stop order reversed: the ledger first and last, workers last and first; tracing flushes after all. */
export const STAGES = ['tracing', 'ledger', 'rng', 'hasher', 'webui', 'workers'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * Waits for `work` at most `deadlineMs`: true if it settled by then (a rejection is the caller's to see elsewhere),
 * false if the deadline cut it. The timer is cleared either way, so nothing is left keeping the process up.
 */
export async function within(work: Promise<unknown> | undefined, deadlineMs: number): Promise<boolean> {
  if (!work) return true;
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadlineMs));
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      cut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface Entry {
  component: Component;
  stage: number;
}

export class Supervisor {
  private readonly running: Entry[] = [];
  private stopped = false;

  constructor(private readonly logger: Logger) {}

  get names(): string[] {
    return this.running.map((e) => e.component.name);
  }

  has(name: string): boolean {
    return this.running.some((e) => e.component.name === name);
  }

  /** Starts a component now; it stops with the others, in its stage. */
  async add(stage: Stage, component: Component): Promise<void> {
    if (this.stopped) throw new Error(`cannot add ${component.name}: stopping`);
    if (this.has(component.name)) throw new Error(`${component.name} is running already`);
    await component.start();
    this.running.push({ component, stage: STAGES.indexOf(stage) });
  }

  /** Stops one component and forgets it. */
  async remove(name: string, deadlineMs: number): Promise<void> {
    const i = this.running.findIndex((e) => e.component.name === name);
    if (i < 0) return;
    const [entry] = this.running.splice(i, 1);
    await entry!.component.stop(deadlineMs);
  }

  /** Stops everything, later stages first, one stage at a time (in parallel within a stage), by a shared deadline. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopped = true;
    const end = Date.now() + deadlineMs;
    for (let stage = STAGES.length - 1; stage >= 0; stage--) {
      const group = this.running.filter((e) => e.stage === stage);
      await Promise.all(
        group.map(async ({ component }) => {
          try {
            await component.stop(Math.max(0, end - Date.now()));
          } catch (err) {
            this.logger.error({ err }, `${component.name} did not stop cleanly: ${(err as Error).message}`);
          }
        }),
      );
    }
    this.running.length = 0;
  }
}
