import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { eventually, StopWaiting } from '../../utils/eventually';

const ROOT = join(__dirname, '..', '..', '..');
const HELPER = join(__dirname, 'netns-helper.mjs');

type Reply = Record<string, unknown> & { id?: number; error?: string };

/**
 * A private network and mount namespace for the app under test: its own loopback, up, with extra
 * addresses on it (169.254.169.254, 10.0.0.1 …), so a decoy can listen where a hostile callback_url
 * would really land — on this machine nothing answers at those addresses, and "no connection" would
 * prove nothing — and its own /etc/hosts with extra names (a real getaddrinfo() answer, as a
 * hostile DNS record would give), all without touching the machine's network or files.
 *
 * A helper process lives in the namespace (`unshare -m -n` as root; as anyone else `unshare -r -m -n`,
 * an unprivileged user namespace) and does there what the test asks over its IPC channel: a
 * listening socket it opens is handed to the test, which accepts on it (the decoy, and the app's way
 * to PostgreSQL), and a listener the test opens out here is handed in and piped to the app's port.
 */
export class AppNamespace {
  private nextId = 0;
  private readonly waiting = new Map<number, (reply: Reply, handle: unknown) => void>();
  private readonly apps = new Map<number, NamespacedApp>();
  private readonly listeners: Server[] = [];
  private readonly piped = new Set<Socket>();
  private readonly exited: Promise<void>;

  private constructor(
    private readonly helper: ChildProcess,
    private readonly dir: string,
  ) {
    helper.on('message', (message: Reply & { type?: string; app?: number }, handle: unknown) => {
      if (message.type === 'output' || message.type === 'exit') {
        this.apps.get(message.app!)?.onEvent(message as never);
        return;
      }
      const resolve = this.waiting.get(message.id!);
      this.waiting.delete(message.id!);
      resolve?.(message, handle);
    });
    this.exited = new Promise((resolve) => helper.once('exit', () => resolve()));
  }

