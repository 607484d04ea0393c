// The live feed: every tick the webui reads the ledger (totals, recent coins) and the stats board, computes one
// Snapshot, keeps a history, and pushes it to every browser over Server-Sent Events (GET /events). It ticks twice a
// second only while someone listens (a dashboard, the lab); otherwise every few seconds, and a snapshot asked for over
// HTTP is computed then — thirty idle dashboards on one machine should cost next to nothing.
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Ledger } from '../ledger/ledger.js';
import { TEXT } from '../platform/http-service.js';
import { type Tracer, traced } from '../platform/tracing.js';
import { HISTORY_S, PHASES, type Point, type Snapshot, type UpstreamName, type UpstreamView, type WorkerStats, zeroPhases } from '../telemetry.js';
import { slope } from './speed.js';
import { windowSpeed } from './window.js';

const TICK_MS = 500;
/** Nobody listening: a tick this often keeps the history (a dashboard opened later draws it) and the speed's window. */
const IDLE_TICK_MS = 5000;
const WINDOW_S = 10;
/** A worker that has not published for this long (they do every second) has stopped. */
const STALE_MS = 2500;
const KEEP_EXTRA_MS = 2000;
/** The speed is shown once the window covers this much. */
const MIN_WINDOW_MS = 2000;
const MAX_CLIENTS = 200;
/**
 * Bytes a dashboard may leave unread (a tab on a sleeping laptop): the history (~1,200 points) and a minute of
 * snapshots fit many times over; beyond it the stream is closed and the browser, reconnecting, gets a fresh history.
 */
export const MAX_UNREAD_BYTES = 4 << 20;

export interface FeedOptions {
  /** Tracing on: each tick is a trace of its Redis reads. */
  tracer?: Tracer;
  /** This webui serves the lab. */
  lab?: boolean;
  /** TRACING_UI_URL: the slowest recent units link to their traces there. */
  tracingUi?: string;
}

/** How many of the slowest traced units the dashboard lists. */
const SLOWEST = 5;

interface ReplicaTotals {
  calls: number;
  ms: number;
  queue?: number;
}

export class Feed {
  private readonly samples: [number, number][] = [];
  readonly history: Point[] = [];
  private readonly perWorker = new Map<string, WorkerStats[]>();
  latest: Snapshot;
  private timer?: NodeJS.Timeout;
  private timerMs = 0;
  private started = false;
  private ticking?: Promise<Snapshot>;
  private readonly listeners = new Set<(s: Snapshot) => void>();

  constructor(
    private readonly ledger: Pick<Ledger, 'accounts' | 'board' | 'where'>,
    private readonly options: FeedOptions = {},
  ) {
    this.latest = emptySnapshot(ledger.where, options);
  }

  start(): void {
    this.started = true;
    this.schedule();
    void this.tick();
  }

  stop(): void {
    this.started = false;
    this.schedule();
  }

  subscribe(fn: (s: Snapshot) => void): () => void {
    this.listeners.add(fn);
    this.schedule();
    return () => {
      this.listeners.delete(fn);
      this.schedule();
    };
  }

  /** Milliseconds since the last tick. */
  private age(): number {
    return Date.now() - this.latest.now * 1000;
  }

  /** The last tick is under TICK_MS old. */
  fresh(): boolean {
    return this.age() < TICK_MS;
  }

  /** The snapshot, computed now unless the last tick is fresh (for HTTP callers, when nobody listens). */
  current(): Promise<Snapshot> {
    return this.fresh() ? Promise.resolve(this.latest) : this.tick();
  }

