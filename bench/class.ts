// A class of 30 on this engine (npm run bench:class; CLASS_SIZE=N for another size): time to provision, then over
// one window the CPU of every container of the class (cgroups) and of the engine's own processes (dockerd,
// containerd, the class's shims), the memory, each tenant's rate (the model: 3.33 hashes/s per worker), and a
// screenshot of the class page with every tenant. Everything it made is removed at the end, whatever happens.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { startClassPage } from '../src/class/serve.js';
import { loadConfig } from '../src/config.js';
import { connectEngine, containersLabelled, DEFAULT_DOCKER_HOST } from '../src/engine/docker.js';
import { LABEL } from '../src/tenants/names.js';
import { addTenants, imagesFor, listTenants, removeAll, type Scope } from '../src/tenants/provision.js';
import { slope } from '../src/webui/speed.js';
import { launchChromium, screenshotPath } from '../test/helpers/browser.js';
import { testImages } from '../test/helpers/images.js';
import { waitFor } from '../test/helpers/net.js';

const SIZE = Number(process.env.CLASS_SIZE ?? 30);
const WINDOW_S = Number(process.env.CLASS_WINDOW_S ?? 60);
const CLASS = 't22bench';
const MODEL = 10 / 3;
const HZ = 100; // USER_HZ: /proc/<pid>/stat times are in 1/100 s on Linux
const dockerHost = process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST;

const images = testImages();
const [registry, tag] = [images.rng.split('/')[0]!, images.rng.split(':')[1]!];
const engine = connectEngine(dockerHost, 120_000);
const scope: Scope = { engine, classId: CLASS, images: imagesFor(registry, tag) };

