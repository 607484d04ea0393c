// dockercoins doctor: the data path, hop by hop, from wherever it runs (a workstation, `docker compose run --rm
// worker doctor`, `kubectl run … -- doctor`, the chart's `helm test`), with the same variables as the worker:
// DNS (every address), TCP, the banner, a real GET /32 and POST /, Redis PING and a scratch key, the webui's /json.
// One line per hop with its latency, a hint when it fails; exit 0 when every hop works, 1 when one fails.
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { keyPrefix } from '../config.js';
import { safeUrl } from '../platform/logger.js';

/** Every hop is bounded by this, whatever the network does. */
export const HOP_TIMEOUT_MS = 3000;
/** rng's banner and GET /32 wait their turn in its FIFO (10 workers: ~1 s; 100 workers: ~10 s): they get this long. */
export const QUEUED_HOP_TIMEOUT_MS = 15_000;

export interface Hop {
  target: string;
  step: string;
  ok: boolean;
  ms: number;
  detail: string;
  hint?: string;
}

class HopError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

function within<T>(what: string, work: (signal: AbortSignal) => Promise<T>, hint: string, timeoutMs = HOP_TIMEOUT_MS): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new HopError(`no answer within ${timeoutMs} ms (${what})`, hint));
    }, timeoutMs);
  });
  return Promise.race([work(abort.signal), late]).finally(() => clearTimeout(timer));
}

/** The hint for a failure, from its error code: what a user most likely has to fix. */
function hintFor(err: NodeJS.ErrnoException, name: string, host: string, port: number): string | undefined {
  const code = err.code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `the name ${host} is unknown here: is the service called ${name}, in this network / namespace? (docker compose ps, kubectl get svc)`;
  if (code === 'ECONNREFUSED') return `nothing listens on ${host}:${port}: a wrong port, or ${name} is not running`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `no route to ${host}: it is on another network than this container or pod`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `${host}:${port} closed the connection: is it really ${name}?`;
  return undefined;
}

const DROPPED = (name: string) => `packets dropped on the way to ${name}? A NetworkPolicy or firewall would do that`;

async function tcp(address: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = new Socket();
    socket.setTimeout(HOP_TIMEOUT_MS, () => {
      socket.destroy();
      reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', reject);
    socket.connect(port, address, () => {
      socket.end();
      resolve();
    });
  });
}

export class Doctor {
  readonly hops: Hop[] = [];
  constructor(private readonly print: (hop: Hop) => void = () => {}) {}

  private async hop(target: string, step: string, work: () => Promise<string>, fallbackHint?: string): Promise<boolean> {
    const t0 = performance.now();
    let hop: Hop;
    try {
      hop = { target, step, ok: true, ms: performance.now() - t0, detail: await work() };
      hop.ms = performance.now() - t0;
    } catch (err) {
      const e = err as Error & { hint?: string };
      hop = { target, step, ok: false, ms: performance.now() - t0, detail: e.message, hint: e.hint ?? fallbackHint };
    }
    this.hops.push(hop);
    this.print(hop);
    return hop.ok;
  }

