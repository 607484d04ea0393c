// HTTP helpers for tests that talk to real sockets, and the Prometheus text parser every tier uses.
import { setTimeout as sleep } from 'node:timers/promises';

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

/** The value of one Prometheus sample in an exposition (labels matched as a substring, e.g. 'upstream="rng"'), summed. */
export function sample(text: string, name: string, labels = ''): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name || !(m[2] ?? '').includes(labels)) continue;
    sum += Number(m[3]);
    found = true;
  }
  if (!found) throw new Error(`no sample ${name}{${labels}}`);
  return sum;
}

/** One sample from a live /metrics URL. */
export async function metric(url: string, name: string, labels = ''): Promise<number> {
  return sample(await (await get(url)).text(), name, labels);
}
