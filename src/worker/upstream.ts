// How the worker reaches rng and hasher: every request goes to the next address, round-robin, over every URL
// given and every address its name resolves to (re-resolved every few seconds, as replicas come and go).
// Keep-alive connections are pooled per address, so reusing them never pins a worker to one replica.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Pool } from 'undici';
import { finish, parentContext, type Span, SpanKind, type TracerKit, trace, unsampledTraceparent } from '../platform/tracing.js';
import type { ErrorKind, UpstreamName } from '../telemetry.js';

const DNS_REFRESH_MS = 5000;
const DNS_TIMEOUT_MS = 2000;

export class UpstreamError extends Error {
  constructor(
    readonly upstream: UpstreamName,
    readonly kind: Exclude<ErrorKind, 'redis'>,
    message: string,
  ) {
    super(message);
  }
}

export interface Answer {
  body: Buffer;
  /** x-served-by of the replica that answered, or its address. */
  servedBy: string;
  /** Requests rng had waiting when this one arrived (x-rng-queue-depth), when it says. */
  queueDepth?: number;
}

export interface WireRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends one request to one origin. The real one is undici (a keep-alive pool per origin); tests use inject(). */
export interface Transport {
  send(origin: string, req: WireRequest): Promise<WireResponse>;
  /** Lets an origin's connections finish what they carry, then closes them. */
  retire(origin: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * undici is loaded when the first transport is made, not with this module: the all-in-one starts its loops before
 * rng and hasher, and the loops' first 100 ms sleep covers the load (the first hash comes ~30 ms sooner).
 */
let undici: Promise<typeof Pool> | undefined;
/** undici is CommonJS: bundled, its exports come as the default export. */
const loadPool = async (): Promise<typeof Pool> => {
  const m: typeof import('undici') & { default?: typeof import('undici') } = await import('undici');
  return m.Pool ?? m.default!.Pool;
};

export class UndiciTransport implements Transport {
  private readonly pools = new Map<string, Pool>();
  private readonly loading: Promise<typeof Pool>;

  constructor(private readonly connectTimeoutMs: number) {
    undici ??= loadPool();
    this.loading = undici;
  }

  send(origin: string, req: WireRequest): Promise<WireResponse> {
    const pool = this.pools.get(origin);
    if (pool) return dispatch(pool, req);
    return this.loading.then((PoolClass) => {
      let created = this.pools.get(origin);
      if (!created) {
        created = new PoolClass(origin, { connections: 64, keepAliveTimeout: 4000, connectTimeout: this.connectTimeoutMs });
        this.pools.set(origin, created);
      }
      return dispatch(created, req);
    });
  }

  async retire(origin: string): Promise<void> {
    const pool = this.pools.get(origin);
    this.pools.delete(origin);
    await pool?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
    this.pools.clear();
  }
}

/**
 * One request on undici's lowest level, dispatch(): the answer's chunks gathered as they come. request() would wrap
 * the body in a Readable stream read back through a promise chain — most of the client's cost per call in turbo.
 * Timeouts by undici's own timers (connect, headers, body). No AbortSignal per request: listening to one costs a
 * quarter of the throughput in turbo; a stop destroys the pools instead, which ends what is in flight.
 */
function dispatch(pool: Pool, req: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    let headers: WireResponse['headers'] = {};
    pool.dispatch(
      { method: req.method, path: req.path, headers: req.headers, body: req.body, headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          headers = responseHeaders;
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          // A copy: the chunks are views on the socket's read buffers.
          resolve({ status, headers, body: Buffer.concat(chunks) });
        },
        onResponseError(_controller, err) {
          reject(err);
        },
      },
    );
  });
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
  /** The address and port connected to (for client spans). */
  address: string;
  port: number;
}

