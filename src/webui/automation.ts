// The lab's automation: a load shape playing on the worker count (POST/DELETE /api/lab/load), the HPA-on-latency
// autoscaler on the rng count (POST/DELETE /api/lab/autoscale), and the chart's annotations (POST
// /api/lab/annotations, from `dockercoins load --lab` or anyone with the lab's rights). Every change they make goes
// through the lab's one queue and leaves an annotation. State: `automation` in GET /api/lab.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AUTOSCALER_DEFAULTS, Autoscaler, type AutoscalerOptions } from '../autoscale/controller.js';
import { LoadRun } from '../load/runner.js';
import { parseDuration, ShapeError, type ShapeOptions, schedule } from '../load/shapes.js';
import { adminGuard } from '../platform/admin.js';
import { TEXT } from '../platform/http-service.js';
import type { Annotation, AutomationView, LabChange, LabScale } from '../telemetry.js';
import { LabInputError } from './lab.js';

const KEEP_ANNOTATIONS = 200;

export interface AutomationDeps {
  token: string;
  controllable: boolean;
  /** The lab's queue: one change at a time, in order. */
  apply(change: LabChange): Promise<void>;
  scale(): LabScale;
  /** rng instances' URLs (the all-in-one knows them); none: the autoscaler cannot probe. */
  endpoints(): string[];
}

