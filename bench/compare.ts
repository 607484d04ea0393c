// What a bench run writes (--json) and reads back (--compare): its machine, its rows; and the table that puts a
// previous run's ratios beside today's, row by row, so two machines' (or two commits') runs read side by side.
import { readFileSync } from 'node:fs';

export interface Ratio {
  value: number;
  of: string;
  goal?: string;
  /** A factor (×12.5 the original) rather than a share (86 % of the bare pipeline). */
  times?: boolean;
}

export interface Row {
  section: string;
  name: string;
  /** NaN (null in JSON) when not measured: the note says why. */
  value: number;
  unit: string;
  ratio?: Ratio;
  note?: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  /** 1-minute load average when the run began: other work on the machine makes every figure noisier. */
  load: number;
  /** Bare node:http: rng and hasher req/s, the pipeline's hashes/s, measured first. */
  ceilings?: { rng: number; hasher: number; pipeline: number };
}

export interface BenchResults {
  machine?: Machine;
  /** Written by older runs, before `machine`. */
  node?: string;
  cpus?: number;
  quick: boolean;
  at: string;
  rows: Row[];
}

export const ratioText = (r: Ratio | undefined): string =>
  !r || !Number.isFinite(r.value) ? '—' : r.times ? `×${r.value.toFixed(1)}` : `${(r.value * 100).toFixed(0)} %`;

export function machineLine(m: Machine | undefined, fallback?: Pick<BenchResults, 'node' | 'cpus'>): string {
  if (!m) return `Node ${fallback?.node ?? '?'}, ${fallback?.cpus ?? '?'} CPUs (no machine header in that run)`;
  const c = m.ceilings;
  const bare = c
    ? ` · bare ceilings: rng ${Math.round(c.rng).toLocaleString('en-US')} req/s, hasher ${Math.round(c.hasher).toLocaleString('en-US')} req/s, pipeline ${Math.round(c.pipeline).toLocaleString('en-US')} hashes/s`
    : '';
  return `${m.cpu} · ${m.cores} cores · Node ${m.node} · load ${m.load.toFixed(1)}${bare}`;
}

/** Reads a previous run's --json file (values written as null come back as NaN). */
export function readResults(file: string): BenchResults {
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  if (!Array.isArray(r.rows)) throw new Error(`${file}: not a bench result (no rows)`);
  for (const row of r.rows) {
    row.value ??= Number.NaN;
    if (row.ratio) row.ratio.value ??= Number.NaN;
  }
  return r;
}

/** Today's ratio rows with the previous run's beside them; rows only one of them has show "—" for the other. */
export function compareTable(today: Row[], previous: BenchResults, file: string, todayMachine: Machine): string[] {
  const key = (r: Row) => `${r.section}\u0000${r.name}`;
  const before = new Map(previous.rows.filter((r) => r.ratio).map((r) => [key(r), r]));
  const now = today.filter((r) => r.ratio);
  const sections = new Set(now.map((r) => r.section));
  const names = [...now, ...[...before.values()].filter((r) => sections.has(r.section) && !now.some((n) => key(n) === key(r)))];
  const lines = [
    `Compared with ${file} (${previous.at}${previous.quick ? ', quick' : ''}):`,
    `  today:    ${machineLine(todayMachine)}`,
    `  previous: ${machineLine(previous.machine, previous)}`,
    `  ${'today'.padStart(7)}  ${'previous'.padStart(8)}  measurement`,
  ];
  for (const r of names) {
    const t = now.find((n) => key(n) === key(r));
    const p = before.get(key(r));
    lines.push(`  ${ratioText(t?.ratio).padStart(7)}  ${ratioText(p?.ratio).padStart(8)}  ${r.name} — ${r.ratio!.times ? '' : 'of '}${r.ratio!.of}`);
  }
  return lines;
}
