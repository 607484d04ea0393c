// Runs rendered Kubernetes objects (Deployments, DaemonSets, helm test Pods, with their Services, Secrets and
// ConfigMaps) on a Docker engine the way a kubelet would run their pods: a sandbox container per pod holding the
// network namespace (its sysctls, its hostname, the Service names as DNS aliases), the containers joined to it with
// the pod's env, command/args, securityContext, emptyDir tmpfs and limits, and startup/readiness/liveness probes
// with kubelet semantics (a failed liveness or startup probe restarts the container, exits restart with back-off).
// What this is NOT: no API server, no scheduler (one node), no kube-proxy (a Service name resolves to the IPs of
// the pods it selects, ready or not; ClusterIPs exist only in the Service link variables), no NetworkPolicy
// enforcement (test/unit/network-policy.test.ts evaluates those), no HPA, no rolling updates.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { connectEngine, containersLabelled, type Engine, networksLabelled } from '../../src/engine/docker.js';
import { serviceLinkEnv } from './service-links.js';

// ---- the subset of the Kubernetes API the runner reads --------------------------------------------------------

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

interface Probe {
  httpGet?: { path?: string; port: number | string; scheme?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  supplementalGroups?: number[];
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  sysctls?: { name: string; value: string }[];
}

interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PodSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  securityContext?: SecurityContext;
  enableServiceLinks?: boolean;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; emptyDir?: { medium?: string; sizeLimit?: string } }[];
  hostname?: string;
}

interface PodTemplate {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

interface ServiceSpec {
  selector?: Record<string, string>;
  clusterIP?: string;
  ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
}

// ---- quantities and small helpers ----------------------------------------------------------------------------

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };

/** A Kubernetes quantity (`128Mi`, `500m`, `1.5`, `2G`) as a number (bytes, or cores for CPU). */
export function quantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+(?:e[0-9]+)?)([A-Za-z]*)$/.exec(q.trim());
  if (!m) throw new Error(`not a Kubernetes quantity: ${JSON.stringify(q)}`);
  const unit = m[2]!;
  const factor = unit === '' ? 1 : (BINARY[unit] ?? DECIMAL[unit]);
  if (factor === undefined) throw new Error(`unknown quantity suffix in ${JSON.stringify(q)}`);
  return Number(m[1]) * factor;
}

/** `$(VAR)` references to variables defined before (the kubelet's expansion; `$$(` stays literal). */
export function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m,
  );
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

const randomSuffix = (n: number): string => {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789'; // the ReplicaSet/Pod name alphabet
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
};

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0) {
    const size = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return out.length > 0 ? Buffer.concat(out).toString('utf8') : buf.toString('utf8');
}

/** An engine call retried on a dropped connection (a busy engine resets some): up to 3 tries, 2 s apart. */
async function retried<T>(what: string, fn: () => Promise<T>, onConflict?: () => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { statusCode?: number };
      const dropped = ['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(e.code ?? '') || /socket hang up/.test(e.message);
      // A create whose answer was lost left its container: remove it, then create again.
      if (e.statusCode === 409 && onConflict && attempt <= 3) await onConflict();
      else if (!dropped || attempt >= 3) throw new Error(`${what}: ${e.message}`);
      await sleep(2000);
    }
  }
}

// ---- the run --------------------------------------------------------------------------------------------------

export interface RunnerOptions {
  /** Prefix of every container and network name; also the label value that finds them for clean-up. */
  runId: string;
  /** The local image to run for an image reference, or null: "not runnable here". */
  image: (ref: string) => string | null;
  /** The runtime's default net.ipv4.ip_unprivileged_port_start (containerd 1.x, CRI-O: 1024; Docker, containerd 2.x: 0). */
  unprivilegedPortStart?: number;
  namespace?: string;
  /**
   * Multiplies every probe's timeoutSeconds (default 1 = the kubelet's). A shared machine at a load of many times its
   * cores takes seconds for one `docker exec`; periods, thresholds and restarts keep the kubelet's rules whatever this is.
   */
  probeTimeoutScale?: number;
  /** Weigh CPU by requests.cpu as a kubelet does (cpu.shares); off by default, see RunningContainer.create. */
  cpuShares?: boolean;
  log?: (line: string) => void;
  engine?: Engine;
}

