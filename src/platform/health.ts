// Liveness and readiness, the two probes the workshop teaches apart.
// /healthz: can this process serve at all? Cheap, never waits behind a queue or a dependency.
// /readyz: should traffic come here now? False while draining, while a dependency is down, or when told to fail.
import type { FastifyInstance } from 'fastify';
import type { Faults } from './faults.js';

/** null when fine, else the reason. */
export type Check = () => Promise<string | null> | string | null;

export interface HealthOptions {
  faults: Faults;
  isDraining: () => boolean;
  ready?: Check;
  /** Replaces the cheap liveness answer (the worker's heartbeat, or the naive probe the slides warn about). */
  live?: Check;
  timeoutMs?: number;
}

export async function runCheck(check: Check, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`check timed out after ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch (err) {
    return (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealth(app: FastifyInstance, opts: HealthOptions): void {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const text = 'text/plain; charset=utf-8';

  app.get('/healthz', async (_req, reply) => {
    const reason = opts.live ? await runCheck(opts.live, timeoutMs) : null;
    if (reason) return reply.code(503).type(text).send(`not live: ${reason}\n`);
    return reply.type(text).send('ok\n');
  });

  app.get('/readyz', async (_req, reply) => {
    let reason: string | null = null;
    if (opts.isDraining()) reason = 'shutting down';
    else if (opts.faults.settings.unready) reason = 'fault injection: unready';
    else if (opts.ready) reason = await runCheck(opts.ready, timeoutMs);
    if (reason) return reply.code(503).type(text).send(`not ready: ${reason}\n`);
    return reply.type(text).send('ready\n');
  });
}
