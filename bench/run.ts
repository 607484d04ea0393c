// npm run bench [-- --quick] [-- --json FILE] [-- --compare FILE] [-- --only http|e2e|original|tracing|faithful|footprint]
// Everything measured in one run, side by side, as ratios to a ceiling measured in the same run (figures move from
// machine to machine; ratios much less): bare node:http servers and a bare node:http pipeline doing the same unit of
// work, the original stack itself (run-original.sh) and the original's model for the faithful rates. Ceiling and ours
// run in alternating rounds (this machine's run-to-run noise is ±10 %), one at a time, and the medians are compared.
// The machine and its bare ceilings print first, then one line per measurement, then the ratios (beside a previous
// run's with --compare).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { slope } from '../src/webui/speed.js';
import { json, metric, waitFor } from '../test/helpers/net.js';
import { OtlpReceiver } from '../test/helpers/otlp.js';
import { Proc, startService, startUp, startUpWithMetrics, startWorker } from '../test/helpers/proc.js';
import { type BenchResults, compareTable, type Machine, machineLine, type Row, ratioText, readResults } from './compare.js';
import { originalMissing, runOriginal } from './original.js';
import { BenchRedis } from './redis.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const jsonOut = option('--json');
const only = option('--only');
const compareWith = option('--compare');
const ROUNDS = quick ? 1 : 5;
const LOAD_S = quick ? 2 : 4;
const E2E_S = quick ? 4 : 8;
const FAITHFUL_S = quick ? 6 : 30;
const TURBO = { RNG_DELAY_MS: '0', HASHER_DELAY_MS: '0', WORKER_DELAY_MS: '0', RNG_CONCURRENCY: '0' };
const QUIET = { LOG_LEVEL: 'warn' };
const BARE = (name: string) => fileURLToPath(new URL(`bare/${name}.cjs`, import.meta.url));

