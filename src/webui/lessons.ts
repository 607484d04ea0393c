// The workshop's scaling lesson as steps checked live from the measurements. A step is done once its condition has
// held for HOLD_MS; done steps stay done (progress lives in the webui, so it survives a page reload).
import type { LabScale, LabSettings, LessonView, Snapshot } from '../telemetry.js';

const HOLD_MS = 5000;

interface Lesson {
  id: string;
  title: string;
  goal: string;
  why?: string;
  holds(s: Snapshot, scale: LabScale, settings: LabSettings | null, context: LessonContext): boolean;
}

/** What the lab knows beyond the measurements: whether its autoscaler runs. */
export interface LessonContext {
  autoscaling: boolean;
}

const near = (value: number | null, target: number, tolerance = 0.1) => value !== null && Math.abs(value - target) <= target * tolerance;
/** The original's delays and rng one at a time; a read-only lab cannot know, and trusts the measurements. */
const faithful = (x: LabSettings | null) =>
  x === null || (x.rngConcurrency === 1 && x.rngDelayMs === 100 && x.hasherDelayMs === 100 && x.workerDelayMs === 100);

export const LESSONS: readonly Lesson[] = [
  {
    id: 'one-worker',
    title: 'One worker mines 3.33 hashes/s',
    goal: 'workers = 1, rng = 1 — each unit sleeps 100 ms, waits 100 ms for rng and 100 ms for hasher',
    holds: (s, n, x) => n.worker === 1 && n.rng === 1 && faithful(x) && near(s.speed, 10 / 3),
  },
  {
    id: 'two-workers',
    title: 'Two workers: twice as fast',
    goal: 'workers = 2 — about 6.67 hashes/s',
    holds: (s, n, x) => n.worker === 2 && n.rng === 1 && faithful(x) && near(s.speed, 20 / 3),
  },
  {
    id: 'ten-workers',
    title: 'Ten workers: not ten times faster — a plateau near 10, rng is the bottleneck',
    goal: 'workers = 10 — watch the speed stop near 10 and the verdict name rng',
    holds: (s, n, x) => n.worker === 10 && n.rng === 1 && faithful(x) && s.speed !== null && s.speed >= 9 && s.speed <= 10.5 && s.workers.phases.rng > 0.5,
  },
  {
    id: 'three-rng',
    title: 'Scale the bottleneck: three rng instances lift the plateau near 30',
    goal: 'rng = 3 (workers = 10)',
    holds: (s, n, x) => n.worker >= 10 && n.rng === 3 && faithful(x) && s.speed !== null && s.speed >= 27,
  },
  {
    id: 'unlimited-rng',
    title: 'The "fix" that removes the lesson: rng serves everyone at once',
    goal: 'rng = 1, rng concurrency unlimited (workers = 10) — about 33 hashes/s',
    why: 'Our rng only sleeps, so letting it serve everyone at once removes the bottleneck. The original rng is single-threaded code you cannot change from the orchestrator: what you can do — what the workshop teaches — is scale it out.',
    holds: (s, n, x) => {
      const unlimited = x === null ? true : x.rngConcurrency === 0 && x.rngDelayMs === 100 && x.hasherDelayMs === 100 && x.workerDelayMs === 100;
      return n.worker >= 10 && n.rng === 1 && unlimited && s.speed !== null && s.speed >= 30;
    },
  },
  {
    id: 'autoscale',
    title: 'Let an HPA scale rng on its latency: the plateau lifts without touching rng',
    goal: 'rng concurrency back to 1, start the autoscaler (target 100 ms) and a step load to 10 workers — rng ≥ 3, above 20 hashes/s',
    why: "The workshop's HPA lesson (hpa-v2): httplat measures rng's latency, the HPA adds rng replicas until it nears 100 ms. Watch the windows hold each decision (60 s up, 180 s down) and the replicas overshoot and come back — the slide's oscillations.",
    holds: (s, n, x, c) => c.autoscaling && faithful(x) && n.worker >= 10 && n.rng >= 3 && s.speed !== null && s.speed >= 20,
  },
];

export class LessonTracker {
  private readonly since = new Map<string, number>();
  private readonly done = new Set<string>();

  /** Called on every snapshot with the lab's current scale and settings. */
  update(s: Snapshot, scale: LabScale, settings: LabSettings | null, now = Date.now(), context: LessonContext = { autoscaling: false }): void {
    for (const lesson of LESSONS) {
      if (this.done.has(lesson.id)) continue;
      if (!lesson.holds(s, scale, settings, context)) {
        this.since.delete(lesson.id);
        continue;
      }
      const since = this.since.get(lesson.id) ?? now;
      this.since.set(lesson.id, since);
      if (now - since >= HOLD_MS) this.done.add(lesson.id);
    }
  }

  view(now = Date.now()): LessonView[] {
    return LESSONS.map(({ id, title, goal, why }) => {
      const done = this.done.has(id);
      const since = this.since.get(id);
      const holding = done ? HOLD_MS / 1000 : since === undefined ? 0 : Math.min(HOLD_MS, now - since) / 1000;
      return { id, title, goal, ...(why ? { why } : {}), done, holding };
    });
  }
}
