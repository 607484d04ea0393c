// A workshop chapter as data (workshop/NN-*.yml): each step is the slide's command verbatim plus what the slide says
// one sees, as checks. This module validates a chapter, evaluates a step's checks on what was observed, and formats
// the one line per step the replay prints. Pure: no processes, no engine (the runner does that).

export interface Chapter {
  chapter: number;
  title: string;
  /** Where the commands come from (seed / slide deck). */
  source: string;
  /** What the chapter needs free on a user's engine: the names and ports its commands use. */
  needs: { ports: number[]; services: string[]; networks: string[]; stacks: string[]; swarm: 'inactive' | 'any' };
  /** Run after the chapter whatever happened (also on ^C): removes what its commands created. */
  cleanup: string[];
  steps: Step[];
}

/** A number measured by a check: taken from the output, counted in it, a rate, or a ratio of two saved numbers. */
export interface ValueCheck {
  /** Regex with one group: the number in the output. */
  from?: string;
  /** Regex (multiline): how many lines match. */
  count?: string;
  /** URL of a webui's /json: hashes per second over `seconds`. */
  rate?: string;
  seconds?: number;
  /** Two saved names: the first divided by the second. */
  ratio?: [string, string];
  /** A host command whose output is the number. */
  shell?: string;
  min?: number;
  max?: number;
  /** Equal to a number saved by an earlier step. */
  equals?: string;
  unit?: string;
  /** Keep the number under this name for later checks. */
  save?: string;
  label?: string;
}

export interface Check {
  /** Regex that must match the output (stdout and stderr together). */
  match?: string;
  /** Regex that must not match the output. */
  absent?: string;
  /** Exit status (default: 0 for steps that end by themselves, anything for steps stopped by ^C). */
  exit?: number;
  value?: ValueCheck;
  /** A host command run after the step, its output checked with match/absent. */
  then?: string;
}

export interface Step {
  slide: string;
  /** The command exactly as the slide types it. */
  run: string;
  /** What runs instead, when this machine cannot run `run` as written; `adjusted` says why. */
  exec?: string;
  /** Typed in a container's shell (`docker exec -ti $CID sh`): the expression naming that container. */
  inside?: string;
  adjusted?: string;
  differs?: string;
  /** What the slide says one sees. */
  expect: string;
  /** A command that runs until interrupted: wait for this regex in its output, then ^C. */
  until?: string;
  /** A command that runs until interrupted: let it run this many seconds, then ^C. */
  for?: number;
  timeout?: number;
  /** Retry the checks of a step that failed, up to this many seconds (convergence: tasks starting one by one). */
  retry?: number;
  /** Setup the slides did elsewhere (an earlier chapter, a previous slide deck): shown, but it is not a slide's claim. */
  setup?: boolean;
  check?: Check[];
}

export class ChapterError extends Error {}

const STEP_KEYS = new Set(['slide', 'run', 'exec', 'inside', 'adjusted', 'differs', 'expect', 'until', 'for', 'timeout', 'retry', 'setup', 'check']);
const CHECK_KEYS = new Set(['match', 'absent', 'exit', 'value', 'then']);
const VALUE_KEYS = new Set(['from', 'count', 'rate', 'seconds', 'ratio', 'shell', 'min', 'max', 'equals', 'unit', 'save', 'label']);

function fail(where: string, message: string): never {
  throw new ChapterError(`${where}: ${message}`);
}

function regex(where: string, source: unknown): void {
  if (typeof source !== 'string') fail(where, 'must be a regular expression (a string)');
  try {
    new RegExp(source, 'm');
  } catch (err) {
    fail(where, (err as Error).message);
  }
}

function unknownKeys(where: string, o: object, allowed: Set<string>): void {
  for (const k of Object.keys(o)) if (!allowed.has(k)) fail(where, `unknown key ${JSON.stringify(k)}`);
}

/** Validates a parsed step file; throws ChapterError naming the file, step and field. */
export function validateChapter(file: string, data: unknown): Chapter {
  if (!data || typeof data !== 'object') fail(file, 'not a mapping');
  const c = data as Record<string, unknown>;
  if (!Number.isInteger(c.chapter)) fail(file, '`chapter` must be an integer');
  for (const k of ['title', 'source'] as const) if (typeof c[k] !== 'string') fail(file, `\`${k}\` must be a string`);
  const needs = (c.needs ?? {}) as Record<string, unknown>;
  const list = <T>(k: string, t: 'string' | 'number'): T[] => {
    const v = needs[k] ?? [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== t)) fail(file, `needs.${k} must be a list of ${t}s`);
    return v as T[];
  };
  const chapter: Chapter = {
    chapter: c.chapter as number,
    title: c.title as string,
    source: c.source as string,
    needs: {
      ports: list<number>('ports', 'number'),
      services: list<string>('services', 'string'),
      networks: list<string>('networks', 'string'),
      stacks: list<string>('stacks', 'string'),
      swarm: needs.swarm === 'inactive' ? 'inactive' : 'any',
    },
    cleanup: (c.cleanup ?? []) as string[],
    steps: [],
  };
  if (!Array.isArray(chapter.cleanup) || chapter.cleanup.some((x) => typeof x !== 'string')) fail(file, '`cleanup` must be a list of commands');
  if (!Array.isArray(c.steps) || c.steps.length === 0) fail(file, '`steps` must be a non-empty list');
  c.steps.forEach((raw, i) => {
    const where = `${file} step ${i + 1}`;
    if (!raw || typeof raw !== 'object') fail(where, 'not a mapping');
    const s = raw as Step;
    unknownKeys(where, s, STEP_KEYS);
    for (const k of ['slide', 'run', 'expect'] as const) if (typeof s[k] !== 'string' || !s[k].trim()) fail(where, `\`${k}\` is required`);
    if (s.exec !== undefined && !s.adjusted) fail(where, "`exec` replaces the slide's command: say why in `adjusted`");
    if (s.until !== undefined) regex(`${where} until`, s.until);
    for (const k of ['for', 'timeout', 'retry'] as const)
      if (s[k] !== undefined && !(typeof s[k] === 'number' && s[k] > 0)) fail(where, `\`${k}\` must be seconds > 0`);
    (s.check ?? []).forEach((ck, j) => {
      const w = `${where} check ${j + 1}`;
      unknownKeys(w, ck, CHECK_KEYS);
      if (ck.match !== undefined) regex(`${w} match`, ck.match);
      if (ck.absent !== undefined) regex(`${w} absent`, ck.absent);
      if (ck.value) {
        unknownKeys(w, ck.value, VALUE_KEYS);
        const sources = ['from', 'count', 'rate', 'ratio', 'shell'].filter((k) => ck.value?.[k as keyof ValueCheck] !== undefined);
        if (sources.length !== 1) fail(w, 'a value needs exactly one of from, count, rate, ratio, shell');
        if (ck.value.from !== undefined) regex(`${w} from`, ck.value.from);
        if (ck.value.count !== undefined) regex(`${w} count`, ck.value.count);
      }
    });
    chapter.steps.push(s);
  });
  return chapter;
}

