// npm run bench [-- --quick] [-- --json FILE]
// Everything measured in one run, on loopback, side by side: the bare-Node ceiling, rng and hasher in turbo,
// the end-to-end pipeline in turbo (all-in-one and one process per service on a real Redis), the faithful
// rates next to the model, and the footprint (RSS, time to first hash, time to exit).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { slope } from '../src/webui/speed.js';
import { get, metric, waitFor } from '../test/helpers/net.js';
import { onFreePort } from '../test/helpers/ports.js';
import { CLI, cleanEnv } from '../test/helpers/proc.js';
import { TestRedis } from '../test/helpers/redis.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const LOAD_S = quick ? 3 : 4;
const E2E_S = quick ? 3 : 10;
const FAITHFUL_S = quick ? 6 : 30;
const TURBO = { RNG_DELAY_MS: '0', HASHER_DELAY_MS: '0', WORKER_DELAY_MS: '0', RNG_CONCURRENCY: '0' };
const QUIET = { LOG_LEVEL: 'warn', DRAIN_MS: '0', HOST: '127.0.0.1' };

interface Row {
  section: string;
  name: string;
  value: number;
  unit: string;
  note?: string;
}
const rows: Row[] = [];
function report(section: string, name: string, value: number, unit: string, note?: string): void {
  rows.push({ section, name, value, unit, note });
  console.log(`  ${name.padEnd(46)} ${fmt(value).padStart(10)} ${unit.padEnd(9)} ${note ?? ''}`);
}
const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));

