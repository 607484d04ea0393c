// Calls across a MessagePort (a worker thread and its parent): call(op, ...args) resolves with what the other side's
// handler returned, or rejects with its error's message — or, when no answer comes within the call's timeout, with
// an error saying so (a stuck thread never blocks its caller for good). Both sides can call and serve.
import type { MessagePort, Worker as Thread } from 'node:worker_threads';

/** Long enough for a lab change or a flush through the parent's ledger (a Redis command with its retries). */
const DEFAULT_TIMEOUT_MS = 10_000;

type Handler = (...args: never[]) => unknown;
type Message = { id: number; op: string; args: unknown[] } | { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export class Rpc {
  private serial = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private handlers: Record<string, Handler> = {};

  /** `timeoutMs`: how long call() waits for an answer (callWithin() for one call's own). */
  constructor(
    private readonly port: MessagePort | Thread,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    port.on('message', (m: Message) => void this.receive(m));
  }

  serve(handlers: Record<string, Handler>): void {
    this.handlers = { ...this.handlers, ...handlers };
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    return this.callWithin<T>(this.timeoutMs, op, ...args);
  }

  callWithin<T = unknown>(timeoutMs: number, op: string, ...args: unknown[]): Promise<T> {
    const id = ++this.serial;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${op}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const settle =
        <A>(f: (a: A) => void) =>
        (a: A) => {
          clearTimeout(timer);
          f(a);
        };
      this.pending.set(id, { resolve: settle((v) => resolve(v as T)), reject: settle(reject) });
      this.port.postMessage({ id, op, args });
    });
  }

  /** Everything still waiting fails (the other side is gone). */
  fail(why: string): void {
    for (const p of this.pending.values()) p.reject(new Error(why));
    this.pending.clear();
  }

  private async receive(m: Message): Promise<void> {
    if ('op' in m) {
      const handler = this.handlers[m.op];
      try {
        if (!handler) throw new Error(`no handler for ${m.op}`);
        this.port.postMessage({ id: m.id, ok: true, value: await handler(...(m.args as never[])) });
      } catch (err) {
        this.port.postMessage({ id: m.id, ok: false, error: (err as Error).message });
      }
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  }
}