/** What the replay observed for one step. */
export interface Observed {
  output: string;
  exit: number | null;
  /** Stopped by ^C (until/for), rather than ending by itself. */
  interrupted: boolean;
  timedOut: boolean;
}

export interface CheckResult {
  ok: boolean;
  /** What was measured, for the line: `avg 712 ms`, `4 matches`. */
  measured: string;
  /** What was expected, for the line: `≥ 300 ms`. */
  expected: string;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

/** `≥ 300 ms`, `2.5–4.5 hashes/s`, `= 3` */
export function bounds(v: ValueCheck, saved: Record<string, number>): string {
  const u = v.unit ? ` ${v.unit}` : '';
  if (v.equals !== undefined) return `= ${v.equals} (${saved[v.equals] === undefined ? '?' : fmt(saved[v.equals]!)})`;
  if (v.min !== undefined && v.max !== undefined) return `${fmt(v.min)}–${fmt(v.max)}${u}`;
  if (v.min !== undefined) return `≥ ${fmt(v.min)}${u}`;
  if (v.max !== undefined) return `≤ ${fmt(v.max)}${u}`;
  return `a number${u}`;
}

/** Judges a measured number against its check's bounds (and saves it when asked). */
export function judgeValue(v: ValueCheck, n: number | null, saved: Record<string, number>): CheckResult {
  const label = v.label ? `${v.label} ` : '';
  const u = v.unit ? ` ${v.unit}` : '';
  const expected = `${label}${bounds(v, saved)}`;
  if (n === null || !Number.isFinite(n)) return { ok: false, measured: `${label}not measurable`, expected };
  if (v.save) saved[v.save] = n;
  let ok = true;
  if (v.min !== undefined && n < v.min) ok = false;
  if (v.max !== undefined && n > v.max) ok = false;
  if (v.equals !== undefined && saved[v.equals] !== n) ok = false;
  return { ok, measured: `${label}${fmt(n)}${u}`, expected };
}

/** The number a `from` or `count` check reads from the output. */
export function readValue(v: ValueCheck, output: string): number | null {
  if (v.from !== undefined) {
    const m = new RegExp(v.from, 'm').exec(output);
    return m?.[1] === undefined ? null : Number(m[1]);
  }
  if (v.count !== undefined) return (output.match(new RegExp(v.count, 'gm')) ?? []).length;
  return null;
}

/** match / absent / exit checks on the observed output. */
export function judgeText(ck: Check, seen: Observed, output = seen.output): CheckResult[] {
  const out: CheckResult[] = [];
  if (ck.match !== undefined) {
    const m = new RegExp(ck.match, 'm').exec(output);
    out.push({ ok: m !== null, measured: m ? `“${oneLine(m[0])}”` : 'not in the output', expected: `/${ck.match}/` });
  }
  if (ck.absent !== undefined) {
    const m = new RegExp(ck.absent, 'm').exec(output);
    out.push({ ok: m === null, measured: m ? `“${oneLine(m[0])}”` : 'absent', expected: `no /${ck.absent}/` });
  }
  if (ck.exit !== undefined) out.push({ ok: seen.exit === ck.exit, measured: `exit ${seen.exit}`, expected: `exit ${ck.exit}` });
  return out;
}

export function oneLine(s: string, max = 60): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export interface StepResult {
  id: string;
  ok: boolean;
  command: string;
  measured: string;
  expected: string;
  adjusted?: string;
  differs?: string;
  setup?: boolean;
  seconds: number;
}

/** The step's line: `✓ 1.8  httping -c 3 localhost:8001  │ measured: 712 ms │ expected: ≥ 300 ms  adjusted: …` */
export function formatLine(r: StepResult): string {
  const notes = [r.setup ? 'setup' : '', r.adjusted ? `adjusted: ${r.adjusted}` : '', r.differs ? `differs: ${r.differs}` : ''].filter(Boolean);
  return `${r.ok ? '✓' : '✗'} ${r.id.padEnd(5)} ${oneLine(r.command, 100)}  │ measured: ${r.measured} │ expected: ${r.expected}${notes.length ? `  │ ${notes.join(' │ ')}` : ''}`;
}
