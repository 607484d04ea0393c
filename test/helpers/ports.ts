// Ports without races. Services under test listen on port 0 and say which port they got (see Proc.url). Where a
// port must be chosen up front (a worker's METRICS_PORT, redis-server), it is a candidate the kernel just had
// free, and the start is retried on another candidate if something took it in between. A service that must come
// back at the same address after being killed sits behind a Relay (relay.ts), whose port never changes.
import { createServer } from 'node:net';

export async function candidatePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs start(port) on a fresh candidate port, again on another one if it fails (at most `attempts` times). */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start(await candidatePort());
    } catch (err) {
      if (i >= attempts) throw err;
    }
  }
}
