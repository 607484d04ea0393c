// dockercoins workshop [--chapter N] [--json]: replays the seed chapters (workshop/*.yml) on a real Docker engine, as
// container.training's autotest.py replays its slides. The steps of a chapter run in one shell session (variables
// and `cd` carry over, as in a terminal); long-running commands get ^C. It knows nothing of any one chapter.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { connectEngine, networkNames, pingEngine, publishedPorts, serviceNames, stackNames, swarmState } from '../engine/docker.js';
import { isSourceTree, packageRoot } from '../images/package.js';
import { prepareWorkspace } from '../images/workspace.js';
import {
  type Chapter,
  type CheckResult,
  formatLine,
  judgeText,
  judgeValue,
  type Observed,
  readValue,
  type Step,
  type StepResult,
  type ValueCheck,
  validateChapter,
} from './steps.js';

const DEFAULT_TIMEOUT_S = 180;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what is matched
const ANSI = /\x1b\[[0-9;]*m/g;

/** The step files: the package's workshop/ folder (it ships with the package). */
export const workshopDir = (): string => join(packageRoot(), 'workshop');

export function loadChapters(dir: string): Chapter[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d\d-.*\.yml$/.test(f))
    .sort();
  return files.map((f) => validateChapter(f, parse(readFileSync(join(dir, f), 'utf8'))));
}

