// Hostile input, seeded (HOSTILE_SEED replays a run): thousands of malformed requests over raw TCP against rng,
// hasher and webui — strange paths, methods, headers and bodies, slow clients. Every case gets a 4xx (or a normal
// answer when it happens to be valid) or a closed connection; never a 5xx; the services keep serving meanwhile.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { get } from '../helpers/net.js';
import { type Proc, startService } from '../helpers/proc.js';
import { pick, seeded } from '../helpers/random.js';

const SEED = Number(process.env.HOSTILE_SEED ?? 4242);
const CASES = Number(process.env.HOSTILE_CASES ?? 1500);

/** Incomplete requests (a body shorter than announced) the server must close by itself within its timeout. */
const lingering: Promise<string | null>[] = [];

/** Sends raw bytes, returns the status code of the first response, 0 if the server closed without one, or -1 when
 *  it is still waiting for the rest of the request after 3 s (then the server must close it within 13 s). */
function raw(port: number, data: Buffer | string, what: string): Promise<number> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    let settled = false;
    const done = (code: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => {
      settled = true;
      resolve(-1);
      lingering.push(
        new Promise((closed) => {
          const limit = setTimeout(() => {
            s.destroy();
            closed(`still open 13 s later: ${what}`);
          }, 10_000);
          s.once('close', () => {
            clearTimeout(limit);
            closed(null);
          });
        }),
      );
    }, 3000);
    s.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m) done(Number(m[1]));
    });
    s.on('error', () => done(0));
    s.on('close', () => done(0));
    s.write(data);
  });
}

function hostileCase(rand: () => number): { bytes: Buffer; what: string } {
  const r = () => rand();
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'BREW', 'G ET', '', 'get', 'GET\u0000'];
  const paths = [
    '/',
    '/-1',
    '/1e9',
    '/0x10',
    '/%00',
    '/%',
    '/%zz',
    '/..%2f..%2fetc%2fpasswd',
    '/../../etc/passwd',
    `/32?x=${'a'.repeat(5000)}`,
    `/${'9'.repeat(3000)}`,
    '/🙂',
    '/%F0%9F%99%82',
    '/32/../32',
    '//',
    '/json',
    '/index.html',
    '/events',
    '/metrics',
    '/readyz',
    '/admin/faults',
    '/admin/faults?latency_ms=-1',
    '*',
    'http://evil/',
    '/a'.repeat(3000),
    '/\t',
    '/32#frag',
  ];
  const method = pick(rand, methods);
  let path = pick(rand, paths);
  if (r() < 0.2) path = `/${Array.from({ length: Math.floor(r() * 200) }, () => String.fromCharCode(33 + Math.floor(r() * 94))).join('')}`;
  const version = pick(rand, ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'HTCPCP/1.0', '']);
  const headers: string[] = ['Host: x'];
  const h = r();
  if (h < 0.1) headers.push(`X-Big: ${'b'.repeat(20_000 + Math.floor(r() * 60_000))}`);
  else if (h < 0.2) headers.push('Content-Length: 5', 'Content-Length: 7');
  else if (h < 0.3) headers.push('Transfer-Encoding: chunked', 'Content-Length: 3');
  else if (h < 0.4) headers.push('Bad Header Name: x');
  else if (h < 0.45) headers.push(`X-Ctl: a\u0001b`);
  else if (h < 0.5) for (let i = 0; i < 200; i++) headers.push(`X-Dup: ${i}`);
  else if (h < 0.55) headers.push('Content-Type: application/json');
  let body = '';
  const b = r();
  if (b < 0.15) {
    body = 'x'.repeat(Math.floor(r() * 3000));
    headers.push(`Content-Length: ${body.length}`);
  } else if (b < 0.25) {
    headers.push('Transfer-Encoding: chunked');
    body = `5\r\nhello\r\nZZ\r\nnot hex\r\n0\r\n\r\n`;
  } else if (b < 0.3) {
    headers.push('Content-Length: 999999999');
    body = 'short';
  } else if (b < 0.35) {
    headers.push('Content-Type: application/json', 'Content-Length: 9');
    body = '{"broken';
  }
  const line = `${method} ${path} ${version}`.trim();
  return {
    bytes: Buffer.from(`${line}\r\n${headers.join('\r\n')}\r\n\r\n${body}`, 'latin1'),
    what: `${line.slice(0, 80)} [${headers
      .map((x) => x.slice(0, 30))
      .join('; ')
      .slice(0, 120)}]`,
  };
}

