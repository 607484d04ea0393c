// Fault injection for chaos lessons: extra latency, an error rate, hung requests, failed readiness.
// Set by FAULT_* variables at start, changed at runtime on /admin/faults. Probes and /metrics never see it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bool, ConfigError, type FaultSettings, fraction } from '../config.js';
import { FAULT_LATENCY_LIMIT } from '../telemetry.js';
import { adminGuard } from './admin.js';

export const NO_FAULTS: FaultSettings = { latencyMs: 0, errorRate: 0, hangRate: 0, unready: false };

export class Faults {
  settings: FaultSettings;

  constructor(initial: FaultSettings = NO_FAULTS) {
    this.settings = { ...initial };
  }

  get affectsRequests(): boolean {
    const s = this.settings;
    return s.latencyMs > 0 || s.errorRate > 0 || s.hangRate > 0;
  }

  /** Applies the request faults; returns false when it has answered (or dropped) the request itself. */
  async apply(reply: FastifyReply, stop: AbortSignal): Promise<boolean> {
    const { latencyMs, errorRate, hangRate } = this.settings;
    if (hangRate > 0 && Math.random() < hangRate) {
      // Hang: hold the request until the client gives up or the service stops, then drop the connection.
      await new Promise<void>((resolve) => {
        if (stop.aborted) return resolve();
        reply.raw.once('close', resolve);
        stop.addEventListener('abort', () => resolve(), { once: true });
      });
      reply.raw.destroy();
      return false;
    }
    if (latencyMs > 0) await sleep(latencyMs).catch(() => undefined);
    if (errorRate > 0 && Math.random() < errorRate) {
      await reply.code(500).type('text/plain; charset=utf-8').send(`injected fault (error rate ${errorRate})\n`);
      return false;
    }
    return true;
  }
}

const FIELDS: Record<string, (v: string) => Partial<FaultSettings>> = {
  latency_ms: (v) => {
    const { max } = FAULT_LATENCY_LIMIT;
    if (!/^\d{1,7}$/.test(v) || Number(v) > max) throw new ConfigError('latency_ms', `expected milliseconds 0-${max}, got ${JSON.stringify(v)}`);
    return { latencyMs: Number(v) };
  },
  error_rate: (v) => ({ errorRate: v.trim() === '' ? 0 : fraction(v.trim(), 'error_rate') }),
  hang_rate: (v) => ({ hangRate: v.trim() === '' ? 0 : fraction(v.trim(), 'hang_rate') }),
  unready: (v) => ({ unready: v.trim() === '' ? false : bool(v.trim(), 'unready') }),
};

/** GET shows, POST ?latency_ms=&error_rate=&hang_rate=&unready= changes, DELETE clears — behind the admin guard. */
export function registerFaultAdmin(app: FastifyInstance, token: string): void {
  const faults = app.faults;
  const changed = (req: FastifyRequest, next: FaultSettings) => {
    faults.settings = next;
    req.log.warn({ faults: next, from: req.ip }, `fault injection set from ${req.ip}: ${JSON.stringify(next)}`);
    return next;
  };
  const guard = adminGuard(token);
  app.get('/admin/faults', { onRequest: guard }, async () => faults.settings);
  app.delete('/admin/faults', { onRequest: guard }, async (req) => changed(req, { ...NO_FAULTS }));
  app.post<{ Querystring: Record<string, string> }>('/admin/faults', { onRequest: guard }, async (req, reply) => {
    const query = req.query;
    const next = { ...faults.settings };
    const unknown = Object.keys(query).filter((k) => !(k in FIELDS));
    if (unknown.length > 0) {
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send(`unknown fault setting(s): ${unknown.join(', ')}; known: ${Object.keys(FIELDS).join(', ')}\n`);
    }
    try {
      for (const [key, value] of Object.entries(query)) Object.assign(next, FIELDS[key]!(String(value)));
    } catch (err) {
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send(`${(err as Error).message}\n`);
    }
    return changed(req, next);
  });
}
