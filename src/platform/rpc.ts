// Calls across a MessagePort (a worker thread and its parent): call(op, ...args) resolves with what the other side's
// handler returned, or rejects with its error's message. Both sides can call and serve.
import type { MessagePort, Worker } from 'node:worker_threads';

type Handler = (...args: never[]) => unknown;
type Message = { id: number; op: string; args: unknown[] } | { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export class Rpc {
  private serial = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private handlers: Record<string, Handler> = {};

  constructor(private readonly port: MessagePort | Worker) {
    port.on('message', (m: Message) => void this.receive(m));
  }

  serve(handlers: Record<string, Handler>): void {
    this.handlers = { ...this.handlers, ...handlers };
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = ++this.serial;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject });
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
