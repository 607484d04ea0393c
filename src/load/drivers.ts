// Where a load shape sets the worker count: the lab API of `dockercoins up` (which also takes the annotation), a
// Compose project through the docker compose / docker-compose CLI (it owns Compose's labels), a tenant through the
// tenant provisioner (the engine's labels), or a Kubernetes Deployment through `kubectl scale`. Targets without an
// annotation API get the note printed instead.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { Scope } from '../tenants/provision.js';
import type { LoadDriver } from './runner.js';

const run = promisify(execFile);
const HTTP_TIMEOUT_MS = 10_000;
const CLI_TIMEOUT_MS = 180_000;

export class DriverError extends Error {}

/** The lab API: POST /api/lab {worker}, then the note as an annotation on the dashboard's chart. */
export class LabDriver implements LoadDriver {
  readonly target: string;
  constructor(
    private readonly url: string,
    private readonly token = '',
    private readonly by = 'dockercoins load',
  ) {
    this.target = `the lab at ${url}`;
  }

  private async post(path: string, body: unknown): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    } catch (err) {
      throw new DriverError(`cannot reach ${this.target} (${(err as Error).message}); is \`dockercoins up\` running there?`);
    }
    if (!res.ok) throw new DriverError(`${res.status} from ${this.url}${path}: ${(await res.text()).trim()}`);
  }

  async setWorkers(workers: number, note: string): Promise<void> {
    await this.post('/api/lab', { worker: workers });
    await this.post('/api/lab/annotations', { text: note, by: this.by });
  }
}

/** `docker compose` (v2) when the docker CLI has it, else `docker-compose` (1.29). */
export function composeCommand(): string[] {
  const v2 = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 10_000 });
  if (v2.status === 0) return ['docker', 'compose'];
  const v1 = spawnSync('docker-compose', ['version'], { stdio: 'ignore', timeout: 10_000 });
  if (v1.status === 0) return ['docker-compose'];
  throw new DriverError('neither `docker compose` nor `docker-compose` runs here: install one to drive a Compose project');
}

/** A Compose project: `up -d --no-deps --no-build --no-recreate --scale worker=N worker`, the compose file as Compose finds it. */
export class ComposeDriver implements LoadDriver {
  readonly target: string;
  constructor(
    private readonly project: string,
    private readonly command: string[] = composeCommand(),
    private readonly files: string[] = [],
    private readonly print: (line: string) => void = console.log,
  ) {
    this.target = `Compose project ${project} (${command.join(' ')})`;
  }

  async setWorkers(workers: number, note: string): Promise<void> {
    const [cmd, ...pre] = this.command;
    const args = [...pre, ...this.files.flatMap((f) => ['-f', f]), '-p', this.project, 'up', '-d', '--no-deps', '--no-build', '--no-recreate'];
    try {
      await run(cmd!, [...args, '--scale', `worker=${workers}`, 'worker'], { timeout: CLI_TIMEOUT_MS });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new DriverError(`${this.command.join(' ')} could not scale ${this.project}'s worker to ${workers}: ${(e.stderr || e.message).trim()}`);
    }
    this.print(`annotation (Compose has no dashboard API): ${note}`);
  }
}

/** Kubernetes: `kubectl scale deployment/NAME --replicas=N` (kubectl's own context and namespace). */
export class KubectlDriver implements LoadDriver {
  readonly target: string;
  constructor(
    private readonly deployment: string,
    private readonly print: (line: string) => void = console.log,
  ) {
    this.target = `Deployment ${deployment} (kubectl)`;
  }

  async setWorkers(workers: number, note: string): Promise<void> {
    try {
      await run('kubectl', ['scale', `deployment/${this.deployment}`, `--replicas=${workers}`], { timeout: CLI_TIMEOUT_MS });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new DriverError('kubectl is not on PATH');
      throw new DriverError(`kubectl scale deployment/${this.deployment} --replicas=${workers} failed: ${(e.stderr || e.message).trim()}`);
    }
    this.print(`annotation (printed; Kubernetes has no dashboard API of ours): ${note}`);
  }
}

/** A tenant (`dockercoins tenant add NAME`): its workers set as `dockercoins tenant scale NAME worker=N` does. */
export class TenantDriver implements LoadDriver {
  readonly target: string;
  constructor(
    private readonly tenant: string,
    private readonly scope: () => Promise<Scope>,
    private readonly print: (line: string) => void = console.log,
  ) {
    this.target = `tenant ${tenant}`;
  }

  async setWorkers(workers: number, note: string): Promise<void> {
    const { scaleTenant } = await import('../tenants/provision.js');
    try {
      await scaleTenant(await this.scope(), this.tenant, workers);
    } catch (err) {
      throw new DriverError(`tenant ${this.tenant}: ${(err as Error).message}`);
    }
    this.print(`annotation (a tenant's dashboard has no lab to mark): ${note}`);
  }
}
