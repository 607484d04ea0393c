// The lab API on the webui: GET /api/lab (scale, limits, settings, faults, lesson progress), POST /api/lab (change any
// of them; applied in order, one change at a time; 200 with the new state once applied, 400 naming the field for
// anything else). POST passes the admin guard: loopback only, or a bearer token when ADMIN_TOKEN is set.
import type { FastifyInstance } from 'fastify';
import { adminGuard } from '../platform/admin.js';
import { TEXT } from '../platform/http-service.js';
import {
  FAULT_LATENCY_LIMIT,
  type FaultSettings,
  LAB_LIMITS,
  type LabChange,
  type LabFaults,
  type LabScale,
  type LabSettings,
  type LabState,
  type Snapshot,
} from '../telemetry.js';
import { Automation, registerAutomation } from './automation.js';
import type { Feed } from './feed.js';
import { LessonTracker } from './lessons.js';

/** What the lab drives: the all-in-one (everything), or nothing (a standalone webui watching an orchestrator's system). */
export interface LabControl {
  readonly controllable: boolean;
  current(latest: Snapshot): { scale: LabScale; settings: LabSettings | null; faults: LabFaults | null };
  apply(change: LabChange): Promise<void>;
  /** The rng instances' URLs, for the lab's autoscaler to probe (the all-in-one knows them). */
  endpoints?(kind: 'rng'): string[];
}

/** A standalone webui with LAB=on: it sees the scale in the measurements and cannot change it. */
export const watchOnly: LabControl = {
  controllable: false,
  current: (s) => ({ scale: { worker: s.workers.count, rng: s.rng.replicas, hasher: s.hasher.replicas }, settings: null, faults: null }),
  apply: async () => {
    throw new Error('unreachable: a watch-only lab refuses changes before applying them');
  },
};

export class LabInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const FAULT_FIELDS: Record<keyof FaultSettings, 'ms' | 'rate' | 'flag'> = { latencyMs: 'ms', errorRate: 'rate', hangRate: 'rate', unready: 'flag' };

function whole(field: string, value: unknown, { min, max }: { min: number; max: number }): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new LabInputError(field, `expected a whole number, got ${JSON.stringify(value)}`);
  if (value < min || value > max) throw new LabInputError(field, `expected ${min} to ${max}, got ${value}`);
  return value;
}

function record(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LabInputError(field, 'expected an object');
  return value as Record<string, unknown>;
}

/** A POST /api/lab body, checked field by field: every error names its field. */
export function parseLabChange(body: unknown): LabChange {
  const input = record('body', body);
  const change: LabChange = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'faults') {
      change.faults = {};
      for (const [service, faults] of Object.entries(record('faults', value))) {
        if (service !== 'rng' && service !== 'hasher') throw new LabInputError(`faults.${service}`, 'unknown service; known: rng, hasher');
        const parsed: Partial<FaultSettings> = {};
        for (const [f, v] of Object.entries(record(`faults.${service}`, faults))) {
          const field = `faults.${service}.${f}`;
          const kind = FAULT_FIELDS[f as keyof FaultSettings];
          if (kind === 'ms') parsed.latencyMs = whole(field, v, FAULT_LATENCY_LIMIT);
          else if (kind === 'rate') {
            if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new LabInputError(field, `expected a fraction from 0 to 1, got ${JSON.stringify(v)}`);
            parsed[f as 'errorRate' | 'hangRate'] = v;
          } else if (kind === 'flag') {
            if (typeof v !== 'boolean') throw new LabInputError(field, `expected true or false, got ${JSON.stringify(v)}`);
            parsed.unready = v;
          } else throw new LabInputError(field, `unknown fault; known: ${Object.keys(FAULT_FIELDS).join(', ')}`);
        }
        change.faults[service] = parsed;
      }
    } else if (key in LAB_LIMITS) {
      const k = key as keyof typeof LAB_LIMITS;
      change[k] = whole(k, value, LAB_LIMITS[k]);
    } else {
      throw new LabInputError(key, `unknown setting; known: ${[...Object.keys(LAB_LIMITS), 'faults'].join(', ')}`);
    }
  }
  return change;
}

export function registerLab(app: FastifyInstance, opts: { control: LabControl; feed: Feed; token: string }): void {
  const { control, feed } = opts;
  const lessons = new LessonTracker();
  let queue: Promise<unknown> = Promise.resolve();
  /** One change at a time, in the order they arrived (the lab's POSTs, the load shape, the autoscaler). */
  const applyInOrder = (change: LabChange): Promise<void> => {
    const applied = queue.then(() => control.apply(change));
    queue = applied.catch(() => undefined);
    return applied;
  };
  const deps = {
    token: opts.token,
    controllable: control.controllable,
    apply: applyInOrder,
    scale: () => control.current(feed.latest).scale,
    endpoints: () => control.endpoints?.('rng') ?? [],
  };
  const automation = new Automation(deps);
  registerAutomation(app, automation, deps);
  feed.subscribe((s) => {
    const { scale, settings } = control.current(s);
    lessons.update(s, scale, settings, Date.now(), { autoscaling: automation.view().autoscale?.running === true });
  });
  const state = (): LabState => ({
    controllable: control.controllable,
    ...control.current(feed.latest),
    limits: LAB_LIMITS,
    lessons: lessons.view(),
    automation: automation.view(),
  });

  app.get('/api/lab', async (_req, reply) => reply.header('cache-control', 'no-store').send(state()));

  app.register(async (lab) => {
    // Any content type: the body is read as JSON text (curl -d sends a form type; that is still JSON to us).
    lab.removeAllContentTypeParsers();
    lab.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    lab.post('/api/lab', { onRequest: adminGuard(opts.token, 'lab changes') }, async (req, reply) => {
      if (!control.controllable) {
        return reply
          .code(409)
          .type(TEXT)
          .send(
            'this webui runs alone: scale with your orchestrator (docker-compose up -d --scale worker=10, kubectl scale deployment worker --replicas=10)\n',
          );
      }
      let change: LabChange;
      try {
        const text = typeof req.body === 'string' ? req.body : '';
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new LabInputError('body', `not JSON: ${JSON.stringify(text.slice(0, 60))}`);
        }
        change = parseLabChange(body);
      } catch (err) {
        if (!(err instanceof LabInputError)) throw err;
        return reply.code(400).type(TEXT).send(`lab: ${err.message}\n`);
      }
      await applyInOrder(change);
      req.log.warn({ lab: change, from: req.ip }, `lab change from ${req.ip}: ${JSON.stringify(change)}`);
      return reply.header('cache-control', 'no-store').send(state());
    });
  });
}