  /** Every address of the name (DNS round robin, a headless Service, Swarm's tasks.<name>). */
  private async resolve(name: string, host: string, port: number): Promise<string[]> {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare)) return [bare];
    let addresses: string[] = [];
    const ok = await this.hop(name, 'dns', async () => {
      try {
        addresses = (await within(`DNS ${host}`, () => lookup(bare, { all: true }), `the DNS server did not answer for ${host}`)).map((a) => a.address);
      } catch (err) {
        throw new HopError((err as Error).message, hintFor(err as NodeJS.ErrnoException, name, host, port));
      }
      return `${host} → ${addresses.join(', ')}`;
    });
    return ok ? addresses : [];
  }

  private async reach(name: string, host: string, port: number): Promise<string[]> {
    const addresses = await this.resolve(name, host, port);
    const reached: string[] = [];
    for (const address of addresses) {
      const ok = await this.hop(name, 'tcp', async () => {
        try {
          await tcp(address, port);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          throw new HopError(`${address}:${port}: ${e.message}`, e.code === 'ETIMEDOUT' ? DROPPED(name) : hintFor(e, name, host, port));
        }
        return `${address}:${port} accepts connections`;
      });
      if (ok) reached.push(address);
    }
    return reached;
  }

  private async http(
    name: string,
    step: string,
    url: string,
    init: RequestInit,
    check: (res: Response, body: Buffer) => string,
    timeoutMs = HOP_TIMEOUT_MS,
  ): Promise<boolean> {
    const u = new URL(url);
    return this.hop(name, step, async () => {
      let res: Response;
      let body: Buffer;
      try {
        ({ res, body } = await within(
          `${init.method ?? 'GET'} ${u.pathname}`,
          async (signal) => {
            const r = await fetch(url, { ...init, signal, redirect: 'manual' });
            return { res: r, body: Buffer.from(await r.arrayBuffer()) };
          },
          `${name} accepted the connection but did not answer: overloaded (its queue), or a fault injected`,
          timeoutMs,
        ));
      } catch (err) {
        if (err instanceof HopError) throw err;
        throw new HopError((err as Error).message, hintFor(err as NodeJS.ErrnoException, name, u.hostname, Number(u.port || 80)));
      }
      if (res.status !== 200) {
        const text = body.subarray(0, 120).toString('utf8').trim();
        throw new HopError(
          `${init.method ?? 'GET'} ${u.pathname} answered ${res.status}: ${text}`,
          `is ${u.host} really ${name}? (a wrong port or path answers this)`,
        );
      }
      return check(res, body);
    });
  }

  async service(name: 'rng' | 'hasher', base: string): Promise<void> {
    const u = new URL(base);
    const port = Number(u.port || 80);
    if ((await this.reach(name, u.hostname, port)).length === 0) return;
    const root = base.replace(/\/+$/, '');
    const banner = name === 'rng' ? /^RNG running on / : /^HASHER running on /;
    // rng's banner waits in its queue like any request (the original serves one at a time): give it that wait.
    const wait = name === 'rng' ? QUEUED_HOP_TIMEOUT_MS : HOP_TIMEOUT_MS;
    const isBanner = await this.http(
      name,
      'banner',
      `${root}/`,
      {},
      (res, body) => {
        const text = body.toString('utf8').trim();
        if (!banner.test(text)) throw new HopError(`GET / answered ${JSON.stringify(text.slice(0, 60))}`, `${u.host} is not ${name}: a wrong port?`);
        return `${text} (${res.headers.get('x-dockercoins-version') ?? 'the original'})`;
      },
      wait,
    );
    if (!isBanner) return;
    if (name === 'rng') {
      await this.http(
        name,
        'GET /32',
        `${root}/32`,
        {},
        (_res, body) => {
          if (body.length !== 32) throw new HopError(`GET /32 gave ${body.length} bytes`);
          return '32 random bytes';
        },
        wait,
      );
    } else {
      await this.http(
        name,
        'POST /',
        `${root}/`,
        { method: 'POST', body: new Uint8Array(32), headers: { 'content-type': 'application/octet-stream' } },
        (_res, body) => {
          const hex = body.toString('latin1');
          if (!/^[0-9a-f]{64}$/.test(hex)) throw new HopError(`POST / answered ${JSON.stringify(hex.slice(0, 70))}, not a SHA-256`);
          return `SHA-256 ${hex.slice(0, 12)}…`;
        },
      );
    }
  }

  async redis(url: string, namespace: string): Promise<void> {
    const u = new URL(url);
    const port = Number(u.port || 6379);
    if ((await this.reach('redis', u.hostname, port)).length === 0) return;
    const client = new Redis(url, {
      keyPrefix: keyPrefix(namespace),
      lazyConnect: true,
      enableReadyCheck: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: HOP_TIMEOUT_MS,
      commandTimeout: HOP_TIMEOUT_MS,
    });
    client.on('error', () => {});
    const redisHint = (err: Error) =>
      /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(err.message)
        ? `Redis wants a password (or another one): REDIS_URL=redis://:<password>@${u.host}`
        : /READONLY/.test(err.message)
          ? 'this Redis is a read-only replica: point REDIS_URL at the primary'
          : undefined;
    try {
      const pinged = await this.hop('redis', 'PING', async () => {
        try {
          await within('Redis connect', () => client.connect(), DROPPED('redis'));
          return `${await within('PING', () => client.ping(), 'Redis accepted the connection but did not answer')} from ${safeUrl(url)}`;
        } catch (err) {
          if (err instanceof HopError) throw err;
          throw new HopError((err as Error).message, redisHint(err as Error));
        }
      });
      if (!pinged) return;
      await this.hop('redis', 'write/read', async () => {
        const key = `doctor:${randomBytes(6).toString('hex')}`;
        const value = randomBytes(8).toString('hex');
        try {
          await within('SET', () => client.set(key, value, 'EX', 60), 'Redis did not answer SET');
          const back = await within('GET', () => client.get(key), 'Redis did not answer GET');
          await within('DEL', () => client.del(key), 'Redis did not answer DEL');
          if (back !== value) throw new HopError(`read back ${JSON.stringify(back)} instead of what was written`);
          return `${keyPrefix(namespace)}${key} written, read back, deleted`;
        } catch (err) {
          if (err instanceof HopError) throw err;
          throw new HopError((err as Error).message, redisHint(err as Error));
        }
      });
    } finally {
      client.disconnect();
    }
  }

  async webui(base: string): Promise<void> {
    const u = new URL(base);
    if ((await this.reach('webui', u.hostname, Number(u.port || 80))).length === 0) return;
    await this.http('webui', 'GET /json', `${base.replace(/\/+$/, '')}/json`, {}, (_res, body) => {
      let j: { hashes?: unknown; coins?: unknown };
      try {
        j = JSON.parse(body.toString('utf8')) as typeof j;
      } catch {
        throw new HopError('/json is not JSON', `is ${u.host} the webui?`);
      }
      if (typeof j.hashes !== 'number') throw new HopError('/json has no hashes count', `is ${u.host} the webui?`);
      return `${j.hashes} hashes, ${String(j.coins)} coins`;
    });
  }
}