const rows: Row[] = [];
const fmt = (v: number) => (!Number.isFinite(v) ? 'not measured' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
/** One line per measurement: the ratio first (it travels), then the figure of this machine. */
function report(row: Row): void {
  rows.push(row);
  const ratio = row.ratio ? ratioText(row.ratio).padStart(6) : '      ';
  const of = row.ratio ? ` — ${ratioText(row.ratio)} ${row.ratio.times ? '' : 'of '}${row.ratio.of}${row.ratio.goal ? ` (goal ${row.ratio.goal})` : ''}` : '';
  console.log(`  ${ratio}  ${row.name.padEnd(50)} ${fmt(row.value).padStart(12)} ${row.unit.padEnd(9)}${of}${row.note ? ` · ${row.note}` : ''}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** The spread of the rounds, for the note: the median alone hides how noisy the machine was. */
const range = (xs: number[]) => (xs.length < 2 ? 'one round' : `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** CPU seconds (user + system, every thread) used so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function bareServer(kind: 'rng' | 'hasher'): Promise<{ p: Proc; url: string; port: number }> {
  const p = new Proc([], {}, { script: BARE(kind) });
  const port = Number((await p.waitOutput(/port (\d+)/))[1]);
  return { p, url: `http://127.0.0.1:${port}`, port };
}

async function stopped(...procs: Proc[]): Promise<number[]> {
  return Promise.all(procs.map(async (p) => (await p.stop('SIGTERM')).ms));
}

/** hashes/s from a counter sampled every 200 ms: a least-squares fit, so flush steps do not skew it. */
async function fitRate(read: () => Promise<number>, seconds: number): Promise<number> {
  const pts: [number, number][] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    pts.push([performance.now() / 1000, await read()]);
    await sleep(200);
  }
  return slope(pts) ?? Number.NaN;
}

// ---- HTTP: rng and hasher against bare node:http doing the same work ---------------------------------------------

async function load(url: string, post: boolean, seconds = LOAD_S) {
  const r = await autocannon({
    url,
    connections: 32,
    duration: seconds,
    ...(post ? { method: 'POST', body: Buffer.alloc(32, 7), headers: { 'content-type': 'application/octet-stream' } } : {}),
  });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/**
 * Where `taskset` exists and there are two CPUs or more, the load generator (this process) keeps CPU 0 and the server
 * under test gets CPU 1: they no longer take turns on the same cores, which made rounds swing by ±15 %.
 */
function pin(pid: number, cpu: string): void {
  if (cpus().length < 2) return;
  try {
    execFileSync('taskset', ['-a', '-cp', cpu, String(pid)], { stdio: 'ignore' });
  } catch {
    // no taskset here: rounds are only noisier
  }
}

async function versus(name: string, kind: 'rng' | 'hasher', env: Record<string, string>, goal: string): Promise<void> {
  const post = kind === 'hasher';
  const [bare, ours] = [await bareServer(kind), await startService(kind, { ...QUIET, ...TURBO, ...env })];
  pin(bare.p.pid, '1');
  pin(ours.p.pid, '1');
  const path = post ? '/' : '/32';
  await load(`${bare.url}/`, post, 1);
  await load(`${ours.url}${path}`, post, 1);
  const b: number[] = [];
  const o: Awaited<ReturnType<typeof load>>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    b.push((await load(`${bare.url}/`, post)).rps);
    o.push(await load(`${ours.url}${path}`, post));
  }
  const rss = rssMb(ours.p.pid);
  await stopped(bare.p, ours.p);
  const best = o.sort((x, y) => x.rps - y.rps)[Math.floor(o.length / 2)]!;
  report({ section: 'http', name: `${name}: bare node:http`, value: median(b), unit: 'req/s', note: `ceiling, median of ${ROUNDS}` });
  report({
    section: 'http',
    name,
    value: best.rps,
    unit: 'req/s',
    ratio: { value: best.rps / median(b), of: 'bare node:http', goal },
    note: `p99 ${best.p99} ms · RSS ${rss.toFixed(0)} MB${best.errors ? ` · ${best.errors} errors` : ''}`,
  });
}

async function httpSection(): Promise<void> {
  console.log(`\nHTTP, 32 connections (autocannon on CPU 0, the server on CPU 1), ${ROUNDS} alternating ${LOAD_S} s rounds against bare node:http`);
  pin(process.pid, '0');
  try {
    await versus('rng GET /32 (turbo)', 'rng', {}, '≥ 75 %');
    await versus('hasher POST / 32 bytes (turbo)', 'hasher', {}, '≥ 75 %');
    await versus('rng GET /32 (turbo, access log on)', 'rng', { LOG_LEVEL: 'info', ACCESS_LOG: 'on' }, '≥ 50 %');
  } finally {
    pin(process.pid, `0-${cpus().length - 1}`);
  }
}

// ---- end to end: the pipeline, against a bare node:http pipeline doing the same unit --------------------------------

/** The ceiling: bare rng, bare hasher, and one bare worker process with 16 keep-alive loops. */
async function barePipeline(seconds = E2E_S): Promise<number> {
  const [rng, hasher] = [await bareServer('rng'), await bareServer('hasher')];
  const worker = new Proc([String(rng.port), String(hasher.port), '16', '1.5', String(seconds)], {}, { script: BARE('worker') });
  const rate = Number((await worker.waitOutput(/rate ([\d.]+)/, (seconds + 20) * 1000))[1]);
  await stopped(worker, rng.p, hasher.p);
  return rate;
}

/** `dockercoins up --turbo --scale worker=8`, as `npm start -- --turbo --scale worker=8` runs it. */
async function allInOne(env: Record<string, string> = {}): Promise<{ rate: number; cpu: number; rss: number }> {
  const { p, webui } = await startUp(['--turbo', '--scale', 'worker=8'], env);
  const hashes = async () => (await json<{ hashes: number }>(`${webui}/json`)).hashes;
  await waitFor('mining', async () => (await hashes()) > 0, 20_000, 50);
  await sleep(1500);
  const cpu0 = cpuSeconds(p.pid);
  const rate = await fitRate(hashes, E2E_S);
  const cpu = (cpuSeconds(p.pid) - cpu0) / E2E_S;
  const rss = rssMb(p.pid);
  await stopped(p);
  return { rate, cpu, rss };
}

/** One process per service, as the containers run them: rng, hasher, one worker process of 16 loops, real Redis. */
async function perService(redis: BenchRedis): Promise<{ rate: number; cpu: number[] }> {
  const [rng, hasher] = await Promise.all([startService('rng', { ...QUIET, ...TURBO }), startService('hasher', { ...QUIET, ...TURBO })]);
  const w = await startWorker({ ...QUIET, ...TURBO, WORKER_CONCURRENCY: '16', REDIS_URL: redis.url, RNG_URL: rng.url, HASHER_URL: hasher.url });
  const units = () => metric(`${w.url}/metrics`, 'dockercoins_worker_units_total');
  await sleep(1500);
  const all = [rng.p, hasher.p, w.p];
  const pids = [...all.map((p) => p.pid), redis.pid];
  const cpu0 = pids.map(cpuSeconds);
  const rate = await fitRate(units, E2E_S);
  const cpu = pids.map((pid, i) => ((cpuSeconds(pid) - cpu0[i]!) / E2E_S) * 100);
  await stopped(...all);
  return { rate, cpu };
}

async function e2eSection(): Promise<void> {
  console.log(`\nEnd to end, turbo (every delay 0), ${ROUNDS} alternating ${E2E_S} s rounds — one unit = one rng call + one hasher call`);
  const redis = await new BenchRedis().start();
  const bare: number[] = [];
  const aio: Awaited<ReturnType<typeof allInOne>>[] = [];
  const split: Awaited<ReturnType<typeof perService>>[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      bare.push(await barePipeline());
      aio.push(await allInOne());
      split.push(await perService(redis));
    }
  } finally {
    await redis.close();
  }
  const ceiling = median(bare);
  const a = aio.sort((x, y) => x.rate - y.rate)[Math.floor(aio.length / 2)]!;
  const s = split.sort((x, y) => x.rate - y.rate)[Math.floor(split.length / 2)]!;
  report({ section: 'e2e', name: 'bare pipeline: node:http, 3 processes, 16 loops', value: ceiling, unit: 'hashes/s', note: `ceiling, median of ${ROUNDS}` });
  report({
    section: 'e2e',
    name: 'npm start -- --turbo --scale worker=8',
    value: a.rate,
    unit: 'hashes/s',
    ratio: { value: a.rate / ceiling, of: 'the bare pipeline', goal: '≥ 70 %' },
    note: `1 process, threads, in-memory ledger · CPU ${(a.cpu * 100).toFixed(0)} % · RSS ${a.rss.toFixed(0)} MB · range ${range(aio.map((x) => x.rate))}`,
  });
  report({
    section: 'e2e',
    name: 'one process per service, 16 loops, real Redis',
    value: s.rate,
    unit: 'hashes/s',
    ratio: { value: s.rate / ceiling, of: 'the bare pipeline', goal: '≥ 80 %' },
    note: `CPU rng ${s.cpu[0]!.toFixed(0)} % · hasher ${s.cpu[1]!.toFixed(0)} % · worker ${s.cpu[2]!.toFixed(0)} % · redis ${s.cpu[3]!.toFixed(0)} % · range ${range(split.map((x) => x.rate))}`,
  });
}

// ---- the original: ours and the original stack on a real Redis each, 8 workers, turbo, alternating rounds -----------

/** `dockercoins up --turbo --scale worker=8 --redis URL`, measured as run-original.sh measures the original: Redis `hashes`. */
async function allInOneOnRedis(redis: BenchRedis): Promise<{ rate: number; cpu: number; redisCpu: number }> {
  await redis.flush();
  const { p } = await startUp(['--turbo', '--scale', 'worker=8', '--redis', redis.url]);
  await waitFor('mining', async () => (await redis.hashes()) > 0, 20_000, 50);
  await sleep(1500);
  const [cpu0, r0] = [cpuSeconds(p.pid), cpuSeconds(redis.pid)];
  const rate = await fitRate(() => redis.hashes(), E2E_S);
  const cpu = (cpuSeconds(p.pid) - cpu0) / E2E_S;
  const redisCpu = (cpuSeconds(redis.pid) - r0) / E2E_S;
  await stopped(p);
  return { rate, cpu, redisCpu };
}

async function originalSection(): Promise<void> {
  console.log(
    `\nThe original (run-original.sh --turbo: Flask rng, Sinatra/Thin hasher, 8 Python workers) and ours, each on a redis-server of its own, ${ROUNDS} alternating ${E2E_S} s rounds`,
  );
  const missing = originalMissing();
  const redis = await new BenchRedis().start();
  const ours: Awaited<ReturnType<typeof allInOneOnRedis>>[] = [];
  const theirs: number[] = [];
  const warnings = new Set<string>();
  let failed = missing;
  try {
    for (let i = 0; i < ROUNDS; i++) {
      ours.push(await allInOneOnRedis(redis));
      if (failed) continue;
      try {
        const r = await runOriginal(8, E2E_S, quick ? 2 : 3);
        theirs.push(r.rate);
        for (const w of r.warnings) warnings.add(w);
      } catch (err) {
        failed = (err as Error).message;
      }
    }
  } finally {
    await redis.close();
  }
  const o = ours.sort((x, y) => x.rate - y.rate)[Math.floor(ours.length / 2)]!;
  const original = theirs.length > 0 && !failed ? median(theirs) : Number.NaN;
  report({
    section: 'original',
    name: 'the original, turbo, 8 workers, real Redis',
    value: original,
    unit: 'hashes/s',
    note: Number.isFinite(original)
      ? `median of ${theirs.length} · range ${range(theirs)}${warnings.size ? ` · ${[...warnings].join('; ')}` : ''}`
      : `not measured: ${failed}`,
  });
  report({
    section: 'original',
    name: 'npm start -- --turbo --scale worker=8 --redis',
    value: o.rate,
    unit: 'hashes/s',
    ratio: { value: o.rate / original, of: "the original's rate", goal: '≥ ×15', times: true },
    note: `range ${range(ours.map((x) => x.rate))} · CPU ${(o.cpu * 100).toFixed(0)} % · redis-server ${(o.redisCpu * 100).toFixed(0)} %${Number.isFinite(original) ? '' : ' · the original not measured'}`,
  });
}

// ---- tracing: the same turbo all-in-one, every unit traced, side by side with tracing off -------------------------

async function tracingSection(): Promise<void> {
  console.log(`\nTracing: npm start -- --turbo --scale worker=8, off, at 100 % and at 10 % sampling to an OTLP/HTTP receiver, ${ROUNDS} alternating rounds`);
  const receiver = await new OtlpReceiver().start();
  receiver.decode = false;
  const on = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'always_on' };
  const tenth = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' };
  const off: Awaited<ReturnType<typeof allInOne>>[] = [];
  const traced: Awaited<ReturnType<typeof allInOne>>[] = [];
  const sampled: Awaited<ReturnType<typeof allInOne>>[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      off.push(await allInOne());
      traced.push(await allInOne(on));
      sampled.push(await allInOne(tenth));
    }
  } finally {
    await receiver.stop();
  }
  const mid = (xs: typeof off) => xs.sort((x, y) => x.rate - y.rate)[Math.floor(xs.length / 2)]!;
  const [a, t, s] = [mid(off), mid(traced), mid(sampled)];
  const note = (r: typeof a) => `CPU ${(r.cpu * 100).toFixed(0)} % · RSS ${r.rss.toFixed(0)} MB`;
  report({ section: 'tracing', name: 'turbo all-in-one, tracing off', value: a.rate, unit: 'hashes/s', note: `ceiling, median of ${ROUNDS} · ${note(a)}` });
  report({
    section: 'tracing',
    name: 'turbo all-in-one, every unit traced',
    value: t.rate,
    unit: 'hashes/s',
    ratio: { value: t.rate / a.rate, of: 'tracing off', goal: '≥ 60 %' },
    note: `${note(t)} · ${receiver.requests} exports, ${(receiver.bytes / 1e6).toFixed(0)} MB of spans received in all`,
  });
  report({
    section: 'tracing',
    name: 'turbo all-in-one, one unit in ten traced',
    value: s.rate,
    unit: 'hashes/s',
    ratio: { value: s.rate / a.rate, of: 'tracing off', goal: '≥ 85 %' },
    note: note(s),
  });
}

