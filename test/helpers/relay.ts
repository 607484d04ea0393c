// A TCP relay on a port that never changes, forwarding to wherever its target is now: a service (or Redis) can be
// killed and started again on a new port while its clients keep one address. With no target, connections are
// reset at once, as a closed port refuses them.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  target?: number;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (this.server) return this;
    this.server = createServer((client) => {
      const target = this.target;
      if (target === undefined) return void client.resetAndDestroy();
      const upstream = createConnection({ host: '127.0.0.1', port: target });
      for (const s of [client, upstream]) {
        s.unref();
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      upstream.once('error', () => client.resetAndDestroy());
      client.once('error', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
    });
    // Never what keeps a test process alive.
    this.server.unref();
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Points new connections elsewhere (undefined: refuse them); open ones are cut, as when a server dies. */
  retarget(port: number | undefined): void {
    this.target = port;
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.retarget(undefined);
    await new Promise((resolve) => this.server?.close(resolve));
    this.server = undefined;
  }
}
