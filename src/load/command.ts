// `dockercoins load --shape step|ramp|sine|spike [--min 1] [--max 20] [--period 10m] [--steps N] [--seed 1]
// [--speed F] [--print] [--lab URL | --compose PROJECT | --tenant NAME | --kubectl DEPLOYMENT]`: plays a shape's
// schedule on the worker count. --print only prints it ("seconds workers" per change). Bad options exit 2.
import type { Config } from '../config.js';
import { checkTenantName } from '../tenants/names.js';
import { UsageError } from '../usage.js';
import { ComposeDriver, DriverError, KubectlDriver, LabDriver, TenantDriver } from './drivers.js';
import { type LoadDriver, LoadRun } from './runner.js';
import { parseDuration, printable, type Schedule, type ShapeOptions, schedule } from './shapes.js';

export type LoadTarget =
  | { kind: 'lab'; url: string }
  | { kind: 'compose'; project: string; files: string[] }
  | { kind: 'tenant'; name: string }
  | { kind: 'kubectl'; deployment: string };

export interface LoadArgs {
  schedule: Schedule;
  print: boolean;
  target: LoadTarget;
}

const NUMERIC: Record<string, keyof ShapeOptions> = { '--min': 'min', '--max': 'max', '--steps': 'steps', '--seed': 'seed', '--speed': 'speed' };
const TARGETS = ['--lab', '--compose', '--tenant', '--kubectl'];

function number(flag: string, text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`${flag}: expected a number, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function parseLoadArgs(argv: string[], config: Config): LoadArgs {
  let shape: string | undefined;
  let print = false;
  const given: Partial<ShapeOptions> = {};
  const targets: LoadTarget[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--print') {
      print = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      const v = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--shape') shape = value();
    else if (flag === '--period') {
      try {
        given.period = parseDuration('period', value());
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    } else if (flag in NUMERIC) given[NUMERIC[flag]!] = number(flag, value());
    else if (flag === '--lab') {
      const v = value();
      try {
        targets.push({ kind: 'lab', url: new URL(v).toString().replace(/\/+$/, '') });
      } catch {
        throw new UsageError(`--lab: not a URL: ${JSON.stringify(v)}`);
      }
    } else if (flag === '--compose') targets.push({ kind: 'compose', project: value(), files });
    else if (flag === '--compose-file') files.push(value());
    else if (flag === '--tenant') {
      const name = value();
      try {
        checkTenantName(name);
      } catch (err) {
        throw new UsageError(`--tenant: ${(err as Error).message}`);
      }
      targets.push({ kind: 'tenant', name });
    } else if (flag === '--kubectl') targets.push({ kind: 'kubectl', deployment: value() });
    else throw new UsageError(`load: unknown option ${JSON.stringify(arg)}`);
  }
  if (!shape) throw new UsageError('load: --shape is required (step, ramp, sine or spike)');
  if (targets.length > 1) throw new UsageError(`load: one target at most, among ${TARGETS.join(', ')}`);
  let s: Schedule;
  try {
    s = schedule(shape, given);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const target = targets[0] ?? { kind: 'lab', url: `http://127.0.0.1:${config.up.webuiPort}` };
  return { schedule: s, print, target };
}

function driverFor(target: LoadTarget, config: Config): LoadDriver {
  switch (target.kind) {
    case 'lab':
      return new LabDriver(target.url, config.server.adminToken);
    case 'compose':
      return new ComposeDriver(target.project, undefined, target.files);
    case 'kubectl':
      return new KubectlDriver(target.deployment);
    case 'tenant':
      return new TenantDriver(target.name, async () => {
        const { scopeFor } = await import('../tenants/cli.js');
        const { DEFAULT_CLASS } = await import('../tenants/names.js');
        try {
          return await scopeFor(DEFAULT_CLASS, process.env);
        } catch (err) {
          throw new DriverError((err as Error).message);
        }
      });
  }
}

export async function load(argv: string[], config: Config): Promise<void> {
  const args = parseLoadArgs(argv, config);
  if (args.print) return void console.log(printable(args.schedule));
  const { schedule: s } = args;
  try {
    const driver = driverFor(args.target, config);
    console.log(`load ${s.shape}: ${s.changes.length} change(s) over ${s.duration} s on ${driver.target}`);
    const run = new LoadRun(s, driver, Date.now(), {
      applied: (c, elapsed) => console.log(`${c.at} ${c.workers}\t(at ${elapsed.toFixed(1)} s)`),
    });
    const stop = () => run.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await run.done;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  } catch (err) {
    if (!(err instanceof DriverError)) throw err;
    console.error(`dockercoins load: ${err.message}`);
    process.exit(1);
  }
}