// ---- faithful: the original's delays, the rates of its model -------------------------------------------------------

const units = (metricsUrl: string) => () => metric(`${metricsUrl}/metrics`, 'dockercoins_worker_units_total');

async function faithfulSection(): Promise<void> {
  console.log(`\nFaithful mode (default delays), all four side by side, fit over ${FAITHFUL_S} s of the workers' unit counters`);
  const cases: [string, string[], number][] = [
    ['1 worker', [], 10 / 3],
    ['2 workers', ['--scale', 'worker=2'], 20 / 3],
    ['10 workers, 1 rng', ['--scale', 'worker=10'], 10],
    ['10 workers, 3 rng', ['--scale', 'worker=10', '--scale', 'rng=3'], 30],
  ];
  const systems = await Promise.all(cases.map(([, a]) => startUpWithMetrics(a, QUIET)));
  await sleep(3000);
  const rates = await Promise.all(systems.map((s) => fitRate(units(s.url), FAITHFUL_S)));
  const rss = systems.map((s) => rssMb(s.p.pid));
  await stopped(...systems.map((s) => s.p));
  cases.forEach(([name, , model], i) => {
    report({
      section: 'faithful',
      name,
      value: rates[i]!,
      unit: 'hashes/s',
      ratio: { value: rates[i]! / model, of: `the model's ${model.toFixed(2)}`, goal: '97–103 %' },
      note: `RSS ${rss[i]!.toFixed(0)} MB`,
    });
  });
}