  /** One tick; a call while one runs gets that tick's snapshot. */
  tick(): Promise<Snapshot> {
    this.ticking ??= this.once().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private schedule(): void {
    const ms = !this.started ? 0 : this.listeners.size > 0 ? TICK_MS : IDLE_TICK_MS;
    if (ms === this.timerMs) return;
    clearInterval(this.timer);
    // A tick someone asked for in between (the class page's) makes the timer's unneeded.
    this.timer = ms ? setInterval(() => void (this.age() >= ms - TICK_MS && this.tick()), ms) : undefined;
    this.timerMs = ms;
  }

  private async once(): Promise<Snapshot> {
    this.latest = await traced(this.options.tracer, 'webui tick', () => this.compute(Date.now() / 1000));
    this.history.push([this.latest.now, this.latest.speed, this.latest.hashes]);
    while (this.history.length > 0 && this.history[0]![0] < this.latest.now - HISTORY_S) this.history.shift();
    for (const fn of this.listeners) fn(this.latest);
    return this.latest;
  }

  private async compute(now: number): Promise<Snapshot> {
    const prev = this.latest;
    const { accounts, board } = this.ledger;
    let totals: { hashes: number; coins: number };
    let coins: Snapshot['recentCoins'];
    let stats: WorkerStats[];
    try {
      [totals, coins, stats] = await Promise.all([accounts.totals(), accounts.recentCoins(8), board.read()]);
    } catch (err) {
      this.samples.length = 0;
      return { ...prev, now, speed: null, ledger: { ok: false, where: this.ledger.where, error: (err as Error).message } };
    }
    // A counter that went down (Redis flushed, restarted empty) starts a new series.
    if (this.samples.length > 0 && totals.hashes < this.samples[this.samples.length - 1]![1]) this.samples.length = 0;
    this.samples.push([now, totals.hashes]);
    while (this.samples.length > 0 && this.samples[0]![0] < now - WINDOW_S) this.samples.shift();
    const span = this.samples.length > 1 ? now - this.samples[0]![0] : 0;
    const fitted = span >= 2 ? slope(this.samples) : null;
    const views = this.workerViews(stats);
    // Workers' own timestamps give the exact rate; the ledger fit covers workers that publish nothing
    // (the original's, sharing our Redis).
    const speed = views.workers.measured ? views.workers.speed : fitted === null ? null : Math.max(0, fitted);
    return {
      now,
      lab: this.options.lab === true,
      ledger: { ok: true, where: this.ledger.where },
      hashes: totals.hashes,
      coins: totals.coins,
      speed,
      ledgerSpeed: fitted === null ? null : Math.max(0, fitted),
      windowSeconds: WINDOW_S,
      recentCoins: coins,
      ...views,
    };
  }

  /** Speed over one window common to all workers (window.ts); time by phase and calls per replica over the same. */
  private workerViews(stats: WorkerStats[]): Pick<Snapshot, 'workers' | 'rng' | 'hasher' | 'traces'> {
    const seen = new Set<string>();
    for (const s of stats) {
      seen.add(s.worker);
      const list = this.perWorker.get(s.worker) ?? [];
      if (list.length === 0 || list[list.length - 1]!.at < s.at) list.push(s);
      this.perWorker.set(s.worker, list);
    }
    for (const id of this.perWorker.keys()) if (!seen.has(id)) this.perWorker.delete(id);
    const histories = [...this.perWorker.values()];
    const newest = Math.max(0, ...histories.map((h) => h[h.length - 1]!.at));
    // Keep what covers the window: every publication since, and the last one before it.
    for (const h of histories) while (h.length > 1 && h[1]!.at <= newest - WINDOW_S * 1000 - KEEP_EXTRA_MS) h.shift();

    const reading = windowSpeed(histories, WINDOW_S * 1000, STALE_MS);
    const phaseMs = zeroPhases();
    const calls: Record<UpstreamName, Map<string, ReplicaTotals>> = { rng: new Map(), hasher: new Map() };
    const list = [];
    const slowest = [];
    for (const [i, h] of histories.entries()) {
      const last = h[h.length - 1]!;
      if (last.at < newest - STALE_MS) continue; // stopped: gone from the list and the count
      const first = [...h].reverse().find((s) => reading && s.at <= reading.start) ?? h[0]!;
      for (const p of PHASES) phaseMs[p] += last.phaseMs[p] - first.phaseMs[p];
      for (const r of last.replicas) {
        const before = first.replicas.find((b) => b.upstream === r.upstream && b.replica === r.replica);
        const agg = calls[r.upstream].get(r.replica) ?? { calls: 0, ms: 0 };
        agg.calls += r.calls - (before?.calls ?? 0);
        agg.ms += r.ms - (before?.ms ?? 0);
        if (r.queue !== undefined) agg.queue = Math.max(agg.queue ?? 0, r.queue);
        calls[r.upstream].set(r.replica, agg);
      }
      const seconds = reading ? (reading.end - reading.start) / 1000 : 0;
      for (const u of last.slowest ?? []) if (u.at >= newest - WINDOW_S * 1000) slowest.push({ ...u, worker: last.name });
      list.push({ name: last.name, speed: reading && seconds > 0 ? reading.units[i]! / seconds : 0, errors: Object.values(last.errors) });
    }
    const allMs = PHASES.reduce((a, p) => a + phaseMs[p], 0);
    const phases = zeroPhases();
    for (const p of PHASES) phases[p] = allMs > 0 ? phaseMs[p] / allMs : 0;
    list.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    const measured = reading !== null && reading.end - reading.start >= MIN_WINDOW_MS;
    return {
      workers: { count: list.length, speed: reading?.speed ?? 0, measured, phases, list },
      rng: upstreamView(calls.rng),
      hasher: upstreamView(calls.hasher),
      traces: this.options.tracingUi ? { ui: this.options.tracingUi, slowest: slowest.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST) } : null,
    };
  }
}

