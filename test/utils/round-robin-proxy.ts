import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A plain TCP load balancer on loopback: each new connection goes to the next backend in turn, with no
 * affinity (what a round-robin balancer without sticky sessions does). A backend that refuses is skipped.
 */
export class RoundRobinProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private next = 0;
  /** connections handed to each backend, by index */
  readonly counts: number[];
  /** connections open to each backend now, by index */
  readonly open: number[];
  port = 0;

  constructor(private backends: number[]) {
    this.counts = backends.map(() => 0);
    this.open = backends.map(() => 0);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Replaces a backend's port (an instance restarted elsewhere). */
  setBackend(index: number, port: number): void {
    this.backends = this.backends.map((existing, i) => (i === index ? port : existing));
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.sockets.add(client);
      client.pause();
      let upstream: Socket | undefined;
      client.on('error', () => client.destroy());
      client.on('close', () => {
        this.sockets.delete(client);
        upstream?.destroy();
      });
      const attempt = (triesLeft: number): void => {
        const index = this.next++ % this.backends.length;
        const candidate = createConnection(this.backends[index], '127.0.0.1');
        upstream = candidate;
        let connected = false;
        candidate.once('connect', () => {
          connected = true;
          this.counts[index] += 1;
          this.open[index] += 1;
          this.sockets.add(candidate);
          client.pipe(candidate).pipe(client);
          client.resume();
        });
        candidate.on('error', () => {
          candidate.destroy();
          if (!connected && triesLeft > 1 && !client.destroyed) attempt(triesLeft - 1);
          else client.destroy();
        });
        candidate.on('close', () => {
          this.sockets.delete(candidate);
          if (!connected) return;
          this.open[index] -= 1;
          client.destroy();
        });
      };
      attempt(this.backends.length);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