// ---- footprint: start, stop, memory ---------------------------------------------------------------------------------

async function footprintSection(): Promise<void> {
  console.log("\nFootprint (services started as the package's bin starts them)");
  const first: number[] = [];
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    // The worker says when its first unit was done ("No coin found" or "Coin found" at debug): the time in that log
    // line, less the time of the spawn, is the first hash — however late the line itself is read.
    const t0 = Date.now();
    const p = new Proc(['up'], { WEBUI_PORT: '0', RNG_PORT: '0', HASHER_PORT: '0', LOG_LEVEL: 'debug', LOG_FORMAT: 'json' });
    const line = (await p.waitOutput(/^\{[^\n]*"msg":"(No coin found|Coin found)[^\n]*$/m, 20_000))[0];
    first.push((JSON.parse(line) as { time: number }).time - t0);
    await stopped(p);
  }
  report({
    section: 'footprint',
    name: `npm start → first hash (median of ${first.length})`,
    value: median(first),
    unit: 'ms',
    note: 'goal ≤ 500 ms · process start included; one unit = 300 ms of deliberate sleeps',
  });
  const { p } = await startUp();
  await sleep(500);
  report({ section: 'footprint', name: 'npm start: SIGTERM → exit', value: (await p.stop('SIGTERM')).ms, unit: 'ms', note: 'goal ≤ 1 s (the contract)' });
  for (const kind of ['rng', 'hasher'] as const) {
    const s = await startService(kind, { ...QUIET, ...TURBO }, true);
    await sleep(500);
    const idle = rssMb(s.p.pid);
    const post = kind === 'hasher';
    await autocannon({ url: `${s.url}/${post ? '' : '32'}`, connections: 100, duration: 2, ...(post ? { method: 'POST', body: Buffer.alloc(32) } : {}) });
    const flooded = rssMb(s.p.pid);
    const [exitMs] = await stopped(s.p);
    report({ section: 'footprint', name: `${kind}: RSS idle`, value: idle, unit: 'MB', note: 'goal ≤ 58 MB' });
    report({
      section: 'footprint',
      name: `${kind}: RSS right after a 100-connection flood`,
      value: flooded,
      unit: 'MB',
      note: `goal ≤ 72 MB · SIGTERM → exit ${exitMs!.toFixed(0)} ms (DRAIN_MS=0)`,
    });
  }
}

/** Which machine this is, and its bare ceilings measured before anything else (one short round each). */
async function machine(): Promise<Machine> {
  const m: Machine = { cpu: cpus()[0]?.model.trim() ?? 'unknown CPU', cores: availableParallelism(), node: process.version, load: loadavg()[0]! };
  pin(process.pid, '0');
  const ceiling = async (kind: 'rng' | 'hasher') => {
    const bare = await bareServer(kind);
    pin(bare.p.pid, '1');
    await load(`${bare.url}/`, kind === 'hasher', 1);
    const { rps } = await load(`${bare.url}/`, kind === 'hasher', quick ? 1 : 2);
    await stopped(bare.p);
    return rps;
  };
  try {
    const [rng, hasher] = [await ceiling('rng'), await ceiling('hasher')];
    pin(process.pid, `0-${cpus().length - 1}`);
    m.ceilings = { rng, hasher, pipeline: await barePipeline(quick ? 2 : 4) };
  } finally {
    pin(process.pid, `0-${cpus().length - 1}`);
  }
  return m;
}

const t0 = Date.now();
const previous = compareWith ? readResults(compareWith) : undefined;
console.log(`DockerCoins benchmark${quick ? ' (quick)' : ''}`);
const here = await machine();
console.log(`Machine: ${machineLine(here)}`);
const sections: Record<string, () => Promise<void>> = {
  http: httpSection,
  e2e: e2eSection,
  original: originalSection,
  tracing: tracingSection,
  faithful: faithfulSection,
  footprint: footprintSection,
};
if (only && !sections[only]) throw new Error(`--only ${only}: one of ${Object.keys(sections).join(', ')}`);
for (const [name, run] of Object.entries(sections)) if (!only || only === name) await run();
console.log('\nRatios (what moves little from machine to machine):');
for (const r of rows.filter((x) => x.ratio))
  console.log(
    `  ${ratioText(r.ratio).padStart(6)}  ${r.name} — ${r.ratio!.times ? '' : 'of '}${r.ratio!.of}${r.ratio!.goal ? ` (goal ${r.ratio!.goal})` : ''}`,
  );
if (previous) console.log(`\n${compareTable(rows, previous, compareWith!, here).join('\n')}`);
console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
if (jsonOut) {
  mkdirSync(dirname(jsonOut), { recursive: true });
  const results: BenchResults = { machine: here, quick, at: new Date().toISOString(), rows };
  // NaN (not measured) is written as null.
  writeFileSync(jsonOut, `${JSON.stringify(results, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}
process.exit(0);