export interface ProbeStats {
  runs: number;
  failures: number;
}

export interface ContainerStatus {
  name: string;
  image: string;
  started: boolean;
  ready: boolean;
  restarts: number;
  /** Why the container was last restarted: "liveness probe failed", "exited 1", … */
  lastRestartReason: string;
  probes: { startup: ProbeStats; readiness: ProbeStats; liveness: ProbeStats };
  /** Set when the pod is not run: CreateContainerConfigError (a missing Secret key), not runnable image… */
  waitingReason?: string;
  exitCode?: number;
}

export const RUN_LABEL = 'dockercoins-test.pod-runner';
const POD_LABEL = 'dockercoins-test.pod';

const DEFAULT_PERIOD = 10;
const DEFAULT_TIMEOUT = 1;
const DEFAULT_FAILURES = 3;

class RunningContainer {
  readonly status: ContainerStatus;
  id = '';
  private stopping = false;
  private restarting = false;
  private generation = 0;
  private consecutiveExits = 0;

  constructor(
    private readonly pod: RunningPod,
    readonly spec: ContainerSpec,
    readonly localImage: string,
  ) {
    this.status = {
      name: spec.name,
      image: spec.image,
      started: false,
      ready: false,
      restarts: 0,
      lastRestartReason: '',
      probes: { startup: { runs: 0, failures: 0 }, readiness: { runs: 0, failures: 0 }, liveness: { runs: 0, failures: 0 } },
    };
  }

  private get docker(): Docker.Container {
    return this.pod.runner.engine.getContainer(this.id);
  }

