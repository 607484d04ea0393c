import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port free on every address (the services listen on :: by default). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export async function get(url: string, init?: RequestInit & { timeoutMs?: number }): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(init?.timeoutMs ?? 5000) });
}

export async function json<T = Record<string, unknown>>(url: string): Promise<T> {
  const res = await get(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The value of one Prometheus sample (labels matched as a substring, e.g. 'upstream="rng"'). */
export async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await get(url)).text();
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name || !(m[2] ?? '').includes(labels)) continue;
    sum += Number(m[3]);
    found = true;
  }
  if (!found) throw new Error(`no sample ${name}{${labels}} at ${url}`);
  return sum;
}
