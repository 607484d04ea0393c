// The instructor's page as a fastify plugin: GET / (the page, web/class.ts), GET /api/tenants (CONTRACT.md) and
// the page's static files. The ClassMonitor behind it does the polling; every request reads its latest round.
import type { FastifyPluginAsync } from 'fastify';
import { serveDashboardFiles } from '../webui/app.js';
import type { ClassMonitor } from './monitor.js';

export interface ClassOptions {
  monitor: ClassMonitor;
  classId: string;
  staticDir?: string;
}

export const classRoutes: FastifyPluginAsync<ClassOptions> = async (app, { monitor, classId, staticDir }) => {
  app.addHook('onClose', async () => monitor.stop());
  app.health.ready = async () => (monitor.engineProblem ? `Docker engine: ${monitor.engineProblem}` : null);
  app.get('/', async (_req, reply) => reply.redirect('/class.html', 302));
  app.get('/api/tenants', async (_req, reply) => reply.header('cache-control', 'no-store').send(monitor.rows));
  app.get('/api/class', async (_req, reply) =>
    reply
      .header('cache-control', 'no-store')
      .send({ classId, stuckSeconds: monitor.stuckMs / 1000, engine: monitor.engineProblem || 'ok', now: Date.now() / 1000 }),
  );
  await serveDashboardFiles(app, staticDir);
};
