// `dockercoins httplat URL [--port 9080]`: the workshop's httplat exporter (jpetazzo/httplat) — probes one URL once
// a second, one probe at a time, and serves the latency as the histogram `httplat_latency_seconds` (_bucket, _sum,
// _count) on /metrics, which the HPA lesson's adapter rule divides rate by rate. Failed probes are counted apart.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Histogram, LATENCY_BUCKETS, METRICS_CONTENT_TYPE, Registry, renderMetrics } from '../platform/metrics.js';
import { UsageError } from '../usage.js';

export interface HttplatOptions {
  url: string;
  port: number;
  host?: string;
  intervalMs?: number;
  /** A probe that takes longer is abandoned and counted as a failure. */
  timeoutMs?: number;
}

export interface Httplat {
  readonly port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

export function parseHttplatArgs(argv: string[]): HttplatOptions {
  let url: string | undefined;
  let port = 9080;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--port' || arg.startsWith('--port=')) {
      const v = arg === '--port' ? argv[++i] : arg.slice(7);
      if (!v || !/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--port: expected 0 to 65535, got ${JSON.stringify(v ?? '')}`);
      port = Number(v);
    } else if (arg.startsWith('-')) throw new UsageError(`httplat: unknown option ${JSON.stringify(arg)}`);
    else if (url) throw new UsageError('httplat monitors exactly one URL');
    else {
      let parsed: URL;
      try {
        parsed = new URL(arg);
      } catch {
        throw new UsageError(`httplat: not a URL: ${JSON.stringify(arg)}`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`httplat: expected an http:// or https:// URL, got ${arg}`);
      url = parsed.toString();
    }
  }
  if (!url) throw new UsageError('httplat needs the URL to monitor, e.g. dockercoins httplat http://rng/');
  return { url, port };
}

export async function startHttplat(opts: HttplatOptions): Promise<Httplat> {
  const { url, intervalMs = 1000, timeoutMs = 10_000 } = opts;
  const registry = new Registry();
  const latency = new Histogram({
    name: 'httplat_latency_seconds',
    help: `Time to get a complete answer from ${url}`,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'httplat_failures_total',
    help: `Probes of ${url} that failed or timed out`,
    labelNames: ['reason'],
    registers: [registry],
  });
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (req.url !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('httplat serves /metrics and /healthz\n');
    renderMetrics(registry).then(
      (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '::', () => resolve());
  });

  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      const started = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stopping.signal]) });
        await res.arrayBuffer();
        if (res.ok) latency.observe((performance.now() - started) / 1000);
        else failures.inc({ reason: `status ${res.status}` });
      } catch (err) {
        if (stopping.signal.aborted) break;
        failures.inc({ reason: (err as Error).name === 'TimeoutError' ? 'timeout' : 'connect' });
      }
      const wait = intervalMs - (performance.now() - started);
      if (wait > 0) await sleep(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  return {
    port: (server.address() as AddressInfo).port,
    registry,
    async close() {
      stopping.abort();
      await loop;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function httplat(argv: string[]): Promise<void> {
  const opts = parseHttplatArgs(argv);
  const h = await startHttplat(opts);
  console.log(`httplat: probing ${opts.url} every second; metrics on :${h.port}/metrics`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await h.close();
}
