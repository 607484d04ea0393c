// One lifecycle for every way DockerCoins runs: components with start()/stop(), run by one Supervisor in the
// order they were added and stopped in reverse — by stage, so that what depends on a component is gone before it
// goes (workers flush into the ledger before it closes). Components can be added and removed while running.
import type { Deadline } from './deadline.js';
import type { Logger } from './logger.js';

export interface Component {
  /** Unique within a supervisor: `rng.2`, `workers`, `ledger`. */
  readonly name: string;
  start(): Promise<void>;
  /** Must resolve by the deadline; whatever is unfinished then is cut (the supervisor cuts it if it does not). */
  stop(deadline: Deadline): Promise<void>;
}

/** Start order, stop order reversed: the ledger first and last, workers last and first; tracing flushes after all. */
export const STAGES = ['tracing', 'ledger', 'rng', 'hasher', 'webui', 'workers'] as const;
export type Stage = (typeof STAGES)[number];

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

  /** Stops one component and forgets it; cut at the deadline. */
  async remove(name: string, deadline: Deadline): Promise<void> {
    const i = this.running.findIndex((e) => e.component.name === name);
    if (i < 0) return;
    const [entry] = this.running.splice(i, 1);
    await this.stopAll([entry!.component], deadline);
  }

  /**
   * Stops everything, later stages first, one stage at a time (in parallel within a stage), by one deadline: each
   * component gets the same deadline, and resolves by it or is cut there. Resolves by the deadline, with the names
   * of the components that were cut. Once it has passed, the remaining stages are still asked to stop (a Redis
   * disconnect, a thread terminated) but not waited for.
   */
  async stop(deadline: Deadline): Promise<string[]> {
    this.stopped = true;
    const cut: string[] = [];
    const order: string[] = [];
    for (let stage = STAGES.length - 1; stage >= 0; stage--) {
      const group = this.running.filter((e) => e.stage === stage).map((e) => e.component);
      if (group.length === 0) continue;
      cut.push(...(await this.stopAll(group, deadline)));
      order.push(group.map((c) => c.name).join(' + '));
    }
    this.running.length = 0;
    this.logger.info(`stopped ${order.join(' → ')}${cut.length ? ` (cut at the deadline: ${cut.join(', ')})` : ''}`);
    return cut;
  }

  /** Stops components in parallel until the deadline; the names of those still stopping then. */
  private async stopAll(components: Component[], deadline: Deadline): Promise<string[]> {
    const pending = new Set(components.map((c) => c.name));
    const stops = components.map(async (component) => {
      try {
        await component.stop(deadline);
      } catch (err) {
        this.logger.error({ err }, `${component.name} did not stop cleanly: ${(err as Error).message}`);
      }
      pending.delete(component.name);
    });
    if (await deadline.within(Promise.all(stops))) return [];
    const late = [...pending];
    if (late.length === 0) return [];
    this.logger.warn(`${late.join(', ')}: still stopping at the deadline: cut`);
    return late;
  }
}