function line(hop: Hop): string {
  const ms = `${hop.ms < 10 ? hop.ms.toFixed(1) : Math.round(hop.ms)} ms`;
  const head = `${hop.ok ? '✓' : '✗'} ${hop.target.padEnd(7)}${hop.step.padEnd(11)}${ms.padStart(8)}  ${hop.detail}`;
  return hop.hint ? `${head}\n  → ${hop.hint}` : head;
}

/** Runs every hop; resolves with the exit code (0: all fine, 1: one failed). */
export async function doctor(config: Config, webuiUrl: string, out: (text: string) => void = console.log): Promise<number> {
  const d = new Doctor((hop) => out(line(hop)));
  out(
    `dockercoins doctor — the data path as the worker sees it (each hop ≤ ${HOP_TIMEOUT_MS / 1000} s; rng's banner and GET /32 wait their turn in its queue, ≤ ${QUEUED_HOP_TIMEOUT_MS / 1000} s)`,
  );
  for (const url of config.worker.rngUrls) await d.service('rng', url);
  for (const url of config.worker.hasherUrls) await d.service('hasher', url);
  await d.redis(config.ledger.url, config.ledger.namespace);
  if (webuiUrl) await d.webui(webuiUrl);
  const failed = d.hops.filter((h) => !h.ok);
  out(
    failed.length === 0
      ? `all ${d.hops.length} hops work`
      : `${failed.length} of ${d.hops.length} hops failed: ${failed.map((h) => `${h.target} ${h.step}`).join(', ')}`,
  );
  return failed.length === 0 ? 0 : 1;
}