  /** `addresses` go on the namespace's loopback (CIDR, e.g. `169.254.169.254/32`); `hosts` (name → address) into its /etc/hosts. */
  static async start(addresses: string[], hosts: Record<string, string>): Promise<AppNamespace> {
    const dir = mkdtempSync(join(tmpdir(), 'cim-ssrf-ns-'));
    const hostsFile = join(dir, 'hosts');
    // the machine's own entries (localhost, the host name) stay; ours are added
    const lines = [readFileSync('/etc/hosts', 'utf8').trimEnd(), ...Object.entries(hosts).map(([name, address]) => `${address} ${name}`)];
    writeFileSync(hostsFile, `${lines.join('\n')}\n`);
    const setup = [
      'ip link set lo up',
      ...addresses.map((address) => `ip ${address.includes(':') ? '-6 ' : ''}addr add ${address} dev lo`),
      'mount --bind "$CIM_HOSTS_FILE" /etc/hosts',
      'exec "$CIM_NODE" "$CIM_HELPER"',
    ];
    // creating network and mount namespaces needs CAP_SYS_ADMIN: root has it; anyone else gets it
    // inside a user namespace of their own, where they are root (mapped back to themselves outside)
    const unshareArgs = process.getuid?.() === 0 ? ['-m', '-n'] : ['-r', '-m', '-n'];
    const helper = spawn('unshare', [...unshareArgs, 'sh', '-c', setup.join(' && ')], {
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, CIM_HOSTS_FILE: hostsFile, CIM_NODE: process.execPath, CIM_HELPER: HELPER },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    helper.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const namespace = new AppNamespace(helper, dir);
    const ready = await new Promise<boolean>((resolve) => {
      helper.once('message', () => resolve(true));
      helper.once('exit', () => resolve(false));
      helper.once('error', (error) => {
        stderr += String(error);
        resolve(false);
      });
    });
    if (!ready) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `scenario 5 runs the app in a private network and mount namespace and could not create one (\`unshare ${unshareArgs.join(' ')}\` with iproute2's \`ip\`): ${stderr.trim() || 'no output'}. ` +
          'Run it as root, or allow unprivileged user namespaces (kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0; on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0).',
      );
    }
    return namespace;
  }

  /** A listening socket at host:port inside the namespace (port 0: any), accepted on here. */
  async listen(host: string, port: number): Promise<Server> {
    const [reply, handle] = await this.ask({ type: 'listen', host, port });
    if (reply.error !== undefined) throw new Error(reply.error);
    this.listeners.push(handle as Server);
    return handle as Server;
  }

  /** A control connection from inside the namespace: whether it connected, or the error. */
  async connectFrom(host: string, port: number): Promise<string> {
    const [reply] = await this.ask({ type: 'connect', host, port });
    return reply.connected === true ? 'connected' : String(reply.error);
  }

  /** A loopback URL out here whose connections are piped to 127.0.0.1:`port` inside the namespace. */
  async forwardInto(port: number): Promise<string> {
    const outside = createServer();
    await new Promise<void>((resolve) => outside.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(outside.address() as { port: number }).port}`;
    await this.ask({ type: 'forward', port }, outside);
    // the helper accepts on it now
    outside.close();
    return url;
  }

  /** Connections to host:`port` inside the namespace are piped to `target` out here (e.g. PostgreSQL). */
  async forwardOut(port: number, target: { host: string; port: number }): Promise<void> {
    const inside = await this.listen('127.0.0.1', port);
    inside.on('connection', (socket: Socket) => {
      const outside = connect(target);
      socket.pipe(outside).pipe(socket);
      outside.on('error', () => socket.destroy());
      socket.on('error', () => outside.destroy());
      for (const end of [socket, outside]) {
        this.piped.add(end);
        end.once('close', () => this.piped.delete(end));
      }
    });
  }

  /** Runs the built app inside the namespace. */
  async spawnApp(env: NodeJS.ProcessEnv): Promise<NamespacedApp> {
    const id = ++this.nextId;
    const app = new NamespacedApp(this, id);
    this.apps.set(id, app);
    await this.ask({ type: 'spawn', app: id, args: [join(ROOT, 'dist', 'main.js')], env });
    return app;
  }

  kill(app: number, signal: NodeJS.Signals): Promise<unknown> {
    return this.ask({ type: 'kill', app, signal });
  }

  async stop(): Promise<void> {
    for (const socket of this.piped) socket.destroy();
    await Promise.all(this.listeners.map((server) => new Promise((resolve) => server.close(resolve))));
    if (this.helper.connected) this.helper.disconnect();
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private ask(request: Record<string, unknown>, handle?: Server): Promise<[Reply, unknown]> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, (reply, received) => resolve([reply, received]));
      this.helper.send({ ...request, id }, handle);
    });
  }
}

/**
 * A plain TCP listener counting connections (whatever is sent on them; it answers nothing) at every
 * address it is given inside the namespace: loopback (127.0.0.1 and [::1], where every loopback
 * spelling of a callback_url lands: 0x7f000001, 2130706433, 127.1, 0.0.0.0, localhost …) on one
 * port, and the other addresses a hostile callback_url names on port 80 (169.254.169.254 …).
 */
export class Decoy {
  readonly connections: Array<{ address: string; port: number; at: Date }> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly servers: Server[],
  ) {
    for (const server of servers) {
      server.on('connection', (socket: Socket) => {
        this.connections.push({ address: socket.localAddress ?? '?', port: socket.localPort ?? 0, at: new Date() });
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
        socket.destroy();
      });
    }
  }

  static async start(namespace: AppNamespace, others: string[]): Promise<Decoy> {
    const loopback = await namespace.listen('127.0.0.1', 0);
    const port = (loopback.address() as { port: number }).port;
    const servers = [loopback, await namespace.listen('::1', port)];
    for (const address of others) servers.push(await namespace.listen(address, 80));
    return new Decoy(port, servers);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** The built app as a process inside an AppNamespace, reached through a forwarded loopback URL. */
export class NamespacedApp {
  stdout = '';
  stderr = '';
  url = '';
  private exitCode?: number | null;
  readonly exited: Promise<number | null>;
  private onExit!: (code: number | null) => void;

  constructor(
    private readonly namespace: AppNamespace,
    private readonly id: number,
  ) {
    this.exited = new Promise((resolve) => (this.onExit = resolve));
  }

  /** Starts the app on `port` inside the namespace and waits until /health answers through the forward. */
  static async start(namespace: AppNamespace, env: NodeJS.ProcessEnv, port: number): Promise<NamespacedApp> {
    const base = { ...process.env };
    for (const key of ['DATABASE_URL', 'CIM_GATEWAYS', 'CIM_AUTHORIZATION', 'SMARTICO_API_KEY', 'NODE_ENV']) delete base[key];
    const app = await namespace.spawnApp({ ...base, ...env, PORT: String(port), HOST: '127.0.0.1' });
    app.url = await namespace.forwardInto(port);
    await app.waitForHealthy();
    return app;
  }

  onEvent(event: { type: 'output'; stream: 'stdout' | 'stderr'; text: string } | { type: 'exit'; code: number | null; signal: string | null }): void {
    if (event.type === 'output') this[event.stream] += event.text;
    else {
      this.exitCode = event.code;
      this.onExit(event.code);
    }
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    await this.namespace.kill(this.id, 'SIGTERM');
    await this.exited;
  }

  private async waitForHealthy(timeoutMs = 30_000): Promise<void> {
    const healthy = async (): Promise<boolean> => {
      if (!this.alive) throw new StopWaiting(`app exited before becoming healthy:\n${this.stdout}\n${this.stderr}`);
      return (await fetch(`${this.url}/health`)).ok; // refused until it listens
    };
    await eventually(healthy, { what: () => `the app to be healthy:\n${this.stdout}\n${this.stderr}`, timeoutMs, everyMs: 50 });
  }
}