/** Single-quoted for sh. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One shell session: each step runs in bash with the variables and directory the previous steps left. */
class Session {
  env: NodeJS.ProcessEnv;
  cwd: string;
  private readonly state = mkdtempSync(join(tmpdir(), 'dockercoins-workshop-'));
  current?: ChildProcess;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.cwd = cwd;
    this.env = { ...env };
  }

  /** Runs `command` (bash); with stopAfter, sends ^C (SIGINT to its process group) when it resolves. */
  run(command: string, timeoutS: number, stopWhen?: (output: string) => boolean, stopAfterS?: number, keepState = true): Promise<Observed> {
    const envFile = join(this.state, 'env');
    const cwdFile = join(this.state, 'cwd');
    rmSync(envFile, { force: true });
    // set -a: assignments (CID=$(…)) are exported, so the next step sees them, as the next line of a terminal would.
    const script = `set -a\n${command}\n__rc=$?\n${keepState ? `env -0 > ${shq(envFile)}; pwd > ${shq(cwdFile)}\n` : ''}exit $__rc\n`;
    return new Promise((resolve) => {
      const child = spawn('bash', ['--norc', '--noprofile', '-c', script], { cwd: this.cwd, env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      this.current = child;
      let output = '';
      let interrupted = false;
      let timedOut = false;
      const interrupt = () => {
        if (interrupted || child.exitCode !== null) return;
        interrupted = true;
        signalGroup(child, 'SIGINT');
      };
      const onData = (d: Buffer) => {
        output += d.toString('utf8');
        if (output.length > 4_000_000) output = output.slice(-2_000_000);
        if (stopWhen?.(output)) interrupt();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      const stopTimer = stopAfterS ? setTimeout(interrupt, stopAfterS * 1000) : undefined;
      const killTimer = setTimeout(() => {
        timedOut = true;
        signalGroup(child, 'SIGKILL');
      }, timeoutS * 1000);
      child.on('close', (code, signal) => {
        clearTimeout(stopTimer);
        clearTimeout(killTimer);
        this.current = undefined;
        if (keepState) this.loadState(envFile, cwdFile);
        // Colours off (Compose colours its prefixes even without a terminal): checks and lines read the text.
        resolve({ output: output.replace(ANSI, ''), exit: code ?? (signal === 'SIGINT' ? 130 : 137), interrupted, timedOut });
      });
    });
  }

  private loadState(envFile: string, cwdFile: string): void {
    try {
      const env: NodeJS.ProcessEnv = {};
      for (const kv of readFileSync(envFile, 'utf8').split('\0')) {
        const i = kv.indexOf('=');
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
      }
      for (const k of ['_', 'SHLVL', 'PWD', 'OLDPWD', '__rc']) delete env[k];
      this.env = env;
      this.cwd = readFileSync(cwdFile, 'utf8').trim() || this.cwd;
    } catch {
      // the command exited the shell itself: keep the previous state
    }
  }

  interrupt(): void {
    if (this.current) signalGroup(this.current, 'SIGKILL');
  }

  close(): void {
    rmSync(this.state, { recursive: true, force: true });
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** hashes/s a webui's /json shows over `seconds` (the number its graph plots). */
async function rateOf(url: string, seconds: number): Promise<number | null> {
  const read = async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const j = (await res.json()) as { hashes?: number; now?: number };
    return typeof j.hashes === 'number' && typeof j.now === 'number' ? { hashes: j.hashes, now: j.now } : null;
  };
  try {
    const a = await read();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const b = await read();
    return a && b && b.now > a.now ? (b.hashes - a.hashes) / (b.now - a.now) : null;
  } catch {
    return null;
  }
}

/** What actually runs for a step: the slide's command, its stand-in, or the command typed inside a container. */
export function commandFor(step: Step): string {
  const cmd = step.exec ?? step.run;
  return step.inside ? `docker exec -i ${step.inside} sh -c ${shq(cmd)}` : cmd;
}

export class Replay {
  readonly results: StepResult[] = [];
  private readonly saved: Record<string, number> = {};
  private session?: Session;
  private cancelled = false;

  constructor(
    private readonly cwd: string,
    private readonly print: (line: string) => void,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** --log DIR: each step's command and full output, one file per step. */
    private readonly logDir?: string,
  ) {}

  /** ^C: the running step is killed; the chapter's cleanup still runs. */
  cancel(): void {
    this.cancelled = true;
    this.session?.interrupt();
  }

  private async checks(step: Step, seen: Observed, session: Session): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    const checks = step.check ?? [];
    if (!checks.some((c) => c.exit !== undefined) && !step.until && !step.for)
      results.push({ ok: seen.exit === 0, measured: `exit ${seen.exit}`, expected: 'exit 0' });
    if (seen.timedOut) results.push({ ok: false, measured: `still running after ${step.timeout ?? DEFAULT_TIMEOUT_S} s`, expected: 'done' });
    if (step.until && !new RegExp(step.until, 'm').test(seen.output))
      results.push({ ok: false, measured: 'never appeared', expected: `/${step.until}/ in the output` });
    for (const ck of checks) {
      let output = seen.output;
      if (ck.then) output = (await session.run(ck.then, 60, undefined, undefined, false)).output;
      results.push(...judgeText(ck, seen, output));
      if (ck.value) results.push(judgeValue(ck.value, await this.measure(ck.value, output, session), this.saved));
    }
    return results;
  }

  private async measure(v: ValueCheck, output: string, session: Session): Promise<number | null> {
    if (v.rate !== undefined) return rateOf(v.rate, v.seconds ?? 10);
    if (v.ratio !== undefined) {
      const [a, b] = v.ratio.map((k) => this.saved[k]);
      return a === undefined || b === undefined || b === 0 ? null : a / b;
    }
    if (v.shell !== undefined) {
      const r = await session.run(v.shell, 60, undefined, undefined, false);
      const n = Number(r.output.trim());
      return r.exit === 0 && r.output.trim() !== '' ? n : null;
    }
    return readValue(v, output);
  }

  private async step(id: string, step: Step, session: Session): Promise<StepResult> {
    const t0 = performance.now();
    const command = commandFor(step);
    const deadline = Date.now() + (step.retry ?? 0) * 1000;
    let results: CheckResult[];
    for (;;) {
      const until = step.until ? new RegExp(step.until, 'm') : undefined;
      const seen = await session.run(command, step.timeout ?? DEFAULT_TIMEOUT_S, until ? (o) => until.test(o) : undefined, step.for);
      if (this.logDir) appendFileSync(join(this.logDir, `${id}.txt`), `$ ${command}\n${seen.output}\n[exit ${seen.exit}${seen.interrupted ? ', ^C' : ''}]\n`);
      results = await this.checks(step, seen, session);
      if (results.every((r) => r.ok) || Date.now() >= deadline || this.cancelled) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const shown = results.filter((r) => !r.ok);
    const report = shown.length ? shown : results.filter((r) => !/^exit /.test(r.measured) || results.length === 1);
    return {
      id,
      ok: !this.cancelled && results.every((r) => r.ok),
      command: step.inside ? `[in ${step.inside}] ${step.run}` : step.run,
      measured: report.map((r) => r.measured).join('; ') || 'exit 0',
      expected: [step.expect, ...report.map((r) => r.expected).filter((e) => e !== 'exit 0')].join('; '),
      adjusted: step.adjusted ? `${step.adjusted}${step.exec ? ` (ran: ${step.exec})` : ''}` : undefined,
      differs: step.differs,
      setup: step.setup,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** Runs one chapter and its cleanup; true when every step held. */
  async chapter(c: Chapter): Promise<boolean> {
    const session = new Session(this.cwd, { ...this.env, DOCKER_CLI_HINTS: 'false' });
    this.session = session;
    this.print(`── chapter ${c.chapter}: ${c.title} (${c.source})`);
    let ok = true;
    try {
      for (const [i, step] of c.steps.entries()) {
        if (this.cancelled) break;
        const r = await this.step(`${c.chapter}.${i + 1}`, step, session);
        this.results.push(r);
        this.print(formatLine(r));
        ok &&= r.ok;
      }
    } finally {
      for (const cmd of c.cleanup) await session.run(cmd, 120, undefined, undefined, false);
      session.close();
      this.session = undefined;
    }
    return ok && !this.cancelled;
  }
}

/** On a user's engine: the names and ports the chapters use must be free. Returns what is taken (empty: go). */
export async function taken(chapters: Chapter[]): Promise<string[]> {
  const engine = connectEngine();
  await pingEngine(engine);
  const [state, services, stacks, networks, ports] = await Promise.all([
    swarmState(engine),
    serviceNames(engine),
    stackNames(engine),
    networkNames(engine),
    publishedPorts(engine),
  ]);
  const problems = new Set<string>();
  for (const c of chapters) {
    if (c.needs.swarm === 'inactive' && state !== 'inactive')
      problems.add(`this engine's Swarm is ${state}: chapter ${c.chapter} initialises one and leaves it at the end`);
    for (const s of c.needs.services) if (services.includes(s)) problems.add(`service ${s}`);
    for (const s of c.needs.stacks) if (stacks.includes(s)) problems.add(`stack ${s}`);
    for (const n of c.needs.networks) if (networks.includes(n)) problems.add(`network ${n}`);
    for (const p of c.needs.ports) if (ports.has(p)) problems.add(`port ${p} (${ports.get(p)})`);
  }
  return [...problems];
}

const USAGE = 'usage: dockercoins workshop [--chapter N] [--json] [--log DIR]';

export async function workshop(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  let only: number | undefined;
  let json = false;
  let logDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--log') {
      logDir = argv[++i];
      if (!logDir) throw new WorkshopUsage(`--log needs a directory\n${USAGE}`);
      mkdirSync(logDir, { recursive: true });
    } else if (a === '--chapter' || a.startsWith('--chapter=')) {
      const v = a.includes('=') ? a.split('=')[1] : argv[++i];
      if (!v || !/^\d+$/.test(v)) throw new WorkshopUsage(`--chapter needs a chapter number\n${USAGE}`);
      only = Number(v);
    } else throw new WorkshopUsage(`unknown option ${JSON.stringify(a)}\n${USAGE}`);
  }
  const root = packageRoot();
  const all = loadChapters(join(root, 'workshop'));
  const chapters = only === undefined ? all : all.filter((c) => c.chapter === only);
  if (chapters.length === 0) throw new WorkshopUsage(`no chapter ${only}: there are ${all.map((c) => c.chapter).join(', ')}`);
  const busy = await taken(chapters);
  if (busy.length > 0) {
    out(`workshop: refusing to start — the slides' commands use fixed names and ports, and on this engine these are taken:\n  ${busy.join('\n  ')}`);
    return 2;
  }
  // In a clone the replay runs at its root, as the slides run in theirs. From an installed package it runs in a
  // folder made from what the package ships (workspace.ts): the same files, images built from the bundles.
  // Either way `dockercoins` on the session's PATH is this DockerCoins.
  const scratch = mkdtempSync(join(tmpdir(), 'dockercoins-workshop-'));
  const cwd = isSourceTree(root) ? root : prepareWorkspace(root, join(scratch, 'dockercoins'));
  mkdirSync(join(scratch, 'bin'));
  writeFileSync(join(scratch, 'bin', 'dockercoins'), `#!/bin/sh\nexec ${shq(process.execPath)} ${shq(join(root, 'dist', 'cli.js'))} "$@"\n`, { mode: 0o755 });
  const env = { ...process.env, PATH: `${join(scratch, 'bin')}:${process.env.PATH ?? ''}` };
  const print = json ? () => {} : out;
  if (cwd !== root) print(`workshop: from the installed package, in ${cwd} (removed at the end)`);
  const replay = new Replay(cwd, print, env, logDir);
  const onSignal = () => {
    print('workshop: ^C — stopping the step and removing what this run created');
    replay.cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const t0 = performance.now();
  let ok = true;
  try {
    for (const c of chapters) ok = (await replay.chapter(c)) && ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(scratch, { recursive: true, force: true });
  }
  const failed = replay.results.filter((r) => !r.ok);
  const seconds = (performance.now() - t0) / 1000;
  const summary = `${replay.results.length - failed.length} of ${replay.results.length} steps hold (${Math.round(seconds)} s)${
    failed.length ? `; ✗ ${failed.map((r) => r.id).join(', ')}` : ''
  }`;
  if (json) out(JSON.stringify({ ok: ok && failed.length === 0, seconds, steps: replay.results }, null, 2));
  else out(summary);
  return ok && failed.length === 0 ? 0 : 1;
}

export class WorkshopUsage extends Error {}