function object(body: unknown): Record<string, unknown> {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = body === '' ? {} : JSON.parse(body);
    } catch {
      throw new LabInputError('body', `not JSON: ${JSON.stringify(body.slice(0, 60))}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LabInputError('body', 'expected a JSON object');
  return value as Record<string, unknown>;
}

function onlyKeys(input: Record<string, unknown>, known: string[]): void {
  for (const k of Object.keys(input)) if (!known.includes(k)) throw new LabInputError(k, `unknown field; known: ${known.join(', ')}`);
}

function num(input: Record<string, unknown>, key: string): number | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LabInputError(key, `expected a number, got ${JSON.stringify(v)}`);
  return v;
}

export function parseLoadBody(body: unknown): { shape: string; options: Partial<ShapeOptions> } {
  const input = object(body);
  onlyKeys(input, ['shape', 'min', 'max', 'period', 'steps', 'seed', 'speed']);
  if (typeof input.shape !== 'string') throw new LabInputError('shape', 'expected step, ramp, sine or spike');
  const options: Partial<ShapeOptions> = {};
  for (const k of ['min', 'max', 'steps', 'seed', 'speed'] as const) {
    const v = num(input, k);
    if (v !== undefined) options[k] = v;
  }
  if (typeof input.period === 'string') {
    try {
      options.period = parseDuration('period', input.period);
    } catch (err) {
      throw new LabInputError('period', (err as Error).message);
    }
  } else if (input.period !== undefined) options.period = num(input, 'period');
  return { shape: input.shape, options };
}

export function parseAutoscaleBody(body: unknown): AutoscalerOptions {
  const input = object(body);
  onlyKeys(input, ['target', 'minReplicas', 'maxReplicas', 'behavior', 'speed', 'path']);
  const o = { ...AUTOSCALER_DEFAULTS };
  const target = num(input, 'target');
  if (target !== undefined) {
    if (!(target > 0 && target <= 60)) throw new LabInputError('target', `expected seconds above 0 and at most 60, got ${target}`);
    o.target = target;
  }
  for (const k of ['minReplicas', 'maxReplicas'] as const) {
    const v = num(input, k);
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1 || v > 20) throw new LabInputError(k, `expected a whole number from 1 to 20 (the lab's rng limits), got ${v}`);
    o[k] = v;
  }
  if (o.maxReplicas < o.minReplicas) throw new LabInputError('maxReplicas', `below minReplicas (${o.minReplicas})`);
  if (input.behavior !== undefined) {
    if (input.behavior !== 'slide' && input.behavior !== 'v2')
      throw new LabInputError('behavior', 'expected "slide" (60 s up, 180 s down) or "v2" (the autoscaling/v2 defaults)');
    o.behavior = input.behavior;
  }
  const speed = num(input, 'speed');
  if (speed !== undefined) {
    if (!(speed > 0 && speed <= 100)) throw new LabInputError('speed', `expected a factor above 0 and at most 100, got ${speed}`);
    o.speed = speed;
  }
  if (input.path !== undefined) {
    if (typeof input.path !== 'string' || !/^\/\d{0,6}$/.test(input.path)) throw new LabInputError('path', 'expected "/" or "/<n>" (rng\'s routes)');
    o.path = input.path;
  }
  return o;
}

export class Automation {
  private readonly annotations: Annotation[] = [];
  private load?: LoadRun;
  private autoscaler?: Autoscaler;

  constructor(private readonly deps: AutomationDeps) {}

  annotate(text: string, by: string): void {
    this.annotations.push({ at: Date.now() / 1000, text, by });
    if (this.annotations.length > KEEP_ANNOTATIONS) this.annotations.shift();
  }

  startLoad(shape: string, options: Partial<ShapeOptions>): void {
    const s = schedule(shape, options);
    this.load?.stop();
    this.load = new LoadRun(s, {
      target: 'this lab',
      setWorkers: async (workers, note) => {
        await this.deps.apply({ worker: workers });
        this.annotate(note, 'lab load');
      },
    });
    this.load.done.catch((err: Error) => this.annotate(`load ${shape} stopped: ${err.message}`, 'lab load'));
    this.annotate(`load ${shape} started: ${s.changes.length} change(s) over ${s.duration} s`, 'lab load');
  }

  stopLoad(): void {
    if (this.load?.running) this.annotate(`load ${this.load.schedule.shape} stopped`, 'lab load');
    this.load?.stop();
  }

  async startAutoscaler(options: AutoscalerOptions): Promise<void> {
    await this.autoscaler?.stop();
    const a = new Autoscaler(options, {
      endpoints: () => this.deps.endpoints(),
      current: () => this.deps.scale().rng,
      scale: async (replicas, d) => {
        await this.deps.apply({ rng: replicas });
        this.annotate(
          `autoscaler: rng ${d.current} → ${replicas} (latency ${(d.metric * 1000).toFixed(0)} ms, target ${d.target * 1000} ms; ${d.reason})`,
          'autoscaler',
        );
      },
    });
    this.autoscaler = a;
    a.start();
    this.annotate(
      `autoscaler started: target ${options.target * 1000} ms on ${options.path}, ${options.behavior === 'slide' ? "the slide's windows (60 s up, 180 s down)" : 'the autoscaling/v2 defaults'}${options.speed !== 1 ? `, ${options.speed}× time` : ''}`,
      'autoscaler',
    );
  }

  async stopAutoscaler(): Promise<void> {
    if (this.autoscaler?.running) this.annotate('autoscaler stopped', 'autoscaler');
    await this.autoscaler?.stop();
  }

  async close(): Promise<void> {
    this.load?.stop();
    await this.autoscaler?.stop();
  }

  view(): AutomationView {
    const l = this.load;
    const a = this.autoscaler;
    return {
      load: l
        ? {
            shape: l.schedule.shape,
            seed: l.schedule.options.seed,
            speed: l.schedule.options.speed,
            startedAt: l.startedAt / 1000,
            duration: l.schedule.duration,
            changes: l.schedule.changes,
            next: Math.min(l.next, l.schedule.changes.length),
            running: l.running,
          }
        : null,
      autoscale: a
        ? {
            running: a.running,
            ...a.options,
            metric: a.metric(),
            decisions: a.decisions.map((d) => ({
              at: d.wallAt,
              current: d.current,
              metric: d.metric,
              target: d.target,
              proposed: d.proposed,
              desired: d.desired,
              limitedBy: d.limitedBy,
              reason: d.reason,
            })),
          }
        : null,
      annotations: [...this.annotations],
    };
  }
}

/** The routes, in a plugin of their own that reads any body as JSON text (as POST /api/lab does). */
export function registerAutomation(app: FastifyInstance, automation: Automation, deps: AutomationDeps): void {
  app.addHook('onClose', async () => automation.close());
  app.register(async (r) => {
    r.removeAllContentTypeParsers();
    r.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    const guard = { onRequest: adminGuard(deps.token, 'lab changes') };
    const answer = async (reply: FastifyReply, run: () => unknown) => {
      try {
        await run();
      } catch (err) {
        if (err instanceof LabInputError) return reply.code(400).type(TEXT).send(`lab: ${err.message}\n`);
        if (err instanceof ShapeError)
          return reply
            .code(400)
            .type(TEXT)
            .send(`lab: ${err.message.replace(/^--/, '')}\n`);
        throw err;
      }
      return reply.header('cache-control', 'no-store').send(automation.view());
    };
    const needsControl = (reply: FastifyReply) =>
      reply.code(409).type(TEXT).send('this webui runs alone: its lab cannot change the system, so it runs no load shape or autoscaler\n');

    r.post('/api/lab/annotations', guard, (req, reply) =>
      answer(reply, () => {
        const input = object(req.body);
        onlyKeys(input, ['text', 'by']);
        if (typeof input.text !== 'string' || input.text.length < 1 || input.text.length > 300) throw new LabInputError('text', 'expected 1 to 300 characters');
        const by = input.by ?? 'api';
        if (typeof by !== 'string' || by.length > 40) throw new LabInputError('by', 'expected at most 40 characters');
        automation.annotate(input.text, by);
      }),
    );
    r.post('/api/lab/load', guard, (req, reply) => {
      if (!deps.controllable) return needsControl(reply);
      return answer(reply, () => {
        const { shape, options } = parseLoadBody(req.body);
        automation.startLoad(shape, options);
      });
    });
    r.delete('/api/lab/load', guard, (_req, reply) => answer(reply, () => automation.stopLoad()));
    r.post('/api/lab/autoscale', guard, (req, reply) => {
      if (!deps.controllable) return needsControl(reply);
      return answer(reply, () => automation.startAutoscaler(parseAutoscaleBody(req.body)));
    });
    r.delete('/api/lab/autoscale', guard, (_req, reply) => answer(reply, () => automation.stopAutoscaler()));
  });
}
