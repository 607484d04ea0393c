// The telemetry contract: what a worker publishes about itself (WorkerStats), and what the webui computes from it
// for the dashboard (Snapshot). Worker, webui and the page (web/) all import these shapes from here, and only here.

export const PHASES = ['sleep', 'rng', 'hasher', 'ledger'] as const;
/** Where a work loop spends its time. */
export type Phase = (typeof PHASES)[number];

export const UPSTREAMS = ['rng', 'hasher'] as const;
export type UpstreamName = (typeof UPSTREAMS)[number];

/** What a failure is blamed on. */
export type Cause = UpstreamName | 'ledger';
export type ErrorKind = 'dns' | 'connect' | 'timeout' | 'status' | 'answer' | 'redis';
export const ERROR_KINDS: Record<Cause, readonly ErrorKind[]> = {
  rng: ['dns', 'connect', 'timeout', 'status', 'answer'],
  hasher: ['dns', 'connect', 'timeout', 'status', 'answer'],
  ledger: ['redis'],
};

/** Calls one work loop made to one upstream replica, since it started. */
export interface ReplicaCalls {
  upstream: UpstreamName;
  /** x-served-by of the replica (or its address). */
  replica: string;
  calls: number;
  /** Total milliseconds of those calls, queueing included. */
  ms: number;
  /** Requests rng had waiting when it last answered (x-rng-queue-depth). */
  queue?: number;
}

/** Running totals of one work loop, published to the stats board every flush. Rates come from differences. */
/** A unit of work whose trace was recorded (sampled): the dashboard links the slowest recent ones to a trace viewer. */
export interface SlowUnit {
  /** 32 hex digits. */
  traceId: string;
  ms: number;
  /** When it ended (unix ms, the worker's clock). */
  at: number;
}

