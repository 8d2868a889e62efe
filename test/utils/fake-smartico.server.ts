import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

import { eventually } from './eventually';

/** How the fake answers: Smartico's success reply by default, or one of the failures callbacks must survive. */
export type FakeSmarticoMode =
  | 'ok'
  | 'html'
  | 'invalid-json'
  | 'hang'
  | 'reset'
  | { status: number; body?: string } // Smartico's success body unless `body` is given, so only the status is at fault
  | { errorCode: number; errorMessage: string }
  | { redirectTo: string }
  | { delayMs: number }; // Smartico's success reply, that long after the request

export interface RecordedRequest {
  at: Date;
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Same number for requests that came over the same TCP connection. */
  connectionId: number;
}

/** One TCP connection a sender opened to the fake: its local port tells which process sent over it. */
interface ConnectionRecord {
  remotePort: number;
  closedAt?: number;
}

/** A real HTTP server on loopback standing in for Smartico's callback endpoint. */
export class FakeSmarticoServer {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private readonly sockets = new Map<Socket, number>();
  private readonly connectionRecords = new Map<number, ConnectionRecord>();
  private readonly queued: FakeSmarticoMode[] = [];
  private readonly waiters = new Set<() => void>();
  private mode: FakeSmarticoMode = 'ok';
  private connections = 0;
  /** Called synchronously as each request arrives, before it is answered (e.g. to kill the sender mid-send). */
  onRequest?: (request: RecordedRequest) => void;

  private constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      const id = ++this.connections;
      const record: ConnectionRecord = { remotePort: socket.remotePort ?? 0 };
      this.sockets.set(socket, id);
      this.connectionRecords.set(id, record);
      socket.on('close', () => {
        this.sockets.delete(socket);
        record.closedAt = Date.now();
      });
    });
  }

  /** Listens on `port` (a free one by default): a receiver that was down can come back where it was. */
  static async start(port = 0): Promise<FakeSmarticoServer> {
    const fake = new FakeSmarticoServer();
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(port, '127.0.0.1', resolve);
    });
    return fake;
  }

  url(path = '/callback'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Answers the next `n` requests with `mode`, then goes back to the persistent mode. */
  failNext(n: number, mode: FakeSmarticoMode): void {
    for (let i = 0; i < n; i++) this.queued.push(mode);
  }

  setMode(mode: FakeSmarticoMode): void {
    this.mode = mode;
  }

  waitForRequests(n: number, timeoutMs = 5_000): Promise<RecordedRequest[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.requests.length < n) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.requests.slice());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake Smartico got ${this.requests.length} of ${n} requests within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Resolves once no connection is open. After the only sender was killed, this is when everything
   * it wrote has been read and recorded: the kernel closes its sockets, and a request still in a
   * socket's buffer is handled before that socket's close.
   */
  async waitForNoConnections(timeoutMs = 10_000): Promise<void> {
    const what = (): string => `fake Smartico to have no open connections (still ${this.sockets.size})`;
    await eventually(() => this.sockets.size === 0, { what, timeoutMs, everyMs: 10 });
  }

  /**
   * With other senders still running, `waitForNoConnections` never settles: this waits for one killed
   * sender only. `ports` are the local ports of its connections to this server, read while it was
   * stopped at `since`. Resolves once each has been accepted here and closed — everything the sender
   * wrote has then been read and recorded — with their connection ids (a connection that closed before
   * `since` came from an earlier user of the port).
   */
  async waitForClosedFrom(ports: ReadonlySet<number>, since: number, timeoutMs = 10_000): Promise<Set<number>> {
    const fromKilled = (): Array<[number, ConnectionRecord]> =>
      [...this.connectionRecords].filter(([, record]) => ports.has(record.remotePort) && (record.closedAt === undefined || record.closedAt >= since));
    const pending = (): number[] => {
      const seen = fromKilled();
      const unseen = [...ports].filter((port) => !seen.some(([, record]) => record.remotePort === port));
      return [...unseen, ...seen.filter(([, record]) => record.closedAt === undefined).map(([, record]) => record.remotePort)];
    };
    await eventually(() => pending().length === 0, {
      what: () => `the killed sender's connections to fake Smartico to be read and closed (ports ${pending().join(', ')})`,
      timeoutMs,
      everyMs: 10,
    });
    return new Set(fromKilled().map(([id]) => id));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Destroys every connection too, hanging ones included, so close never waits on them. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets.keys()) socket.destroy();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url(''));
    const request: RecordedRequest = {
      at: new Date(),
      method: req.method ?? '',
      url: url.href,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      connectionId: this.sockets.get(req.socket) ?? 0,
    };
    this.requests.push(request);
    this.onRequest?.(request);
    for (const waiter of [...this.waiters]) waiter();

    const mode = this.queued.shift() ?? this.mode;
    req.resume();
    if (mode === 'hang') return;
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (mode === 'ok') return reply(res, 200, 'application/json', '{"error_code":0}');
    if (mode === 'html') return reply(res, 200, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>');
    if (mode === 'invalid-json') return reply(res, 200, 'application/json', '{"error_code":');
    if ('status' in mode) return reply(res, mode.status, 'application/json', mode.body ?? '{"error_code":0}');
    if ('errorCode' in mode) {
      return reply(res, 200, 'application/json', JSON.stringify({ error_code: mode.errorCode, error_message: mode.errorMessage }));
    }
    if ('delayMs' in mode) {
      setTimeout(() => reply(res, 200, 'application/json', '{"error_code":0}'), mode.delayMs);
      return;
    }
    res.writeHead(302, { location: mode.redirectTo, 'content-length': 0 }).end();
  }
}

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
}
