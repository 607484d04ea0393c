// What a Kubernetes Service does, for the all-in-one: the workers' rotation holds the rng (or hasher) instances
// that are ready — probed on /readyz every second, as an endpoints controller would — so an instance failing its
// readiness (the lab's "rng unready") leaves the rotation and comes back when it recovers. Changes are applied one
// at a time; removing an instance resolves once the workers' connections to it have drained.
import type { Logger } from '../platform/logger.js';

/** An instance the rotation routes to. */
export interface Member {
  readonly name: string;
  readonly url: string;
}

const PROBE_EVERY_MS = 1000;
const PROBE_TIMEOUT_MS = 900;

export class Rotation {
  private members: Member[] = [];
  private readonly unready = new Set<Member>();
  private timer?: NodeJS.Timeout;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kind: 'rng' | 'hasher',
    /** Gives the workers their new list of URLs; resolves when connections to the ones that left have drained. */
    private readonly publish: (urls: string[]) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.members.length;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.probe(), PROBE_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A new instance joins (it has just started, so it is ready). */
  add(c: Member): Promise<void> {
    return this.change(() => {
      this.members.push(c);
    });
  }

  /** An instance leaves; resolves once no worker is talking to it any more. */
  remove(c: Member): Promise<void> {
    return this.change(() => {
      this.members = this.members.filter((m) => m !== c);
      this.unready.delete(c);
    });
  }

  /** Probes every member now (the lab calls it right after changing a readiness fault). */
  probe(): Promise<void> {
    return this.change(async () => {
      const states = await Promise.all(this.members.map(async (c) => [c, await ready(c.url)] as const));
      for (const [c, ok] of states) {
        if (ok && this.unready.delete(c)) this.logger.info(`${c.name} is ready again: back in the ${this.kind} rotation`);
        if (!ok && !this.unready.has(c)) {
          this.unready.add(c);
          this.logger.warn(`${c.name} is not ready: out of the ${this.kind} rotation (as a Service drops an unready pod)`);
        }
      }
    });
  }

  private change(fn: () => void | Promise<void>): Promise<void> {
    const next = this.chain.then(async () => {
      const before = this.urls().join(',');
      await fn();
      const urls = this.urls();
      if (urls.join(',') !== before) await this.publish(urls);
    });
    this.chain = next.catch((err: Error) => this.logger.error({ err }, `${this.kind} rotation: ${err.message}`));
    return next;
  }

  private urls(): string[] {
    return this.members.filter((c) => !this.unready.has(c)).map((c) => c.url);
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })).ok;
  } catch {
    return false;
  }
}
