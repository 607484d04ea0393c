// webui: the dashboard's static files, `/json` exactly as the original (the original page still works
// against it), and the live feed the dashboard draws from.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Ledger } from '../ledger/ledger.js';
import { createHttpService, type HttpService, type ServiceBase, TEXT } from '../platform/http-service.js';
import type { Tracer } from '../platform/tracing.js';
import { registerFeed } from './feed.js';
import { type LabControl, registerLab } from './lab.js';

export { watchOnly } from './lab.js';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/** dist/web next to the compiled code; from the sources (tests, tsx) the built copy in dist/web. */
export function defaultStaticDir(): string {
  const candidates = ['../web', '../../dist/web'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}/index.html`)) ?? candidates[0]!;
}

/** The built pages (dashboard, class page) as static files, nosniff and a same-origin-only CSP. */
export async function serveDashboardFiles(app: FastifyInstance, staticDir = defaultStaticDir()): Promise<void> {
  await app.register(fastifyStatic, {
    root: staticDir,
    wildcard: false,
    index: false,
    setHeaders: (res) => {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('content-security-policy', CSP);
    },
  });
}

export interface WebuiOptions {
  ledger: Ledger;
  /** The lab's /api/lab: the all-in-one passes itself; a standalone webui with LAB=on watches only. */
  lab?: LabControl;
  /** ADMIN_TOKEN, for the lab's POST. */
  adminToken?: string;
  staticDir?: string;
  tracer?: Tracer;
  /** TRACING_UI_URL */
  tracingUi?: string;
}

export const webuiRoutes: FastifyPluginAsync<WebuiOptions> = async (app, { ledger, lab, adminToken = '', staticDir, tracer, tracingUi }) => {
  app.health.ready = async () => {
    await ledger.ping();
    return null;
  };

  app.get('/', async (_req, reply) => reply.redirect('/index.html', 302));

  app.get('/json', async (_req, reply) => {
    try {
      const { coins, hashes } = await ledger.accounts.totals();
      return reply.header('cache-control', 'no-store').send({ coins, hashes, now: Date.now() / 1000 });
    } catch (err) {
      return reply
        .code(503)
        .type(TEXT)
        .send(`webui: cannot read the ledger at ${ledger.where}: ${(err as Error).message}\n`);
    }
  });

  const feed = registerFeed(app, ledger, { tracer, lab: lab !== undefined, tracingUi });
  if (lab) registerLab(app, { control: lab, feed, token: adminToken });

  await serveDashboardFiles(app, staticDir);
};

export function createWebui(base: Omit<ServiceBase, 'service'>, options: WebuiOptions): Promise<HttpService> {
  return createHttpService({ ...base, service: 'webui', bodyLimit: 1024 }, async (app) =>
    app.register(webuiRoutes, { tracer: base.tracing?.tracer, ...options }),
  );
}