describe(`hostile input (${CASES} cases per service, seed ${SEED})`, () => {
  const procs: Proc[] = [];
  const ports: Record<string, number> = {};
  before(async () => {
    for (const kind of ['rng', 'hasher', 'webui'] as const) {
      // Port 9 (discard) on loopback: no Redis there, the webui's ledger calls fail (its 503s are expected).
      const { p, url } = await startService(kind, {
        LOG_LEVEL: 'warn',
        RNG_DELAY_MS: '1',
        HASHER_DELAY_MS: '1',
        REDIS_URL: 'redis://127.0.0.1:9',
        RNG_QUEUE_LIMIT: '100',
      });
      procs.push(p);
      ports[kind] = Number(new URL(url).port);
    }
  });
  after(() => Promise.all(procs.map((p) => p.stop('SIGKILL'))));

  it('answers every malformed request with a 4xx or a normal answer or closes it; never a 5xx; keeps serving', async () => {
    const rand = seeded(SEED);
    const tally = new Map<string, number>();
    const failures: string[] = [];
    for (const kind of ['rng', 'hasher', 'webui']) {
      let healthy = true;
      const watcher = (async () => {
        while (healthy) {
          const ok = (await get(`http://127.0.0.1:${ports[kind]}/healthz`, { timeoutMs: 2000 }).catch(() => null))?.status === 200;
          if (!ok) failures.push(`${kind} stopped serving /healthz during the fuzz`);
          await sleep(100);
        }
      })();
      for (let i = 0; i < CASES; i += 25) {
        const batch = Array.from({ length: 25 }, () => hostileCase(rand));
        const codes = await Promise.all(batch.map((c) => raw(ports[kind]!, c.bytes, `${kind}: ${c.what}`)));
        codes.forEach((code, j) => {
          // 503 is webui's honest "no Redis here"; any other 5xx is a bug.
          const acceptable = code <= 0 || (code >= 200 && code < 500) || (kind === 'webui' && code === 503);
          tally.set(`${kind} ${code}`, (tally.get(`${kind} ${code}`) ?? 0) + 1);
          if (!acceptable) failures.push(`${kind}: ${code} for ${batch[j]!.what}`);
        });
      }
      healthy = false;
      await watcher;
      assert.ok(
        procs.every((p) => p.alive),
        `${kind}: a service died`,
      );
    }
    failures.push(...(await Promise.all(lingering)).filter((x): x is string => x !== null));
    console.log(
      `hostile input, answers by service and status (-1: incomplete, closed by the server's timeout): ${[...tally].map(([k, v]) => `${k}:${v}`).join(' ')}`,
    );
    assert.deepEqual(failures.slice(0, 20), []);
  });

  it('closes slow clients (headers or body trickled) without blocking others', async () => {
    const trickle = (port: number, parts: string[]) =>
      new Promise<{ closedAfterMs: number; status: number; unsent: number }>((resolve) => {
        const t0 = Date.now();
        const s = connect(port, '127.0.0.1');
        let status = 0;
        s.on('data', (d) => (status ||= Number(/^HTTP\/1\.1 (\d{3})/.exec(d.toString())?.[1] ?? 0)));
        const timer = setInterval(() => {
          const next = parts.shift();
          if (next !== undefined) s.write(next);
        }, 1000);
        s.on('close', () => {
          clearInterval(timer);
          resolve({ closedAfterMs: Date.now() - t0, status, unsent: parts.length });
        });
        s.on('error', () => undefined);
      });
    const slowHeaders = Array.from({ length: 40 }, (_, i) => (i === 0 ? 'GET /32 HTTP/1.1\r\nHost: x\r\n' : `X-${i}: y\r\n`));
    const slowBody = ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', ...Array.from({ length: 40 }, () => 'a')];
    const [h, b] = await Promise.all([
      trickle(ports.rng!, slowHeaders),
      trickle(ports.hasher!, slowBody),
      (async () => {
        await sleep(2000);
        assert.equal((await get(`http://127.0.0.1:${ports.rng}/32`)).status, 200, 'others are served meanwhile');
      })(),
    ]);
    // Both would take 40 s to send: the server closed them mid-way, by its 10 s receive timeout (not earlier).
    console.log(`slow clients closed after ${h.closedAfterMs} ms (headers) and ${b.closedAfterMs} ms (body)`);
    assert.ok(h.unsent > 0 && h.closedAfterMs >= 9_000, `slow headers: closed after ${h.closedAfterMs} ms, ${h.unsent} parts unsent`);
    assert.ok(b.unsent > 0 && b.closedAfterMs >= 9_000, `slow body: closed after ${b.closedAfterMs} ms, ${b.unsent} parts unsent`);
    assert.ok([0, 408].includes(h.status) && [0, 408].includes(b.status), `${h.status} ${b.status}`);
  });
});
