// Hermetic plumbing for the unit tier: the worker's requests travel by fastify's inject() instead of sockets, and
// Prometheus text is read from a string.
import type { FastifyInstance } from 'fastify';
import type { Transport, WireRequest, WireResponse } from '../../src/worker/upstream.js';
import { sample } from './net.js';

/** Origins (`http://10.0.0.1:80`) mapped to in-process apps; an unknown origin is refused like a closed port. */
export class InjectTransport implements Transport {
  constructor(readonly apps: Map<string, FastifyInstance>) {}

  async send(origin: string, req: WireRequest): Promise<WireResponse> {
    const app = this.apps.get(origin);
    if (!app) throw Object.assign(new Error(`connect ECONNREFUSED ${origin}`), { code: 'ECONNREFUSED' });
    const res = await app.inject({ method: req.method, url: req.path, headers: req.headers, payload: req.body });
    const headers: WireResponse['headers'] = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k] = typeof v === 'number' ? String(v) : v;
    return { status: res.statusCode, headers, body: res.rawPayload };
  }

  async retire(): Promise<void> {}
  async close(): Promise<void> {}
}

/** GET /metrics of an in-process app, parsed for one sample. */
export async function metricOf(app: FastifyInstance, name: string, labels = ''): Promise<number> {
  return sample((await app.inject('/metrics')).body, name, labels);
}
