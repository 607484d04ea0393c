// Liveness and readiness, the two probes the workshop teaches apart.
// /healthz: can this process serve at all? Cheap, never waits behind a queue or a dependency.
// /readyz: should traffic come here now? False while draining, while a dependency is down, or when told to fail.
import type { FastifyInstance } from 'fastify';

/** null when fine, else the reason. */
export type Check = () => Promise<string | null> | string | null;

const CHECK_TIMEOUT_MS = 2000;
const TEXT = 'text/plain; charset=utf-8';

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

/** The probes, reading the checks a service plugin set on app.health. */
export function registerHealth(app: FastifyInstance): void {
  app.get('/healthz', async (_req, reply) => {
    const live = app.health.live;
    const reason = live ? await runCheck(live, CHECK_TIMEOUT_MS) : null;
    if (reason) return reply.code(503).type(TEXT).send(`not live: ${reason}\n`);
    return reply.type(TEXT).send('ok\n');
  });

  app.get('/readyz', async (_req, reply) => {
    let reason: string | null = null;
    const ready = app.health.ready;
    if (app.stopping.aborted) reason = 'shutting down';
    else if (app.faults.settings.unready) reason = 'fault injection: unready';
    else if (ready) reason = await runCheck(ready, CHECK_TIMEOUT_MS);
    if (reason) return reply.code(503).type(TEXT).send(`not ready: ${reason}\n`);
    return reply.type(TEXT).send('ready\n');
  });
}
