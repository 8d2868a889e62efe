import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Server, Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../utils/app-process';

/**
 * A plain TCP listener on 127.0.0.1:<port> and [::1]:<port>, where every loopback spelling of a
 * callback_url lands (0x7f000001, 2130706433, 127.1, 0.0.0.0, localhost …). It counts connections,
 * whatever is sent on them, and answers nothing.
 */
export class Decoy {
  readonly connections: Array<{ family: 'IPv4' | 'IPv6'; at: Date }> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly servers: Server[],
  ) {
    for (const server of servers) {
      server.on('connection', (socket) => {
        this.connections.push({ family: socket.localFamily === 'IPv6' ? 'IPv6' : 'IPv4', at: new Date() });
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
        socket.destroy();
      });
    }
  }

  static async start(): Promise<Decoy> {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const servers = [createServer(), createServer()];
      try {
        await listen(servers[0], port, '127.0.0.1');
        await listen(servers[1], port, '::1');
        return new Decoy(port, servers);
      } catch (error) {
        for (const server of servers) server.close();
        if (attempt > 5) throw error;
      }
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: host === '::1' }, () => resolve());
  });
}

/**
 * The built app as a child process in a private mount namespace whose /etc/hosts adds `hosts`
 * (name → address): a real getaddrinfo() answer, as a hostile DNS record would give, without
 * touching the machine's own /etc/hosts.
 */
export class NamespacedApp {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(env: NodeJS.ProcessEnv, hosts: Record<string, string>): Promise<NamespacedApp> {
    const dir = mkdtempSync(join(tmpdir(), 'cim-ssrf-hosts-'));
    const hostsFile = join(dir, 'hosts');
    // the machine's own entries (localhost, the host name) stay; ours are added
    const lines = [readFileSync('/etc/hosts', 'utf8').trimEnd(), ...Object.entries(hosts).map(([name, address]) => `${address} ${name}`)];
    writeFileSync(hostsFile, `${lines.join('\n')}\n`);
    const port = await freePort();
    const main = join(__dirname, '..', '..', '..', 'dist', 'main.js');
    const base = { ...process.env };
    for (const key of ['DATABASE_URL', 'CIM_GATEWAYS', 'CIM_AUTHORIZATION', 'SMARTICO_API_KEY', 'NODE_ENV']) delete base[key];
    const child = spawn('unshare', ['-m', 'sh', '-c', `mount --bind "$CIM_HOSTS_FILE" /etc/hosts && exec "$CIM_NODE" "$CIM_MAIN"`], {
      env: { ...base, ...env, PORT: String(port), HOST: '127.0.0.1', CIM_HOSTS_FILE: hostsFile, CIM_NODE: process.execPath, CIM_MAIN: main },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new NamespacedApp(child, `http://127.0.0.1:${port}`);
    await app.waitForHealthy();
    return app;
  }

  private async waitForHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      if (exited) throw new Error(`app exited before becoming healthy:\n${this.stdout}\n${this.stderr}`);
      try {
        if ((await fetch(`${this.url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`app not healthy in ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}
