// Load shapes, pure: (shape, options, seed) → the schedule of worker counts over time, to the second. The same
// shape, options and seed always give the same schedule; only `spike` draws random numbers (a seeded PRNG).
// Times are seconds from the start, already divided by `speed` (a classroom demo at --speed 10 runs 10× faster).

export const SHAPES = ['step', 'ramp', 'sine', 'spike'] as const;
export type ShapeName = (typeof SHAPES)[number];

export interface ShapeOptions {
  min: number;
  max: number;
  /** The whole shape's length in seconds (before `speed`). */
  period: number;
  /** step: levels above min (the staircase min → max in `steps` rises); spike: how many spikes. Ignored by ramp and sine. */
  steps: number;
  seed: number;
  /** Time runs this many times faster than written (times in the schedule are divided by it). */
  speed: number;
}

/** At `at` seconds from the start, set the workers to `workers`. */
export interface Change {
  at: number;
  workers: number;
}

export interface Schedule {
  shape: ShapeName;
  options: ShapeOptions;
  /** The first change is at 0; consecutive changes differ in workers and in time. */
  changes: Change[];
  /** When the shape is over (seconds from the start, after speed). */
  duration: number;
}

export class ShapeError extends Error {}

/** Every level of a staircase held this long by default, so that an HPA (60 s up, 180 s down) can follow it. */
export const STEP_HOLD_DEFAULT_S = 300;
/** ramp, sine and spike: one period of 10 minutes by default (a sine shorter than the HPA's windows is just noise). */
export const PERIOD_DEFAULT_S = 600;

/** Defaults for a shape: 1 → 20 workers, HPA-friendly durations, seed 1, real time. */
export function defaultOptions(shape: ShapeName, given: Partial<ShapeOptions> = {}): ShapeOptions {
  const steps = given.steps ?? (shape === 'spike' ? 3 : 1);
  const period = given.period ?? (shape === 'step' ? STEP_HOLD_DEFAULT_S * (steps + 1) : PERIOD_DEFAULT_S);
  return { min: 1, max: 20, seed: 1, speed: 1, ...given, steps, period };
}

const MAX_WORKERS = 1000;

export function validate(shape: string, o: ShapeOptions): asserts shape is ShapeName {
  if (!(SHAPES as readonly string[]).includes(shape)) throw new ShapeError(`--shape: expected one of ${SHAPES.join(', ')}, got ${JSON.stringify(shape)}`);
  const whole = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new ShapeError(`--${name}: expected a whole number from ${lo} to ${hi}, got ${v}`);
  };
  whole('min', o.min, 0, MAX_WORKERS);
  whole('max', o.max, 0, MAX_WORKERS);
  if (o.max < o.min) throw new ShapeError(`--max (${o.max}) is below --min (${o.min})`);
  whole('steps', o.steps, 1, 100);
  whole('seed', o.seed, 0, 2 ** 32 - 1);
  if (!(o.period >= 1 && o.period <= 86_400)) throw new ShapeError(`--period: expected 1s to 24h, got ${o.period} s`);
  if (!(o.speed > 0 && o.speed <= 1000)) throw new ShapeError(`--speed: expected a factor above 0 and at most 1000, got ${o.speed}`);
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1); enough for reproducible spikes, not for secrets. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The shape in written time (seconds before speed), not yet merged. */
function raw(shape: ShapeName, o: ShapeOptions): Change[] {
  const { min, max, period, steps } = o;
  const span = max - min;
  switch (shape) {
    case 'step': {
      // min, then `steps` equal rises to max, every level held period / (steps + 1).
      const hold = period / (steps + 1);
      return Array.from({ length: steps + 1 }, (_, i) => ({ at: i * hold, workers: min + Math.round((span * i) / steps) }));
    }
    case 'ramp': {
      // A straight line from min (at 0) to max (at period): one change per worker added.
      const out: Change[] = [{ at: 0, workers: min }];
      for (let w = min + 1; w <= max; w++) out.push({ at: (period * (w - min)) / span, workers: w });
      return out;
    }
    case 'sine': {
      // One full wave: min at 0, max at period / 2, min again at period; sampled every second.
      const out: Change[] = [];
      for (let t = 0; t <= period; t++) out.push({ at: t, workers: min + Math.round((span * (1 - Math.cos((2 * Math.PI * t) / period))) / 2) });
      return out;
    }
    case 'spike': {
      // `steps` spikes, one in each equal slot of the period: each lasts 20–40 % of its slot, starts anywhere it
      // fits after the slot's first tenth (so that a spike never starts with the run), and rises to between
      // half-way and max. Between spikes: min.
      const random = prng(o.seed);
      const slot = period / steps;
      const out: Change[] = [{ at: 0, workers: min }];
      for (let i = 0; i < steps; i++) {
        const length = slot * (0.2 + 0.2 * random());
        const start = i * slot + 0.1 * slot + (0.9 * slot - length) * random();
        const height = min + Math.ceil(span * (0.5 + 0.5 * random()));
        out.push({ at: start, workers: height }, { at: start + length, workers: min });
      }
      return out;
    }
  }
}

/** The schedule: written times divided by speed and rounded to the second; within a second the last change wins. */
export function schedule(shape: string, given: Partial<ShapeOptions> = {}): Schedule {
  const options = defaultOptions(shape as ShapeName, given);
  validate(shape, options);
  const changes: Change[] = [];
  for (const c of raw(shape, options)) {
    const at = Math.round(c.at / options.speed);
    const last = changes[changes.length - 1];
    if (last && last.at === at) {
      last.workers = c.workers;
      if (changes.length > 1 && changes[changes.length - 2]!.workers === last.workers) changes.pop();
    } else if (!last || last.workers !== c.workers) changes.push({ at, workers: c.workers });
  }
  return { shape, options, changes, duration: Math.ceil(options.period / options.speed) };
}

/** `--print`: one line per change, "seconds workers". */
export function printable(s: Schedule): string {
  return s.changes.map((c) => `${c.at} ${c.workers}`).join('\n');
}

/** The workers the schedule asks for at `t` seconds from its start. */
export function workersAt(s: Schedule, t: number): number {
  let w = s.changes[0]!.workers;
  for (const c of s.changes) if (c.at <= t) w = c.workers;
  return w;
}

/** `90s`, `10m`, `1h`, `1500ms`, or a bare number of seconds → seconds. */
export function parseDuration(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new ShapeError(`--${name}: expected a duration such as 90s, 10m or 1h, got ${JSON.stringify(text)}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