function upstreamView(replicas: Map<string, ReplicaTotals>): UpstreamView {
  let calls = 0;
  let ms = 0;
  let queue: number | null = null;
  let active = 0;
  for (const r of replicas.values()) {
    if (r.calls <= 0) continue;
    active++;
    calls += r.calls;
    ms += r.ms;
    if (r.queue !== undefined) queue = (queue ?? 0) + r.queue;
  }
  return { replicas: active, latencyMs: calls > 0 ? ms / calls : null, queue, callsPerSecond: calls / WINDOW_S };
}

function emptySnapshot(where: string, { lab = false, tracingUi }: FeedOptions): Snapshot {
  const none: UpstreamView = { replicas: 0, latencyMs: null, queue: null, callsPerSecond: 0 };
  return {
    now: Date.now() / 1000,
    lab,
    ledger: { ok: true, where },
    hashes: 0,
    coins: 0,
    speed: null,
    windowSeconds: WINDOW_S,
    recentCoins: [],
    ledgerSpeed: null,
    workers: { count: 0, speed: 0, measured: false, phases: zeroPhases(), list: [] },
    rng: none,
    hasher: { ...none },
    traces: tracingUi ? { ui: tracingUi, slowest: [] } : null,
  };
}

export function registerFeed(app: FastifyInstance, ledger: Pick<Ledger, 'accounts' | 'board' | 'where'>, options: FeedOptions = {}): Feed {
  const feed = new Feed(ledger, options);
  const clients = new Set<ServerResponse>();
  app.addHook('onListen', async () => feed.start());
  app.addHook('onClose', async () => feed.stop());
  app.stopping.addEventListener('abort', () => {
    feed.stop();
    for (const res of clients) res.end();
  });

  app.get('/api/snapshot', async (_req, reply) => reply.header('cache-control', 'no-store').send(await feed.current()));
  app.get('/api/history', async (_req, reply) => reply.header('cache-control', 'no-store').send(feed.history));

  app.get('/events', (req, reply) => {
    if (req.method === 'HEAD') return reply.type('text/event-stream; charset=utf-8').header('cache-control', 'no-store').send();
    if (clients.size >= MAX_CLIENTS) {
      return reply.code(503).header('retry-after', '5').type(TEXT).send(`webui: too many live dashboards (${MAX_CLIENTS}); try again later\n`);
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = eventWriter(res, MAX_UNREAD_BYTES, (unread) => req.log.info(`dashboard not reading (${unread} bytes unsent): closed`));
    res.write('retry: 2000\n\n');
    send('history', feed.history);
    clients.add(res);
    const unsubscribe = feed.subscribe((s) => send('snapshot', s));
    if (feed.fresh()) send('snapshot', feed.latest);
    else void feed.tick();
    const keepAlive = setInterval(() => send('', null), 15_000);
    req.log.debug(`dashboard connected (${clients.size} live)`);
    res.on('close', () => {
      clients.delete(res);
      unsubscribe();
      clearInterval(keepAlive);
    });
  });
  return feed;
}

/**
 * Writes Server-Sent Events to one client, bounding what it leaves unread: once the stream holds more than
 * `maxUnread` bytes not yet taken by the kernel, the client is dropped (destroyed, `onSlow` told) instead of the
 * webui's memory growing for as long as the client is away. An empty event name writes a keep-alive comment.
 */
export function eventWriter(res: Writable, maxUnread: number, onSlow: (unread: number) => void): (event: string, data: unknown) => void {
  return (event, data) => {
    if (res.destroyed) return;
    if (res.writableLength > maxUnread) {
      onSlow(res.writableLength);
      res.destroy();
      return;
    }
    res.write(event ? `event: ${event}\ndata: ${JSON.stringify(data)}\n\n` : ': keep-alive\n\n');
  };
}