class Child {
  readonly p: ChildProcess;
  output = '';
  constructor(cmd: string[], env: Record<string, string>) {
    this.p = spawn(process.execPath, cmd, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'inherit'] });
    this.p.stdout!.on('data', (d: Buffer) => {
      if (this.output.length < 100_000) this.output += d.toString();
    });
  }
  /** The port from the first line matching `re` (a service started on port 0 logs where it listens). */
  async port(re: RegExp): Promise<number> {
    const m = await waitFor(
      `port in output ${re}`,
      async () => {
        if (this.p.exitCode !== null) throw new Error(`exited: ${this.output.slice(-300)}`);
        return re.exec(this.output) ?? undefined;
      },
      20_000,
      20,
    );
    return Number(m[1]);
  }
  rssMb(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.p.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  }
  /** CPU seconds used so far (user + system), from /proc. */
  cpu(): number {
    const f = readFileSync(`/proc/${this.p.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  }
  async stop(): Promise<number> {
    const t0 = performance.now();
    if (this.p.exitCode !== null) return 0;
    const done = new Promise((r) => this.p.once('exit', r));
    this.p.kill('SIGTERM');
    await done;
    return performance.now() - t0;
  }
}

let serial = 0;
/** A service on a port found free; its x-served-by (a name of our own) proves the port is its. */
async function service(kind: string, env: Record<string, string>): Promise<{ c: Child; url: string }> {
  const name = `bench-${kind}-${process.pid}-${++serial}`;
  return onFreePort(async (port) => {
    const c = new Child([CLI, kind], { ...QUIET, ...env, HOSTNAME: name, PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(kind, async () => {
      if (c.p.exitCode !== null) throw new Error(`${kind} exited`);
      return (await get(`${url}/healthz`, { timeoutMs: 500 })).headers.get('x-served-by') === name;
    });
    return { c, url };
  });
}

const LISTEN = `.listen(0,'127.0.0.1',function(){console.log('port '+this.address().port)})`;
const BARE_RNG = `require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/octet-stream'});s.end(require('crypto').randomBytes(32))})${LISTEN}`;
const BARE_HASHER = `require('http').createServer((q,s)=>{const h=require('crypto').createHash('sha256');q.on('data',d=>h.update(d));q.on('end',()=>{s.writeHead(200,{'content-type':'text/plain'});s.end(h.digest('hex'))})})${LISTEN}`;

async function bare(code: string): Promise<{ c: Child; url: string }> {
  const c = new Child(['-e', code], {});
  const url = `http://127.0.0.1:${await c.port(/port (\d+)/)}`;
  await waitFor('bare server', async () => (await get(`${url}/`, { timeoutMs: 500 })).ok);
  return { c, url };
}

async function load(url: string, post: boolean, seconds = LOAD_S): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const r = await autocannon({
    url,
    connections: 32,
    duration: seconds,
    ...(post ? { method: 'POST', body: Buffer.alloc(32, 7), headers: { 'content-type': 'application/octet-stream' } } : {}),
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A service against the bare-Node ceiling doing the same work, in alternating rounds (this machine's run-to-run
 *  noise is ±10 %; alternating and taking medians keeps the ratio honest). */
async function versus(
  name: string,
  ceiling: () => Promise<{ c: Child; url: string }>,
  svc: () => Promise<{ c: Child; url: string }>,
  path: string,
  post: boolean,
): Promise<void> {
  const [a, b] = [await ceiling(), await svc()];
  const rounds = quick ? 1 : 3;
  const bare: number[] = [];
  const ours: Awaited<ReturnType<typeof load>>[] = [];
  await load(`${a.url}/`, post, quick ? 1 : 2);
  await load(`${b.url}${path}`, post, quick ? 1 : 2);
  for (let i = 0; i < rounds; i++) {
    bare.push((await load(`${a.url}/`, post)).rps);
    ours.push(await load(`${b.url}${path}`, post));
  }
  const rss = b.c.rssMb();
  await Promise.all([a.c.stop(), b.c.stop()]);
  const best = ours.sort((x, y) => x.rps - y.rps)[Math.floor(ours.length / 2)]!;
  report('http', `ceiling for ${name}: bare node:http`, median(bare), 'req/s', `median of ${rounds}`);
  report(
    'http',
    name,
    best.rps,
    'req/s',
    `${Math.round((100 * best.rps) / median(bare))} % of ceiling · p50 ${best.p50} ms · p99 ${best.p99} ms · RSS ${rss.toFixed(0)} MB${best.errors ? ` · ${best.errors} errors` : ''}`,
  );
}

async function httpSection(): Promise<void> {
  console.log(`\nHTTP, 32 connections (autocannon), alternating ${LOAD_S} s rounds against the bare-Node ceiling`);
  await versus(
    'rng GET /32 (turbo)',
    () => bare(BARE_RNG),
    () => service('rng', TURBO),
    '/32',
    false,
  );
  await versus(
    'hasher POST / 32 bytes (turbo)',
    () => bare(BARE_HASHER),
    () => service('hasher', TURBO),
    '/',
    true,
  );
  await versus(
    'rng GET /32 (turbo, access log on)',
    () => bare(BARE_RNG),
    () => service('rng', { ...TURBO, LOG_LEVEL: 'info' }),
    '/32',
    false,
  );
}

/** hashes/s from the workers' own unit counters, a least-squares fit over samples (no flush aliasing). */
async function unitRate(metricsUrl: string, seconds: number): Promise<number> {
  const pts: [number, number][] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    pts.push([performance.now() / 1000, await metric(metricsUrl, 'dockercoins_worker_units_total')]);
    await sleep(200);
  }
  return slope(pts) ?? NaN;
}

async function up(extra: string[], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const ports = { ...QUIET, ...env, WEBUI_PORT: '0', RNG_PORT: '0', HASHER_PORT: '0' };
  const { c, metrics } = await onFreePort(async (admin) => {
    const c = new Child([CLI, 'up', ...extra], { ...ports, METRICS_PORT: String(admin) });
    const metrics = `http://127.0.0.1:${admin}/metrics`;
    await waitFor(
      'admin listener',
      async () => {
        if (c.p.exitCode !== null) throw new Error('exited');
        return (await get(metrics, { timeoutMs: 500 })).ok;
      },
      20_000,
      10,
    );
    return { c, metrics };
  });
  await waitFor('first unit', async () => (await metric(metrics, 'dockercoins_worker_units_total').catch(() => 0)) > 0, 20_000, 10);
  return { c, metrics, firstUnitMs: performance.now() - t0 };
}

async function e2eSection(): Promise<void> {
  console.log(`\nEnd to end, turbo (every delay 0), ${E2E_S} s each — one unit = one rng call + one hasher call`);
  for (const workers of [16, 64]) {
    const u = await up(['--turbo', '--scale', `worker=${workers}`]);
    await sleep(1500);
    const cpu0 = u.c.cpu();
    const rate = await unitRate(u.metrics, E2E_S);
    const cpu = (u.c.cpu() - cpu0) / E2E_S;
    const rss = u.c.rssMb();
    await u.c.stop();
    report(
      'e2e',
      `all-in-one npm start --turbo, ${workers} workers`,
      rate,
      'hashes/s',
      `1 process · CPU ${(cpu * 100).toFixed(0)} % · RSS ${rss.toFixed(0)} MB`,
    );
  }
  const redis = await new TestRedis().start();
  try {
    const rngS = await service('rng', TURBO);
    const hasherS = await service('hasher', TURBO);
    const workerProcs: Child[] = [];
    const adminPorts: number[] = [];
    for (let i = 0; i < 2; i++) {
      await onFreePort(async (port) => {
        const c = new Child([CLI, 'worker'], {
          ...QUIET,
          ...TURBO,
          WORKER_CONCURRENCY: '32',
          REDIS_URL: redis.url,
          RNG_URL: rngS.url,
          HASHER_URL: hasherS.url,
          METRICS_PORT: String(port),
        });
        await waitFor('worker', async () => {
          if (c.p.exitCode !== null) throw new Error('exited');
          return (await get(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 500 })).ok;
        });
        workerProcs.push(c);
        adminPorts.push(port);
      });
    }
    await sleep(1500);
    const all = [rngS.c, hasherS.c, ...workerProcs];
    const cpu0 = all.map((c) => c.cpu());
    const rates = await Promise.all(adminPorts.map((p) => unitRate(`http://127.0.0.1:${p}/metrics`, E2E_S)));
    const cpu = all.map((c, i) => ((c.cpu() - cpu0[i]!) / E2E_S) * 100);
    const rss = all.map((c) => c.rssMb());
    const raw = redis.client();
    const inRedis = Number(await raw.get('hashes'));
    raw.disconnect();
    await Promise.all(all.map((c) => c.stop()));
    report(
      'e2e',
      'one process per service, real Redis (2 worker processes)',
      rates.reduce((a, b) => a + b, 0),
      'hashes/s',
      `CPU rng ${cpu[0]!.toFixed(0)} % · hasher ${cpu[1]!.toFixed(0)} % · workers ${cpu
        .slice(2)
        .map((c) => c.toFixed(0))
        .join('+')} % · RSS max ${Math.max(...rss).toFixed(0)} MB · Redis ${inRedis}`,
    );
  } finally {
    await redis.close();
  }
}

async function faithfulSection(): Promise<void> {
  console.log(`\nFaithful mode (default delays), all four side by side, fit over ${FAITHFUL_S} s`);
  const cases: [string, string[], number][] = [
    ['1 worker', [], 10 / 3],
    ['2 workers', ['--scale', 'worker=2'], 20 / 3],
    ['10 workers, 1 rng', ['--scale', 'worker=10'], 10],
    ['10 workers, 3 rng', ['--scale', 'worker=10', '--scale', 'rng=3'], 30],
  ];
  const systems = await Promise.all(cases.map(([, a]) => up(a)));
  await sleep(2000);
  const rates = await Promise.all(systems.map((s) => unitRate(s.metrics, FAITHFUL_S)));
  const rss = systems.map((s) => s.c.rssMb());
  await Promise.all(systems.map((s) => s.c.stop()));
  cases.forEach(([name, , model], i) => {
    const err = ((rates[i]! - model) / model) * 100;
    report(
      'faithful',
      name,
      rates[i]!,
      'hashes/s',
      `model ${model.toFixed(2)} · error ${err >= 0 ? '+' : ''}${err.toFixed(1)} % · RSS ${rss[i]!.toFixed(0)} MB`,
    );
  });
}

async function footprintSection(): Promise<void> {
  console.log('\nFootprint');
  const firsts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const u = await up([]);
    firsts.push(u.firstUnitMs);
    await u.c.stop();
  }
  report(
    'footprint',
    'npm start → first hash (median of 3)',
    firsts.sort((a, b) => a - b)[1]!,
    'ms',
    'process spawn included; one unit = 300 ms of deliberate sleeps',
  );
  const u = await up([]);
  await sleep(500);
  report('footprint', 'npm start: SIGTERM → exit', await u.c.stop(), 'ms');
  for (const kind of ['rng', 'hasher']) {
    const s = await service(kind, {});
    const idle = s.c.rssMb();
    const post = kind === 'hasher';
    await autocannon({ url: `${s.url}/${post ? '' : '32'}`, connections: 100, duration: 2, ...(post ? { method: 'POST', body: Buffer.alloc(32) } : {}) });
    const loaded = s.c.rssMb();
    const exitMs = await s.c.stop();
    report(
      'footprint',
      `${kind}: RSS idle / after a 100-connection flood`,
      loaded,
      'MB',
      `idle ${idle.toFixed(0)} MB · SIGTERM → exit ${exitMs.toFixed(0)} ms (DRAIN_MS=0)`,
    );
  }
}

const t0 = Date.now();
console.log(`DockerCoins benchmark${quick ? ' (quick)' : ''} — Node ${process.version}, ${(await import('node:os')).cpus().length} CPUs`);
const sections: Record<string, () => Promise<void>> = { http: httpSection, e2e: e2eSection, faithful: faithfulSection, footprint: footprintSection };
for (const [name, run] of Object.entries(sections)) if (!only || only === name) await run();
console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
if (jsonOut) mkdirSync(dirname(jsonOut), { recursive: true });
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ node: process.version, quick, at: new Date().toISOString(), rows }, null, 2)}\n`);
process.exit(0);