const read = (f: string) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return null;
  }
};
/** A container's CPU (ns) and memory (bytes) from its cgroup (v1 cgroupfs, or v2). */
function cgroup(id: string): { cpuNs: number; memory: number } | null {
  const v1 = read(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`);
  if (v1 !== null) {
    const mem = Number(read(`/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`) ?? 0);
    const cache = Number(/^total_inactive_file (\d+)/m.exec(read(`/sys/fs/cgroup/memory/docker/${id}/memory.stat`) ?? '')?.[1] ?? 0);
    return { cpuNs: Number(v1), memory: mem - cache };
  }
  for (const dir of [`/sys/fs/cgroup/docker/${id}`, `/sys/fs/cgroup/system.slice/docker-${id}.scope`]) {
    const stat = read(`${dir}/cpu.stat`);
    if (stat) return { cpuNs: Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0) * 1000, memory: Number(read(`${dir}/memory.current`) ?? 0) };
  }
  return null;
}

/**
 * CPU seconds from /proc of dockerd, containerd, the shims of the given containers and the docker-proxy processes, and
 * of the kernel's own threads (kworker, ksoftirqd, and on some virtual machines kdamond, the kernel's memory-access
 * monitor, which grows with the memory in use).
 */
function engineProcesses(ids: Set<string>): { dockerd: number; containerd: number; shims: number; proxies: number; kernelThreads: number } {
  const out = { dockerd: 0, containerd: 0, shims: 0, proxies: 0, kernelThreads: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = read(`/proc/${entry}/comm`)?.trim();
    const engine = comm === 'dockerd' || comm === 'containerd' || comm === 'docker-proxy' || comm?.startsWith('containerd-shim');
    const stat = read(`/proc/${entry}/stat`);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(f[11]) + Number(f[12])) / HZ;
    // A kernel thread: parent kthreadd (pid 2), or kthreadd itself.
    if (!engine) {
      if (f[1] === '2' || entry === '2') out.kernelThreads += seconds;
      continue;
    }
    if (comm === 'dockerd') out.dockerd += seconds;
    else if (comm === 'containerd') out.containerd += seconds;
    else if (comm === 'docker-proxy') out.proxies += seconds;
    else {
      const id = /-id ([0-9a-f]{64})/.exec((read(`/proc/${entry}/cmdline`) ?? '').replace(/\0/g, ' '))?.[1];
      if (id && ids.has(id)) out.shims += seconds;
    }
  }
  return out;
}

/** The whole machine's busy CPU seconds and its core count, from /proc/stat (user+nice+system+irq+softirq+steal). */
function machine(): { busy: number; cores: number } {
  const lines = (read('/proc/stat') ?? '').split('\n');
  const f = lines[0]!.split(/\s+/).slice(1).map(Number);
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return { busy: busy / HZ, cores: lines.filter((l) => /^cpu\d/.test(l)).length };
}

async function main(): Promise<void> {
  // The screenshot at the end needs Chromium: better to know before 30 tenants are provisioned and measured.
  await (await launchChromium()).close();
  const started = Date.now();
  const names = Array.from({ length: SIZE }, (_, i) => `student-${String(i + 1).padStart(2, '0')}`);
  const timings: number[] = [];
  // As an instructor would: `dockercoins tenant add student-01 … student-30` (three at a time).
  let firstFailure: Error | undefined;
  await addTenants(scope, names, { workers: 1, port: 0, publicHost: 'localhost' }, (n, r, seconds) => {
    if (r instanceof Error) firstFailure ??= new Error(`${n}: ${r.message}`);
    timings.push(seconds);
    process.stderr.write(`  ${n} ${r instanceof Error ? `failed: ${r.message}` : 'added'} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  });
  if (firstFailure) throw firstFailure;
  const provisionS = (Date.now() - started) / 1000;
  const page = await startClassPage(loadConfig({ LOG_LEVEL: 'warn' }), { classId: CLASS, port: 0, host: '127.0.0.1', dockerHost });
  const tenants = await listTenants(scope);
  await waitFor(
    'every tenant mining',
    async () => page.monitor.rows.length === SIZE && page.monitor.rows.every((r) => r.hashes > 0 && r.speed !== null),
    300_000,
    1000,
  );
  const readyS = (Date.now() - started) / 1000;

  const containers = await containersLabelled(engine, { [LABEL.class]: CLASS });
  const ids = new Set(containers.map((c) => c.Id));
  const cpuOf = () => new Map(containers.map((c) => [c.Id, cgroup(c.Id)?.cpuNs ?? 0]));
  const before = cpuOf();
  const eng0 = engineProcesses(ids);
  const [all0, own0] = [machine(), process.cpuUsage()];
  const t0 = Date.now();
  // Each tenant's hashes as its own dashboard computed them, read from the class page's rounds (every 2 s): the bench
  // adds no request of its own to what it measures.
  const samples = new Map<string, [number, number][]>(tenants.map((t) => [t.name, []]));
  const memories: number[] = [];
  const healthySeen: number[] = [];
  while (Date.now() - t0 < WINDOW_S * 1000) {
    await new Promise((r) => setTimeout(r, page.monitor.intervalMs / 2));
    for (const r of page.monitor.rows) {
      const s = samples.get(r.name);
      if (s && r.at !== null && r.at !== s[s.length - 1]?.[0]) s.push([r.at, r.hashes]);
    }
    memories.push([...ids].reduce((a, id) => a + (cgroup(id)?.memory ?? 0), 0));
    healthySeen.push(page.monitor.rows.filter((r) => r.healthy).length);
  }
  const seconds = (Date.now() - t0) / 1000;
  const after = cpuOf();
  const byService: Record<string, number> = {};
  for (const c of containers) {
    const service = c.Labels[LABEL.tenant] ? (c.Labels[LABEL.service] ?? '?') : 'redis (shared)';
    byService[service] = (byService[service] ?? 0) + (after.get(c.Id)! - before.get(c.Id)!) / 1e9;
  }
  const eng1 = engineProcesses(ids);
  const [all1, own1] = [machine(), process.cpuUsage(own0)];
  const rates = tenants.map((t) => ({ name: t.name, rate: slope(samples.get(t.name)!) ?? 0 }));

  const browser = await launchChromium();
  const shot = screenshotPath(`class-${SIZE}.png`);
  try {
    const p = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await p.goto(`http://127.0.0.1:${page.port}/`);
    await p.waitForFunction((n) => document.querySelectorAll('.tenant').length === n, SIZE, { timeout: 30_000 });
    await p.screenshot({ path: shot });
  } finally {
    await browser.close();
  }
  await page.service.close(0, 1000);

  const pct = (s: number) => (100 * s) / seconds;
  const within = rates.filter((r) => Math.abs(r.rate / MODEL - 1) <= 0.05).length;
  const result = {
    size: SIZE,
    containers: ids.size,
    provisionSeconds: provisionS,
    perTenantAddSeconds: { min: Math.min(...timings), max: Math.max(...timings) },
    allMiningSeconds: readyS,
    windowSeconds: seconds,
    cpuPercentOfOneCore: {
      containers: pct(Object.values(byService).reduce((a, v) => a + v, 0)),
      /** The containers by service, summed over the class. */
      byService: Object.fromEntries(Object.entries(byService).map(([k, v]) => [k, pct(v)])),
      dockerd: pct(eng1.dockerd - eng0.dockerd),
      containerd: pct(eng1.containerd - eng0.containerd),
      shims: pct(eng1.shims - eng0.shims),
      dockerProxies: pct(eng1.proxies - eng0.proxies),
      kernelThreads: pct(eng1.kernelThreads - eng0.kernelThreads),
      /** This process: the class page (its rounds, the engine's list) and the sampling. */
      classPage: pct((own1.user + own1.system) / 1e6),
      /** Everything the machine ran in the window, this bench and anything else included. */
      machine: pct(all1.busy - all0.busy),
      cores: all1.cores,
    },
    memoryMiB: { mean: memories.reduce((a, m) => a + m, 0) / memories.length / 2 ** 20, max: Math.max(...memories) / 2 ** 20 },
    rates: {
      model: MODEL,
      min: Math.min(...rates.map((r) => r.rate)),
      max: Math.max(...rates.map((r) => r.rate)),
      mean: rates.reduce((a, r) => a + r.rate, 0) / rates.length,
      within5Percent: within,
      each: rates,
    },
    healthyOnClassPage: { min: Math.min(...healthySeen), max: Math.max(...healthySeen) },
    screenshot: shot,
    note: 'dockerd and containerd serve every container of the engine, not only the class; machine is every process (the class page and this bench included): the difference from the rest is whatever else ran',
    loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(),
    at: new Date().toISOString(),
  };
  const c = result.cpuPercentOfOneCore;
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `\nclass of ${SIZE}: provisioned in ${provisionS.toFixed(0)} s, all mining after ${readyS.toFixed(0)} s; CPU ${(c.containers + c.dockerd + c.containerd + c.shims).toFixed(1)} % of one core ` +
      `(containers ${c.containers.toFixed(1)} [${Object.entries(c.byService)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}], dockerd ${c.dockerd.toFixed(1)}, containerd ${c.containerd.toFixed(1)}, shims ${c.shims.toFixed(1)}; ` +
      `beside them docker-proxy ${c.dockerProxies.toFixed(1)}, the class page ${c.classPage.toFixed(1)}, the kernel's threads ${c.kernelThreads.toFixed(1)}; the machine ${c.machine.toFixed(1)} of ${c.cores * 100}); ` +
      `memory ${(result.memoryMiB.max / 1024).toFixed(2)} GiB; rates ${result.rates.min.toFixed(2)}–${result.rates.max.toFixed(2)} (${within}/${SIZE} within 5 % of 3.33)`,
  );
  mkdirSync('.test-artifacts', { recursive: true });
  writeFileSync('.test-artifacts/bench-class.json', `${JSON.stringify(result, null, 2)}\n`);
}

try {
  await main();
} finally {
  const gone = await removeAll(scope).catch((err: Error) => {
    console.error(`cleanup failed: ${err.message}`);
    return [];
  });
  process.stderr.write(`removed ${gone.length} tenants and the class's Redis\n`);
}
process.exit(0);