export interface WorkerStats {
  /** Unique per loop and run. */
  worker: string;
  /** Display name: `worker.3` under `up`, `worker <host>/<pid>` for a lone process. */
  name: string;
  /** When these numbers were true (unix ms, the worker's clock). */
  at: number;
  startedAt: number;
  units: number;
  /** When the last of those units completed (unix ms; startedAt while there is none): the count is exact from then to `at`. */
  lastUnitAt: number;
  flushed: number;
  coins: number;
  phaseMs: Record<Phase, number>;
  rngTargets: number;
  hasherTargets: number;
  replicas: ReplicaCalls[];
  /** The last error per cause, while it lasts. */
  errors: Partial<Record<Cause, string>>;
  /** Tracing on: the slowest traced units of the last seconds, slowest first. */
  slowest?: SlowUnit[];
}

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** For stats read back from a shared store (Redis): anything else is dropped, never trusted. */
export function isWorkerStats(x: unknown): x is WorkerStats {
  if (!isRecord(x)) return false;
  const phases = x.phaseMs;
  return (
    typeof x.worker === 'string' &&
    typeof x.name === 'string' &&
    ['at', 'startedAt', 'units', 'lastUnitAt', 'flushed', 'coins', 'rngTargets', 'hasherTargets'].every((k) => isNumber(x[k])) &&
    isRecord(phases) &&
    PHASES.every((p) => isNumber(phases[p])) &&
    Array.isArray(x.replicas) &&
    x.replicas.every(
      (r) => isRecord(r) && UPSTREAMS.includes(r.upstream as UpstreamName) && typeof r.replica === 'string' && isNumber(r.calls) && isNumber(r.ms),
    ) &&
    isRecord(x.errors) &&
    Object.values(x.errors).every((e) => typeof e === 'string') &&
    (x.slowest === undefined || (Array.isArray(x.slowest) && x.slowest.every(isSlowUnit)))
  );
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const isSlowUnit = (x: unknown): x is SlowUnit => isRecord(x) && typeof x.traceId === 'string' && TRACE_ID.test(x.traceId) && isNumber(x.ms) && isNumber(x.at);

// ---- what the dashboard receives: one Snapshot per tick, computed by the webui --------------------------------

export interface UpstreamView {
  /** Distinct replicas that answered a worker within the window. */
  replicas: number;
  /** Mean call latency seen by the workers, queueing included. */
  latencyMs: number | null;
  /** Requests waiting in rng's queue(s), as last reported by rng to the workers. */
  queue: number | null;
  callsPerSecond: number;
}

export interface WorkerView {
  name: string;
  speed: number;
  errors: string[];
}

export interface Snapshot {
  /** unix seconds, webui clock */
  now: number;
  /** This webui serves the lab (GET /api/lab): the dashboard shows its panel only then. */
  lab: boolean;
  ledger: { ok: boolean; where: string; error?: string };
  hashes: number;
  coins: number;
  /** hashes/s over the window: the workers' own counts when they publish them, else ledgerSpeed; null at first. */
  speed: number | null;
  /** hashes/s: least-squares slope of the ledger counter over the window (time = webui's reading time). */
  ledgerSpeed: number | null;
  windowSeconds: number;
  recentCoins: { hex: string; at: number }[];
  workers: {
    count: number;
    /** Units all workers did over the window, divided by the window. */
    speed: number;
    /** The workers have published over at least 2 s, so `speed` is meaningful. */
    measured: boolean;
    /** Share of the workers' time by phase, 0..1. */
    phases: Record<Phase, number>;
    list: WorkerView[];
  };
  rng: UpstreamView;
  hasher: UpstreamView;
  /** TRACING_UI_URL set on the webui: the viewer and the slowest traced units of the window, slowest first. */
  traces: { ui: string; slowest: (SlowUnit & { worker: string })[] } | null;
}

/** [unix seconds, speed or null, hashes] */
export type Point = [number, number | null, number];

export const zeroPhases = (): Record<Phase, number> => ({ sleep: 0, rng: 0, hasher: 0, ledger: 0 });

/** The page's check of what arrives over /events (a webui of another version may send another shape). */
export function isSnapshot(x: unknown): x is Snapshot {
  return (
    isRecord(x) &&
    ['now', 'hashes', 'coins', 'windowSeconds'].every((k) => isNumber(x[k])) &&
    (x.speed === null || isNumber(x.speed)) &&
    typeof x.lab === 'boolean' &&
    isRecord(x.ledger) &&
    isRecord(x.workers) &&
    isRecord(x.workers.phases) &&
    Array.isArray(x.workers.list) &&
    isRecord(x.rng) &&
    isRecord(x.hasher) &&
    Array.isArray(x.recentCoins)
  );
}

export function isHistory(x: unknown): x is Point[] {
  return Array.isArray(x) && x.every((p) => Array.isArray(p) && p.length === 3 && isNumber(p[0]) && (p[1] === null || isNumber(p[1])) && isNumber(p[2]));
}

// ---- the lab: scaling and tuning the all-in-one from the dashboard (GET/POST /api/lab) --------------------------

/** How much of the past the feed keeps and the dashboard draws. */
export const HISTORY_S = 600;

/** The one limit of injected latency, wherever it is set: the admin API, the lab, FAULT_LATENCY_MS. */
export const FAULT_LATENCY_LIMIT = { min: 0, max: 600_000 } as const;

/** The one limit of each lab setting, wherever it is set: the lab, `up --scale`. */
export const LAB_LIMITS = {
  worker: { min: 0, max: 200 },
  rng: { min: 1, max: 20 },
  hasher: { min: 1, max: 20 },
  rngConcurrency: { min: 0, max: 100 },
  rngDelayMs: { min: 0, max: 10_000 },
  hasherDelayMs: { min: 0, max: 10_000 },
  workerDelayMs: { min: 0, max: 10_000 },
} as const;

export interface LabScale {
  worker: number;
  rng: number;
  hasher: number;
}

export interface LabSettings {
  /** 0 = unlimited. */
  rngConcurrency: number;
  rngDelayMs: number;
  hasherDelayMs: number;
  workerDelayMs: number;
}

/** Injected faults of one service: what the admin API, the lab and FAULT_* set. */
export interface FaultSettings {
  latencyMs: number;
  errorRate: number;
  hangRate: number;
  unready: boolean;
}

export interface LabFaults {
  rng: FaultSettings;
  hasher: FaultSettings;
}

/** What POST /api/lab accepts: any of these, validated field by field. */
export type LabChange = Partial<LabScale & LabSettings> & { faults?: { [S in keyof LabFaults]?: Partial<FaultSettings> } };

export interface LessonView {
  id: string;
  title: string;
  /** What to do for this step. */
  goal: string;
  /** Why it matters (the last step's point). */
  why?: string;
  done: boolean;
  /** Seconds the step's condition has held so far (it is done at 5). */
  holding: number;
}

export interface LabState {
  /** false: a standalone webui with LAB=on, which can watch but not scale (an orchestrator runs the services). */
  controllable: boolean;
  scale: LabScale;
  limits: typeof LAB_LIMITS;
  /** null where a read-only lab cannot know them. */
  settings: LabSettings | null;
  faults: LabFaults | null;
  lessons: LessonView[];
  /** The lab's load shape, autoscaler and chart annotations (absent on a watch-only lab). */
  automation?: AutomationView;
}

/** A mark on the dashboard's chart: what changed, when (unix seconds), by whom (a shape, the autoscaler, a CLI). */
export interface Annotation {
  at: number;
  text: string;
  by: string;
}

export interface LoadView {
  shape: string;
  seed: number;
  speed: number;
  /** unix seconds */
  startedAt: number;
  duration: number;
  changes: { at: number; workers: number }[];
  /** Index of the next change in `changes` (= changes.length when all are applied). */
  next: number;
  running: boolean;
}

export interface AutoscaleDecisionView {
  /** unix seconds */
  at: number;
  current: number;
  metric: number;
  target: number;
  proposed: number;
  desired: number;
  limitedBy: string[];
  reason: string;
}

export interface AutoscaleView {
  running: boolean;
  target: number;
  minReplicas: number;
  maxReplicas: number;
  behavior: 'slide' | 'v2';
  speed: number;
  /** What is probed (rng's `/` by default): the mean latency of its probes over `windowSeconds` is the metric. */
  path: string;
  windowSeconds: number;
  syncSeconds: number;
  /** The latest probes' mean, seconds; null before the first. */
  metric: number | null;
  decisions: AutoscaleDecisionView[];
}

export interface AutomationView {
  load: LoadView | null;
  autoscale: AutoscaleView | null;
  annotations: Annotation[];
}
