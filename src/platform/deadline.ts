// One deadline for a stop, passed down through every layer: an absolute time each layer reads what is left of
// (remaining()), a signal that aborts when it passes, and within() to cut work there. No layer adds a margin.
export class Deadline {
  private controller?: AbortController;
  private timer?: NodeJS.Timeout;
  /** within() calls waiting: while there are any, the timer keeps the process up (a cut must happen). */
  private waiting = 0;

  /** `at`: the absolute time (Date.now() clock) by which the work must be done. */
  constructor(readonly at: number) {}

  /** The deadline `ms` from now. */
  static in(ms: number): Deadline {
    return new Deadline(Date.now() + Math.max(0, ms));
  }

  /** Milliseconds left, 0 once passed. */
  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }

  get passed(): boolean {
    return this.controller?.signal.aborted === true || Date.now() >= this.at;
  }

  /** Aborts when the deadline passes (one timer per deadline; it keeps the process up only while within() waits). */
  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      const left = this.remaining();
      if (left === 0) controller.abort(new Error('deadline passed'));
      else this.timer = setTimeout(() => controller.abort(new Error('deadline passed')), left).unref();
    }
    return this.controller.signal;
  }

  /**
   * Waits for `work` until the deadline: true if it settled by then (a rejection is the caller's to see elsewhere),
   * false if the deadline cut it. Once the deadline has passed, whatever has not settled yet is cut at once.
   */
  async within(work: Promise<unknown> | undefined): Promise<boolean> {
    if (!work) return true;
    const signal = this.signal;
    let onAbort: (() => void) | undefined;
    const cut = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    if (this.waiting++ === 0) this.timer?.ref();
    try {
      return await Promise.race([
        work.then(
          () => true,
          () => true,
        ),
        cut,
      ]);
    } finally {
      if (--this.waiting === 0) this.timer?.unref();
      signal.removeEventListener('abort', onAbort!);
    }
  }
}