const originOf = (address: string, port: number) => `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;

export class Upstream {
  private endpoints: Endpoint[] = [];
  private targets: Target[] = [];
  private next = Math.floor(Math.random() * 1000);
  private closed = false;
  /** Created with no URL (the all-in-one starts its workers while rng and hasher start): calls wait for the first. */
  private firstTargets?: { promise: Promise<void>; resolve(): void };

  constructor(
    readonly name: UpstreamName,
    urls: string[],
    private readonly timeoutMs: number,
    private readonly transport: Transport = new UndiciTransport(Math.min(timeoutMs, 5000)),
    /** Tracing on: each call is a client span, and rng and hasher get its `traceparent`. */
    private readonly tracing?: TracerKit,
  ) {
    if (urls.length === 0) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.firstTargets = { promise, resolve };
    }
    void this.setUrls(urls);
  }

  /** Replaces the rotation (lab mode adds and removes replicas): new requests go to the new list at once;
   *  connections to a replica that left finish what they carry, then close — which the promise waits for. */
  setUrls(urls: string[]): Promise<void> {
    const old = this.endpoints;
    this.endpoints = urls.map((u) => {
      const url = new URL(u);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      return {
        url,
        host: url.host,
        port: Number(url.port || 80),
        basePath: url.pathname.replace(/\/+$/, ''),
        addresses: isIP(host) ? [host] : [],
        resolvedAt: isIP(host) ? Number.POSITIVE_INFINITY : 0,
      };
    });
    this.rebuild();
    if (urls.length > 0) this.firstTargets?.resolve();
    const kept = new Set(this.origins(this.endpoints));
    return Promise.all(
      this.origins(old)
        .filter((o) => !kept.has(o))
        .map((o) => this.transport.retire(o)),
    ).then(() => undefined);
  }

  /**
   * One call to the next replica; rejects at once (and for good) once close() has been called. `unit`: the span of
   * the unit of work it belongs to (tracing on); when the sampler left that unit out, no client span is made.
   */
  request(method: 'GET' | 'POST', path: string, body: Buffer | undefined, unit?: Span): Promise<Answer> {
    if (this.closed) return Promise.reject(new UpstreamError(this.name, 'connect', `${this.name}: closed (stopping)`));
    // Plain promise chains, no async function per layer: at 10,000 units/s every promise of the path counts.
    const target = this.choose();
    if (!target) return this.chooseAfterLookup().then((t) => this.traced(t, method, path, body, unit));
    return this.traced(target, method, path, body, unit);
  }

  private traced(target: Target, method: 'GET' | 'POST', path: string, body: Buffer | undefined, unit?: Span): Promise<Answer> {
    if (!this.tracing) return this.call(target, method, path, body);
    const headers = this.headers(target, body);
    if (unit && !unit.isRecording()) {
      headers.traceparent = unsampledTraceparent(unit);
      return this.call(target, method, path, body, headers);
    }
    const { tracer, inject } = this.tracing;
    // The unit's span is passed, not active (see rootSpan): it is the parent named here.
    const parent = parentContext(unit);
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.full': target.origin + target.basePath + path,
          'server.address': target.address,
          'server.port': target.port,
        },
      },
      parent,
    );
    inject(trace.setSpan(parent, span), headers);
    return this.call(target, method, path, body, headers).then(
      (answer) => {
        span.setAttributes({ 'http.response.status_code': 200, 'dockercoins.served_by': answer.servedBy });
        span.end();
        return answer;
      },
      (err: unknown) => {
        finish(span, err);
        throw err;
      },
    );
  }

  /** A call's headers; the trace context is added to this object (a spread of two objects cost ~1 µs a call). */
  private headers(target: Target, body: Buffer | undefined): Record<string, string> {
    return body ? { host: target.host, 'content-type': 'application/octet-stream' } : { host: target.host };
  }

  private call(
    target: Target,
    method: 'GET' | 'POST',
    path: string,
    body: Buffer | undefined,
    headers: Record<string, string> = this.headers(target, body),
  ): Promise<Answer> {
    const req = { method, path: target.basePath + path, headers, body, timeoutMs: this.timeoutMs };
    return this.transport.send(target.origin, req).then(
      (res) => this.answer(target, res),
      (err: unknown) => {
        throw this.failure(target, err);
      },
    );
  }

  private failure(target: Target, err: unknown): unknown {
    if (this.closed) return err;
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? (e.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
    if (/TIMEOUT/.test(code))
      return new UpstreamError(this.name, 'timeout', `${this.name} at ${target.origin}: no answer within ${this.timeoutMs} ms (${code})`);
    return new UpstreamError(this.name, 'connect', `${this.name} at ${target.origin}: ${code ? `${code} ` : ''}${e.message}`);
  }

  private answer(target: Target, res: WireResponse): Answer {
    const servedBy = String(res.headers['x-served-by'] ?? target.origin);
    if (res.status !== 200) {
      const text = res.body.subarray(0, 200).toString('utf8').trim();
      throw new UpstreamError(this.name, 'status', `${this.name} (${servedBy}) answered ${res.status}: ${text}`);
    }
    const depth = res.headers['x-rng-queue-depth'];
    return { body: res.body, servedBy, queueDepth: depth === undefined ? undefined : Number(depth) };
  }

  /** Every address currently known, for readiness and the dashboard. */
  get knownTargets(): number {
    return this.endpoints.reduce((n, e) => n + e.addresses.length, 0);
  }

  /** Ends every request in flight (their callers see an error) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.transport.close();
  }

  private origins(endpoints: Endpoint[]): string[] {
    return endpoints.flatMap((e) => e.addresses.map((a) => originOf(a, e.port)));
  }

  /** The next target, round robin; undefined when a name must be resolved first (its first lookup). */
  private choose(): Target | undefined {
    const now = Date.now();
    let unresolved = false;
    for (const e of this.endpoints) {
      if (now - e.resolvedAt > DNS_REFRESH_MS) {
        e.resolving ??= this.resolve(e).finally(() => {
          e.resolving = undefined;
        });
        if (e.addresses.length === 0) unresolved = true;
      }
    }
    if (unresolved || this.targets.length === 0) return undefined;
    this.next = (this.next + 1) % 1_000_000;
    return this.targets[this.next % this.targets.length]!;
  }

  private async chooseAfterLookup(): Promise<Target> {
    if (this.firstTargets) await this.waitForFirstTargets(this.firstTargets.promise);
    await Promise.all(this.endpoints.map((e) => e.resolving));
    if (this.endpoints.length === 0) throw new UpstreamError(this.name, 'connect', `${this.name}: no instance is ready (the rotation is empty)`);
    const target = this.choose();
    if (!target) throw new UpstreamError(this.name, 'dns', `${this.name}: cannot resolve ${this.endpoints.map((e) => e.url.hostname).join(', ')}`);
    return target;
  }

  private async waitForFirstTargets(first: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs);
    });
    await Promise.race([first, late]);
    clearTimeout(timer);
    this.firstTargets = undefined;
  }

  /** Every (address, port) of every endpoint, in order: what the round robin walks. */
  private rebuild(): void {
    this.targets = this.endpoints.flatMap((e) =>
      e.addresses.map((a) => ({ origin: originOf(a, e.port), host: e.host, basePath: e.basePath, address: a, port: e.port })),
    );
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
      for (const gone of e.addresses.filter((a) => !addresses.includes(a))) void this.transport.retire(originOf(gone, e.port));
      e.addresses = addresses;
      e.resolvedAt = Date.now();
      this.rebuild();
    } catch {
      // Keep the last known addresses; try again on the next request.
      e.resolvedAt = Date.now() - DNS_REFRESH_MS + 500;
    } finally {
      clearTimeout(timer);
    }
  }
}
