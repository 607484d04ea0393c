// Plays a schedule against a driver: each change at its second (from a start time), one after the other, until the
// schedule is over or it is stopped. The clock is injectable so that tests and the lab can run it without waiting.
import type { Change, Schedule } from './shapes.js';

/** Where the worker count goes: the lab API, a Compose project, a tenant, a Kubernetes Deployment. */
export interface LoadDriver {
  /** Human words for the target ("the lab at http://127.0.0.1:8000"). */
  readonly target: string;
  /** Sets the workers; `note` says what changed and why (annotations where the target can take one). */
  setWorkers(workers: number, note: string): Promise<void>;
}

export interface RunEvents {
  /** After a change was applied: its planned time, the seconds actually elapsed, the note. */
  applied?(change: Change, elapsed: number, note: string): void;
}

export function noteFor(s: Schedule, change: Change, previous: number | null): string {
  const seed = s.shape === 'spike' ? ` seed ${s.options.seed}` : '';
  const from = previous === null ? '' : `${previous} → `;
  return `load ${s.shape}${seed}: workers ${from}${change.workers} at ${change.at} s`;
}

export class LoadRun {
  private stopped = false;
  private wake?: () => void;
  readonly done: Promise<void>;
  /** Index of the next change to apply. */
  next = 0;

  constructor(
    readonly schedule: Schedule,
    private readonly driver: LoadDriver,
    readonly startedAt: number = Date.now(),
    events: RunEvents = {},
  ) {
    this.done = this.play(events);
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  get running(): boolean {
    return !this.stopped && this.next <= this.schedule.changes.length;
  }

  private async sleepUntil(ms: number): Promise<void> {
    const wait = ms - Date.now();
    if (wait <= 0 || this.stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async play(events: RunEvents): Promise<void> {
    let previous: number | null = null;
    for (const change of this.schedule.changes) {
      await this.sleepUntil(this.startedAt + change.at * 1000);
      if (this.stopped) return;
      const note = noteFor(this.schedule, change, previous);
      await this.driver.setWorkers(change.workers, note);
      previous = change.workers;
      this.next++;
      events.applied?.(change, (Date.now() - this.startedAt) / 1000, note);
    }
    // The last level holds until the shape is over.
    await this.sleepUntil(this.startedAt + this.schedule.duration * 1000);
    this.next++;
    this.stopped = true;
  }
}
