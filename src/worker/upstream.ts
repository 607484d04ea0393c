// How the worker reaches rng and hasher: every request goes to the next address, round-robin, over every URL
// given and every address its name resolves to (re-resolved every few seconds, as replicas come and go).
// Keep-alive connections are pooled per address, so reusing them never pins a worker to one replica.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Pool } from 'undici';

const DNS_REFRESH_MS = 5000;
const DNS_TIMEOUT_MS = 2000;

export class UpstreamError extends Error {
  constructor(
    readonly upstream: string,
    readonly kind: 'dns' | 'connect' | 'timeout' | 'status' | 'answer',
    message: string,
  ) {
    super(message);
  }
}

interface Endpoint {
  url: URL;
  host: string;
  port: number;
  basePath: string;
  addresses: string[];
  resolvedAt: number;
  resolving?: Promise<void>;
}

interface Target {
  origin: string;
  host: string;
  basePath: string;
}

export interface Answer {
  body: Buffer;
  /** x-served-by of the replica that answered, or its address. */
  servedBy: string;
  /** Requests rng had waiting when this one arrived (x-rng-queue-depth), when it says. */
  queueDepth?: number;
}

export class Upstream {
  private readonly endpoints: Endpoint[];
  private readonly pools = new Map<string, Pool>();
  private next = Math.floor(Math.random() * 1000);

  constructor(
    readonly name: string,
    urls: string[],
    private readonly timeoutMs: number,
  ) {
    this.endpoints = urls.map((u) => {
      const url = new URL(u);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      return {
        url,
        host: url.host,
        port: Number(url.port || 80),
        basePath: url.pathname.replace(/\/+$/, ''),
        addresses: isIP(host) ? [host] : [],
        resolvedAt: isIP(host) ? Infinity : 0,
      };
    });
  }

  async request(method: 'GET' | 'POST', path: string, body: Buffer | undefined, signal: AbortSignal): Promise<Answer> {
    const target = await this.pick();
    const pool = this.pool(target.origin);
    // Timeouts by undici's own timers (connect, headers, body): no per-request AbortSignal.timeout to allocate.
    try {
      const res = await pool.request({
        method,
        path: target.basePath + path,
        headers: body ? { host: target.host, 'content-type': 'application/octet-stream' } : { host: target.host },
        body,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const data = Buffer.from(await res.body.arrayBuffer());
      const servedBy = String(res.headers['x-served-by'] ?? target.origin);
      if (res.statusCode !== 200) {
        const text = data.subarray(0, 200).toString('utf8').trim();
        throw new UpstreamError(this.name, 'status', `${this.name} (${servedBy}) answered ${res.statusCode}: ${text}`);
      }
      const depth = res.headers['x-rng-queue-depth'];
      return { body: data, servedBy, queueDepth: depth === undefined ? undefined : Number(depth) };
    } catch (err) {
      if (err instanceof UpstreamError || signal.aborted) throw err;
      const e = err as NodeJS.ErrnoException;
      const code = e.code ?? (e.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
      if (/TIMEOUT/.test(code)) throw new UpstreamError(this.name, 'timeout', `${this.name} at ${target.origin}: no answer within ${this.timeoutMs} ms (${code})`);
      throw new UpstreamError(this.name, 'connect', `${this.name} at ${target.origin}: ${code ? `${code} ` : ''}${e.message}`);
    }
  }

  /** Every address currently known, for readiness and the dashboard. */
  get knownTargets(): number {
    return this.endpoints.reduce((n, e) => n + e.addresses.length, 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
    this.pools.clear();
  }

  private async pick(): Promise<Target> {
    const now = Date.now();
    for (const e of this.endpoints) {
      if (now - e.resolvedAt > DNS_REFRESH_MS) {
        e.resolving ??= this.resolve(e).finally(() => (e.resolving = undefined));
        if (e.addresses.length === 0) await e.resolving;
      }
    }
    const targets: Target[] = [];
    for (const e of this.endpoints) {
      for (const address of e.addresses) {
        targets.push({ origin: `http://${isIP(address) === 6 ? `[${address}]` : address}:${e.port}`, host: e.host, basePath: e.basePath });
      }
    }
    if (targets.length === 0) {
      throw new UpstreamError(this.name, 'dns', `${this.name}: cannot resolve ${this.endpoints.map((e) => e.url.hostname).join(', ')}`);
    }
    this.next = (this.next + 1) % 1_000_000;
    return targets[this.next % targets.length]!;
  }

  private async resolve(e: Endpoint): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const found = await Promise.race([
        lookup(e.url.hostname, { all: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('DNS timeout')), DNS_TIMEOUT_MS);
        }),
      ]);
      const addresses = [...new Set(found.map((a) => a.address))];
      this.retire(e.addresses.filter((a) => !addresses.includes(a)), e.port);
      e.addresses = addresses;
      e.resolvedAt = Date.now();
    } catch {
      // Keep the last known addresses; try again on the next request.
      e.resolvedAt = Date.now() - DNS_REFRESH_MS + 500;
    } finally {
      clearTimeout(timer);
    }
  }

  private retire(gone: string[], port: number): void {
    for (const address of gone) {
      const origin = `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
      const pool = this.pools.get(origin);
      this.pools.delete(origin);
      void pool?.close().catch(() => undefined);
    }
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: 64, keepAliveTimeout: 4000, connectTimeout: Math.min(this.timeoutMs, 5000) });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}
