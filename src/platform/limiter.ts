// A FIFO concurrency limit. rng's serialisation is this, explicitly, not an accident of a single-threaded server.

export class QueueFullError extends Error {
  constructor(readonly limit: number) {
    super(`queue full (${limit} requests already waiting)`);
  }
}

export class AbortedError extends Error {
  constructor() {
    super('request abandoned while queued');
  }
}

interface Waiter {
  settled: boolean;
  grant: () => void;
}

export class FifoLimiter {
  private active = 0;
  private readonly waiting: (Waiter | undefined)[] = [];
  private head = 0;
  private queued = 0;

  /** @param limit requests inside at once, 0 = unlimited. @param queueLimit waiters allowed, 0 = unlimited. */
  constructor(
    private limit: number,
    readonly queueLimit = 0,
  ) {}

  /** Changes the limit at runtime (the lab): a higher one lets waiters in at once; a lower one applies as slots free. */
  setLimit(limit: number): void {
    this.limit = limit;
    this.next();
  }

  get inFlight(): number {
    return this.active;
  }

  get depth(): number {
    return this.queued;
  }

  /** A new request would be refused (QueueFullError) rather than queued. */
  get full(): boolean {
    return this.queueLimit > 0 && this.queued >= this.queueLimit;
  }

  /** Resolves when the caller may go in; it must call the returned release exactly once. */
  acquire(signal?: AbortSignal): Promise<() => void> | (() => void) {
    if (this.limit === 0 || (this.active < this.limit && this.queued === 0)) {
      this.active++;
      return this.releaser();
    }
    if (this.full) throw new QueueFullError(this.queueLimit);
    if (signal?.aborted) throw new AbortedError();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        settled: false,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = (): void => {
        if (waiter.settled) return;
        waiter.settled = true;
        this.queued--;
        reject(new AbortedError());
      };
      this.waiting.push(waiter);
      this.queued++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      this.next();
    };
  }

  private next(): void {
    while (this.queued > 0 && (this.limit === 0 || this.active < this.limit)) {
      const waiter = this.waiting[this.head];
      this.waiting[this.head++] = undefined;
      if (!waiter || waiter.settled) continue;
      waiter.settled = true;
      this.queued--;
      this.active++;
      waiter.grant();
    }
    if (this.queued === 0) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }
}