  async create(env: Record<string, string>): Promise<void> {
    const { spec, pod } = this;
    const podSc = pod.spec.securityContext ?? {};
    const sc = spec.securityContext ?? {};
    const user = sc.runAsUser ?? podSc.runAsUser;
    const group = sc.runAsGroup ?? podSc.runAsGroup;
    const groups = [...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []), ...(podSc.supplementalGroups ?? [])].map(String);
    const tmpfs: Record<string, string> = {};
    for (const m of spec.volumeMounts ?? []) {
      const volume = pod.spec.volumes?.find((v) => v.name === m.name);
      if (!volume?.emptyDir) throw new Error(`${pod.name}/${spec.name}: volume ${m.name} is not an emptyDir (not supported by the runner)`);
      // An emptyDir is writable by the pod's users: its owner the container user, its group the fsGroup.
      const opts = ['rw', 'nosuid', 'nodev', `uid=${user ?? 0}`, `gid=${podSc.fsGroup ?? group ?? 0}`];
      if (volume.emptyDir.sizeLimit) opts.push(`size=${Math.floor(quantity(volume.emptyDir.sizeLimit))}`);
      tmpfs[m.mountPath] = opts.join(',');
    }
    const limits = spec.resources?.limits ?? {};
    const requests = spec.resources?.requests ?? {};
    const memory = limits.memory !== undefined ? Math.floor(quantity(limits.memory)) : 0;
    const hostConfig: Docker.HostConfig = {
      NetworkMode: `container:${pod.sandboxId}`,
      IpcMode: `container:${pod.sandboxId}`,
      ReadonlyRootfs: sc.readOnlyRootFilesystem === true,
      CapAdd: sc.capabilities?.add,
      CapDrop: sc.capabilities?.drop,
      SecurityOpt: sc.allowPrivilegeEscalation === false ? ['no-new-privileges'] : [],
      GroupAdd: groups.length > 0 ? groups : undefined,
      Tmpfs: tmpfs,
      Memory: memory || undefined,
      MemorySwap: memory || undefined,
      NanoCpus: limits.cpu !== undefined ? Math.round(quantity(limits.cpu) * 1e9) : undefined,
      // requests.cpu → cpu.shares (a kubelet gives 50m 51 shares) only on request: on a shared engine every other
      // container has the default 1024 and ours would starve; on a node all pods are weighed by their requests.
      CpuShares: pod.runner.options.cpuShares && requests.cpu !== undefined ? Math.max(2, Math.round(quantity(requests.cpu) * 1024)) : undefined,
      RestartPolicy: { Name: 'no' },
    };
    const name = `${pod.runner.options.runId}-${pod.name}-${spec.name}`;
    const engine = pod.runner.engine;
    const removeStale = () => engine.getContainer(name).remove({ force: true });
    const c = await retried(
      `create ${name}`,
      () =>
        engine.createContainer({
          name,
          Image: this.localImage,
          // command replaces the image's ENTRYPOINT (and drops its CMD), args replace its CMD.
          ...(spec.command ? { Entrypoint: spec.command, Cmd: spec.args ?? [] } : spec.args ? { Cmd: spec.args } : {}),
          Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
          User: user !== undefined ? `${user}${group !== undefined ? `:${group}` : ''}` : undefined,
          Labels: { [RUN_LABEL]: pod.runner.options.runId, [POD_LABEL]: pod.name },
          // A kubelet ignores the image's HEALTHCHECK (the CRI has none): only the pod's probes run.
          Healthcheck: { Test: ['NONE'] },
          HostConfig: hostConfig,
        }),
      removeStale,
    );
    this.id = c.id;
  }

  async start(): Promise<void> {
    this.generation++;
    const generation = this.generation;
    this.status.started = this.spec.startupProbe === undefined;
    this.status.ready = false;
    await retried(`start ${this.pod.name}/${this.spec.name}`, () => this.docker.start());
    if (this.spec.startupProbe) void this.probeLoop('startup', this.spec.startupProbe, generation);
    if (this.spec.readinessProbe) void this.probeLoop('readiness', this.spec.readinessProbe, generation);
    if (this.spec.livenessProbe) void this.probeLoop('liveness', this.spec.livenessProbe, generation);
    void this.watchExit(generation);
  }

  private alive(generation: number): boolean {
    return !this.stopping && generation === this.generation;
  }

  /** One probe with the kubelet's rules: success 200–399 (HTTP), a connection (TCP), exit 0 (exec), within the timeout. */
  private async probeOnce(p: Probe): Promise<boolean> {
    const timeoutMs = (p.timeoutSeconds ?? DEFAULT_TIMEOUT) * 1000 * (this.pod.runner.options.probeTimeoutScale ?? 1);
    const port = (ref: number | string): number => {
      if (typeof ref === 'number') return ref;
      if (/^\d+$/.test(ref)) return Number(ref);
      const found = this.spec.ports?.find((x) => x.name === ref);
      if (!found) throw new Error(`named port ${ref} not in ${this.spec.name}'s ports`);
      return found.containerPort;
    };
    try {
      if (p.httpGet) {
        const headers = Object.fromEntries((p.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
        const res = await fetch(`http://${this.pod.ip}:${port(p.httpGet.port)}${p.httpGet.path ?? '/'}`, {
          headers: { 'user-agent': 'kube-probe/1.31', ...headers },
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
        await res.arrayBuffer().catch(() => undefined);
        return res.status >= 200 && res.status < 400;
      }
      if (p.tcpSocket) {
        const target = port(p.tcpSocket.port);
        return await new Promise<boolean>((resolve) => {
          const s = connect({ host: this.pod.ip, port: target, timeout: timeoutMs });
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('timeout', () => {
            s.destroy();
            resolve(false);
          });
          s.once('error', () => resolve(false));
        });
      }
      if (p.exec) {
        const exec = await this.docker.exec({ Cmd: p.exec.command, AttachStdout: true, AttachStderr: true });
        const stream = await exec.start({});
        stream.on('error', () => undefined); // the engine may reset the attach stream when the command ends
        stream.resume();
        const end = Date.now() + timeoutMs;
        while (Date.now() < end) {
          const info = await exec.inspect();
          if (!info.Running) return info.ExitCode === 0;
          await sleep(50);
        }
        stream.destroy();
        return false;
      }
    } catch {
      return false;
    }
    throw new Error(`${this.pod.name}/${this.spec.name}: a probe without httpGet, tcpSocket or exec`);
  }

  private async probeLoop(kind: 'startup' | 'readiness' | 'liveness', p: Probe, generation: number): Promise<void> {
    const period = (p.periodSeconds ?? DEFAULT_PERIOD) * 1000;
    const failureThreshold = p.failureThreshold ?? DEFAULT_FAILURES;
    const successThreshold = p.successThreshold ?? 1;
    await sleep((p.initialDelaySeconds ?? 0) * 1000);
    let failures = 0;
    let successes = 0;
    while (this.alive(generation)) {
      // Liveness and readiness wait for the startup probe, as the kubelet's do.
      if (kind !== 'startup' && !this.status.started) {
        await sleep(200);
        continue;
      }
      const ok = await this.probeOnce(p);
      if (!this.alive(generation)) return;
      const stats = this.status.probes[kind];
      stats.runs++;
      if (ok) {
        failures = 0;
        successes++;
        if (kind === 'startup') {
          this.status.started = true;
          return;
        }
        if (kind === 'readiness' && successes >= successThreshold) this.status.ready = true;
      } else {
        stats.failures++;
        successes = 0;
        failures++;
        if (failures >= failureThreshold) {
          if (kind === 'readiness') this.status.ready = false;
          else return void this.restart(`${kind} probe failed ${failures} times`);
        }
      }
      await sleep(period);
    }
  }

  /** The pod is ready when every container is: its readiness probe passes (or, without one, it runs and has started). */
  get ready(): boolean {
    return this.spec.readinessProbe ? this.status.ready : this.status.started && this.status.exitCode === undefined;
  }

  private async watchExit(generation: number): Promise<void> {
    while (this.alive(generation)) {
      await sleep(500);
      if (!this.alive(generation) || this.restarting) continue;
      let state: Docker.ContainerInspectInfo['State'];
      try {
        state = (await this.docker.inspect()).State;
      } catch {
        return;
      }
      if (state.Running) {
        if (this.spec.readinessProbe === undefined) this.status.ready = this.status.started;
        continue;
      }
      this.status.exitCode = state.ExitCode;
      this.status.ready = false;
      const policy = this.pod.spec.restartPolicy ?? 'Always';
      if (policy === 'Never' || (policy === 'OnFailure' && state.ExitCode === 0)) return;
      return void this.restart(`exited ${state.ExitCode}`);
    }
  }

  /** Kill (SIGTERM, then SIGKILL after the grace period) and start again; back-off 0 s, 10 s, 20 s … 300 s for exits. */
  async restart(reason: string): Promise<void> {
    if (this.stopping || this.restarting) return;
    this.restarting = true;
    this.generation++;
    this.status.ready = false;
    this.status.started = false;
    this.pod.runner.log(`${this.pod.name}/${this.spec.name}: restarting (${reason})`);
    try {
      const grace = Math.min(this.pod.spec.terminationGracePeriodSeconds ?? 30, 20);
      await this.docker.stop({ t: grace }).catch(() => undefined);
      this.consecutiveExits = reason.startsWith('exited') ? this.consecutiveExits + 1 : 0;
      const backoff = this.consecutiveExits <= 1 ? 0 : Math.min(10 * 2 ** (this.consecutiveExits - 2), 300) * 1000;
      await sleep(backoff);
      if (this.stopping) return;
      this.status.restarts++;
      this.status.lastRestartReason = reason;
      this.status.exitCode = undefined;
      this.restarting = false;
      await this.start();
    } catch (err) {
      this.pod.runner.log(`${this.pod.name}/${this.spec.name}: restart failed: ${(err as Error).message}`);
    } finally {
      this.restarting = false;
    }
  }

  async logs(tail = 40): Promise<string> {
    if (!this.id) return '';
    const buf = (await this.docker.logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    return demux(buf);
  }

  async waitExit(timeoutMs: number): Promise<number | undefined> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const state = (await this.docker.inspect()).State;
      if (!state.Running && state.Status === 'exited') return state.ExitCode;
      await sleep(500);
    }
    return undefined;
  }

  stop(): void {
    this.stopping = true;
  }
}

export class RunningPod {
  sandboxId = '';
  ip = '';
  readonly containers: RunningContainer[] = [];
  /** Set when the pod cannot be run here: the reason (e.g. "not runnable here: image X"). */
  notRun = '';

  constructor(
    readonly runner: PodRunner,
    readonly name: string,
    readonly owner: string,
    readonly labels: Record<string, string>,
    readonly spec: PodSpec,
    readonly isTest: boolean,
  ) {}

  get ready(): boolean {
    return this.notRun === '' && this.containers.length > 0 && this.containers.every((c) => c.ready);
  }

  get restarts(): number {
    return this.containers.reduce((n, c) => n + c.status.restarts, 0);
  }

  /** The env of one container as the kubelet builds it: Service links, then the container's env in order. */
  environment(c: ContainerSpec): Record<string, string> {
    const r = this.runner;
    const env: Record<string, string> = { HOSTNAME: this.name, ...r.masterServiceEnv() };
    if (this.spec.enableServiceLinks !== false) Object.assign(env, r.serviceLinks());
    for (const v of c.env ?? []) {
      if (v.value !== undefined) env[v.name] = expand(v.value, env);
      else if (v.valueFrom?.fieldRef) env[v.name] = this.field(v.valueFrom.fieldRef.fieldPath);
      else if (v.valueFrom?.secretKeyRef || v.valueFrom?.configMapKeyRef) {
        const ref = (v.valueFrom.secretKeyRef ?? v.valueFrom.configMapKeyRef)!;
        const source = v.valueFrom.secretKeyRef ? r.secrets : r.configMaps;
        const value = source.get(ref.name)?.[ref.key];
        if (value !== undefined) env[v.name] = value;
        else if (!ref.optional) {
          throw new Error(`CreateContainerConfigError: ${v.valueFrom.secretKeyRef ? 'secret' : 'configmap'} ${ref.name} key ${ref.key} not found`);
        }
      } else env[v.name] = '';
    }
    return env;
  }

  private field(path: string): string {
    const labels = /^metadata\.labels\['(.+)'\]$/.exec(path);
    if (labels) return this.labels[labels[1]!] ?? '';
    const values: Record<string, string> = {
      'metadata.name': this.name,
      'metadata.namespace': this.runner.namespace,
      'metadata.uid': `00000000-0000-4000-8000-${this.sandboxId.slice(0, 12).padEnd(12, '0')}`,
      'spec.nodeName': 'docker-node',
      'spec.serviceAccountName': 'default',
      'status.hostIP': this.ip,
      'status.podIP': this.ip,
      'status.podIPs': this.ip,
    };
    if (!(path in values)) throw new Error(`fieldRef ${path} not supported by the runner`);
    return values[path]!;
  }

  async start(): Promise<void> {
    const r = this.runner;
    const images = this.spec.containers.map((c) => ({ c, local: r.options.image(c.image) }));
    const missing = images.find((x) => x.local === null);
    if (missing) {
      this.notRun = `not runnable here: image ${missing.c.image}`;
      r.notRunnable.add(missing.c.image);
      return;
    }
    if (this.spec.initContainers?.length) throw new Error(`${this.name}: initContainers are not supported by the runner`);
    // The pod sandbox ("pause"): the network namespace the containers share, with the pod's sysctls over the
    // runtime's defaults and the Service names that select the pod as DNS aliases.
    const sysctls: Record<string, string> = { 'net.ipv4.ip_unprivileged_port_start': String(r.options.unprivilegedPortStart ?? 1024) };
    for (const s of this.spec.securityContext?.sysctls ?? []) sysctls[s.name] = s.value;
    const aliases = r
      .servicesSelecting(this.labels)
      .flatMap((s) => [s, `${s}.${r.namespace}`, `${s}.${r.namespace}.svc`, `${s}.${r.namespace}.svc.cluster.local`]);
    const sandboxName = `${r.options.runId}-${this.name}`;
    const sandbox = await retried(
      `create ${sandboxName}`,
      () =>
        r.engine.createContainer({
          name: sandboxName,
          Image: r.pauseImage,
          Entrypoint: ['sleep'],
          Cmd: ['infinity'],
          User: '65534:65534',
          Hostname: (this.spec.hostname ?? this.name).slice(0, 63),
          Labels: { [RUN_LABEL]: r.options.runId, [POD_LABEL]: this.name },
          HostConfig: {
            NetworkMode: r.network,
            Sysctls: sysctls,
            ReadonlyRootfs: true,
            CapDrop: ['ALL'],
            Memory: 32 << 20,
            IpcMode: 'shareable',
            RestartPolicy: { Name: 'no' },
          },
          NetworkingConfig: { EndpointsConfig: { [r.network]: { Aliases: aliases } } },
        }),
      () => r.engine.getContainer(sandboxName).remove({ force: true }),
    );
    this.sandboxId = sandbox.id;
    await retried(`start ${sandboxName}`, () => sandbox.start());
    const info = await retried(`inspect ${sandboxName}`, () => sandbox.inspect());
    this.ip = info.NetworkSettings.Networks[r.network]?.IPAddress ?? '';
    for (const { c, local } of images) {
      const container = new RunningContainer(this, c, local!);
      let env: Record<string, string>;
      try {
        env = this.environment(c);
      } catch (err) {
        container.status.waitingReason = (err as Error).message;
        this.notRun = `${c.name}: ${(err as Error).message}`;
        this.containers.push(container);
        return;
      }
      await container.create(env);
      this.containers.push(container);
    }
    for (const c of this.containers) await c.start();
  }

  stop(): void {
    for (const c of this.containers) c.stop();
  }
}

interface Workload {
  kind: 'Deployment' | 'DaemonSet' | 'Pod';
  name: string;
  template: PodTemplate;
  replicas: number;
  isTest: boolean;
}

export class PodRunner {
  readonly engine: Engine;
  readonly namespace: string;
  readonly network: string;
  readonly pods: RunningPod[] = [];
  readonly notRunnable = new Set<string>();
  /** Kinds the runner does not act on (listed in the report; they are not run, and not pretended to be). */
  readonly ignored = new Map<string, number>();
  readonly secrets = new Map<string, Record<string, string>>();
  readonly configMaps = new Map<string, Record<string, string>>();
  readonly pauseImage = 'node:22-bookworm-slim';
  private readonly services: { name: string; spec: ServiceSpec; clusterIP: string }[] = [];
  private readonly workloads: Workload[] = [];
  private readonly lines: string[] = [];

  constructor(
    objects: K8sObject[],
    readonly options: RunnerOptions,
  ) {
    // A generous call timeout: a busy engine takes seconds to create a container, and a timed-out call is a reset.
    this.engine = options.engine ?? connectEngine(undefined, 120_000);
    this.namespace = options.namespace ?? 'default';
    this.network = `${options.runId}-net`;
    let ip = 10;
    for (const o of objects) {
      const spec = o.spec as Record<string, unknown> | undefined;
      if (o.kind === 'Service') {
        const s = spec as ServiceSpec;
        this.services.push({ name: o.metadata.name, spec: s, clusterIP: s.clusterIP ?? `10.96.0.${ip++}` });
      } else if (o.kind === 'Secret') {
        const data = Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
        this.secrets.set(o.metadata.name, { ...data, ...(o.stringData ?? {}) });
      } else if (o.kind === 'ConfigMap') {
        this.configMaps.set(o.metadata.name, { ...(o.data ?? {}) });
      } else if (o.kind === 'Deployment' || o.kind === 'DaemonSet') {
        const replicas = o.kind === 'DaemonSet' ? 1 : ((spec?.replicas as number | undefined) ?? 1);
        this.workloads.push({ kind: o.kind, name: o.metadata.name, template: spec!.template as PodTemplate, replicas, isTest: false });
      } else if (o.kind === 'Pod') {
        const hook = o.metadata.annotations?.['helm.sh/hook'] ?? '';
        const template = { metadata: { labels: o.metadata.labels, annotations: o.metadata.annotations }, spec: o.spec as PodSpec };
        this.workloads.push({ kind: 'Pod', name: o.metadata.name, template, replicas: 1, isTest: hook.split(',').includes('test') });
      } else {
        this.ignored.set(o.kind, (this.ignored.get(o.kind) ?? 0) + 1);
      }
    }
    for (const s of this.services) {
      for (const p of s.spec.ports ?? []) {
        const target = p.targetPort ?? p.port;
        if (typeof target === 'number' && target !== p.port) {
          throw new Error(`Service ${s.name}: port ${p.port} → targetPort ${target} needs kube-proxy, which the runner does not emulate`);
        }
      }
    }
  }

  log(line: string): void {
    this.lines.push(line);
    this.options.log?.(line);
  }

  /** The Service link variables of every Service of the namespace (what a pod without enableServiceLinks: false gets). */
  serviceLinks(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const s of this.services) {
      Object.assign(
        env,
        serviceLinkEnv(
          s.name,
          s.clusterIP,
          (s.spec.ports ?? []).map((p) => ({ port: p.port, name: p.name, protocol: p.protocol })),
        ),
      );
    }
    return env;
  }

  /** The API server's own Service: its variables are in every pod, whatever enableServiceLinks says. */
  masterServiceEnv(): Record<string, string> {
    return { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBERNETES_SERVICE_PORT_HTTPS: '443' };
  }

  servicesSelecting(labels: Record<string, string>): string[] {
    return this.services.filter((s) => selects(s.spec.selector, labels)).map((s) => s.name);
  }

  private podName(w: Workload): string {
    if (w.kind === 'Pod') return w.name;
    if (w.kind === 'DaemonSet') return `${w.name}-${randomSuffix(5)}`;
    return `${w.name}-${randomSuffix(9)}-${randomSuffix(5)}`;
  }

  private async addPod(w: Workload): Promise<RunningPod> {
    const pod = new RunningPod(this, this.podName(w), w.name, { ...(w.template.metadata.labels ?? {}) }, w.template.spec, w.isTest);
    this.pods.push(pod);
    await pod.start();
    if (pod.notRun) this.log(`${pod.name}: ${pod.notRun}`);
    return pod;
  }

  private networkMade = false;

  /** The namespace's network (once): start() makes it, or earlier so other namespaces' pods can be exposed to it first. */
  async createNetwork(): Promise<void> {
    if (this.networkMade) return;
    await this.engine.createNetwork({ Name: this.network, Labels: { [RUN_LABEL]: this.options.runId } });
    this.networkMade = true;
  }

  /**
   * Another namespace's pods reach this one's running pods by their Services' namespaced names only
   * (`<svc>.<namespace>`, `….svc`, `….svc.cluster.local`): each pod's sandbox joins that network with those aliases.
   * (A cluster's flat pod network, narrowed to the namespaces that need it; bare names stay each namespace's own.)
   */
  async exposeTo(other: PodRunner): Promise<void> {
    await other.createNetwork();
    for (const pod of this.pods.filter((p) => p.sandboxId)) {
      const aliases = this.servicesSelecting(pod.labels).flatMap((s) => [
        `${s}.${this.namespace}`,
        `${s}.${this.namespace}.svc`,
        `${s}.${this.namespace}.svc.cluster.local`,
      ]);
      await retried(`connect ${pod.name} to ${other.network}`, () =>
        this.engine.getNetwork(other.network).connect({ Container: pod.sandboxId, EndpointConfig: { Aliases: aliases } }),
      );
    }
  }

  /** Creates the network and every pod of the Deployments and DaemonSets (helm test pods wait for runTests). */
  async start(): Promise<void> {
    await this.createNetwork();
    // One pod after the other, as a kubelet's pod workers start them on a busy node (the engine resets connections
    // when dozens of creations arrive at once).
    for (const w of this.workloads.filter((x) => !x.isTest)) for (let i = 0; i < w.replicas; i++) await this.addPod(w);
  }

  podsOf(workload: string): RunningPod[] {
    return this.pods.filter((p) => p.owner === workload);
  }

  /** kubectl scale: more pods, or the newest ones removed. */
  async scale(workload: string, replicas: number): Promise<void> {
    const w = this.workloads.find((x) => x.name === workload && x.kind === 'Deployment');
    if (!w) throw new Error(`no Deployment ${workload}`);
    w.replicas = replicas;
    const pods = this.podsOf(workload);
    for (let i = pods.length; i < replicas; i++) await this.addPod(w);
    for (const pod of pods.slice(replicas)) await this.removePod(pod);
  }

  private async removePod(pod: RunningPod): Promise<void> {
    pod.stop();
    for (const c of pod.containers)
      if (c.id)
        await this.engine
          .getContainer(c.id)
          .remove({ force: true })
          .catch(() => undefined);
    if (pod.sandboxId)
      await this.engine
        .getContainer(pod.sandboxId)
        .remove({ force: true })
        .catch(() => undefined);
    this.pods.splice(this.pods.indexOf(pod), 1);
  }

  /** Pods that run here (their images exist) and are not helm test pods. */
  get runnablePods(): RunningPod[] {
    return this.pods.filter((p) => !p.isTest && !p.notRun.startsWith('not runnable here'));
  }

  /** Resolves when every runnable pod is ready; rejects after timeoutMs naming the pods that are not, with their logs. */
  async waitReady(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.runnablePods.every((p) => p.ready)) return;
      await sleep(500);
    }
    const notReady = this.runnablePods.filter((p) => !p.ready);
    const details = await Promise.all(
      notReady.map(async (p) => {
        const logs = await Promise.all(p.containers.map((c) => c.logs(15).catch(() => '')));
        return `${p.name}: ${p.notRun || 'not ready'} (restarts ${p.restarts})\n${logs.join('\n')}`;
      }),
    );
    throw new Error(`pods not ready after ${timeoutMs} ms:\n${details.join('\n')}`);
  }

  /** helm test: each test pod started after the release is up; its exit code and log. */
  async runTests(timeoutMs: number): Promise<{ name: string; exitCode: number | undefined; logs: string }[]> {
    const results = [];
    for (const w of this.workloads.filter((x) => x.isTest)) {
      const pod = await this.addPod(w);
      if (pod.notRun) {
        results.push({ name: pod.name, exitCode: undefined, logs: pod.notRun });
        continue;
      }
      const c = pod.containers[0]!;
      const exitCode = await c.waitExit(timeoutMs);
      results.push({ name: pod.name, exitCode, logs: await c.logs(100) });
    }
    return results;
  }

  /** What ran: one line per pod (ready, restarts and why, probes run/failed), the images not runnable, the kinds not acted on. */
  report(): string[] {
    const out: string[] = [];
    const scale = this.options.probeTimeoutScale ?? 1;
    if (scale !== 1) out.push(`probe timeouts ×${scale} (a busy shared machine; periods, thresholds and restarts as the kubelet's)`);
    for (const p of this.pods) {
      if (p.notRun) {
        out.push(`${p.name}: ${p.notRun}`);
        continue;
      }
      for (const c of p.containers) {
        const s = c.status;
        const probes = (['startup', 'readiness', 'liveness'] as const)
          .filter((k) => s.probes[k].runs > 0)
          .map((k) => `${k} ${s.probes[k].runs - s.probes[k].failures}/${s.probes[k].runs} ok`)
          .join(', ');
        const restarts = s.restarts > 0 ? `restarts ${s.restarts} (last: ${s.lastRestartReason})` : 'restarts 0';
        const finished = p.isTest || p.spec.restartPolicy === 'Never';
        const state = finished ? `exit ${s.exitCode ?? '(running)'}` : c.ready ? 'ready' : 'NOT ready';
        out.push(`${p.name}/${s.name} [${p.ip}]: ${state}, ${restarts}${probes ? `, probes: ${probes}` : ''}`);
      }
    }
    for (const image of this.notRunnable) out.push(`not runnable here: image ${image}`);
    for (const [kind, n] of this.ignored) out.push(`not acted on (no controller here): ${n} ${kind}`);
    return out;
  }

  /** Removes every container and the network of this run (found by their label, so nothing else is touched). */
  async stop(): Promise<void> {
    for (const p of this.pods) p.stop();
    const containers = await containersLabelled(this.engine, { [RUN_LABEL]: this.options.runId });
    await Promise.all(
      containers.map((c) =>
        this.engine
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    for (const n of await networksLabelled(this.engine, { [RUN_LABEL]: this.options.runId })) {
      await this.engine
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    }
  }
}

/** Removes the containers and networks of earlier runs that `stale(runId)` says are over (a crashed test's leftovers). */
export async function sweepRuns(engine: Engine, stale: (runId: string) => boolean): Promise<number> {
  let removed = 0;
  for (const c of await containersLabelled(engine, { [RUN_LABEL]: true })) {
    if (!stale(c.Labels[RUN_LABEL] ?? '')) continue;
    await engine
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
    removed++;
  }
  for (const n of await networksLabelled(engine, { [RUN_LABEL]: true })) {
    if (stale(n.Labels?.[RUN_LABEL] ?? ''))
      await engine
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
  }
  return removed;
}
