// webui: the dashboard's static files, `/json` exactly as the original (the original page still works
// against it), and the live feed the dashboard draws from.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Config } from '../config.js';
import type { Ledger } from '../ledger/ledger.js';
import { createHttpService, TEXT, type HttpService } from '../platform/http-service.js';
import type { Logger } from '../platform/logger.js';
import { registerFeed } from './feed.js';

export interface WebuiOptions {
  config: Config;
  logger: Logger;
  replica: string;
  ledger: Ledger;
  staticDir?: string;
}

/** dist/web next to the compiled code; from the sources (tests, tsx) the built copy in dist/web. */
export function defaultStaticDir(): string {
  const candidates = ['../web', '../../dist/web'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}/index.html`)) ?? candidates[0]!;
}

export async function createWebui({ config, logger, replica, ledger, staticDir }: WebuiOptions): Promise<HttpService> {
  return createHttpService(
    {
      service: 'webui',
      replica,
      config,
      logger,
      bodyLimit: 1024,
      ready: async () => {
        await ledger.ping();
        return null;
      },
    },
    async (app, service) => {
      app.get('/', async (_req, reply) => reply.redirect('/index.html', 302));

      app.get('/json', async (_req, reply) => {
        try {
          const { coins, hashes } = await ledger.totals();
          return reply.header('cache-control', 'no-store').send({ coins, hashes, now: Date.now() / 1000 });
        } catch (err) {
          return reply.code(503).type(TEXT).send(`webui: cannot read the ledger at ${ledger.where}: ${(err as Error).message}\n`);
        }
      });

      registerFeed(app, { ledger, stopping: service.stopping });

      await app.register(fastifyStatic, {
        root: staticDir ?? defaultStaticDir(),
        wildcard: false,
        index: false,
        setHeaders: (res) => {
          res.setHeader('x-content-type-options', 'nosniff');
          res.setHeader(
            'content-security-policy',
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
          );
        },
      });
    },
  );
}
