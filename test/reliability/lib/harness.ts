import { randomUUID } from 'node:crypto';

import { io, Socket } from 'socket.io-client';

import { AppProcess } from '../../utils/app-process';
import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET, SUPPORT_KEY } from '../../utils/create-test-app';
import { eventually, sleep } from '../../utils/eventually';
import { freePort } from '../../utils/free-port';
import { customIm, postGateway } from '../../utils/gateway-client';
import { playerToken } from '../../utils/player-tokens';
import type { Ledger } from './ledger';

export const API_KEYS = { [GATEWAY_A.id]: GATEWAY_A.apiKey, [GATEWAY_B.id]: GATEWAY_B.apiKey };

export { sleep };

/** Polls `condition` until it holds; generous deadlines, since the machine may be loaded. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 60_000, everyMs = 100): Promise<void> {
  await eventually(condition, { what, timeoutMs, everyMs });
}

/** The environment of an app process under test: both test gateways, a shortened callback schedule. */
export function appEnv(databaseUrl: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    CIM_GATEWAYS: JSON.stringify([GATEWAY_A, GATEWAY_B]),
    PLAYER_JWT_SECRET,
    SUPPORT_API_KEYS: SUPPORT_KEY,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    CALLBACK_TIMEOUT_MS: '1000',
    CALLBACK_LEASE_MS: '3000',
    CALLBACK_RETRY_BASE_MS: '50',
    CALLBACK_RETRY_MAX_MS: '400',
    CALLBACK_POLL_MS: '50',
    LOG_LEVEL: 'error',
    ...extra,
  };
}

/** Starts the built app on `port` (a free one when not given) and waits until /health answers. */
export async function startApp(env: NodeJS.ProcessEnv, port?: number): Promise<{ app: AppProcess; url: string; port: number }> {
  const chosen = port ?? (await freePort());
  const app = new AppProcess({ ...env, PORT: String(chosen), HOST: '127.0.0.1' });
  const url = `http://127.0.0.1:${chosen}`;
  await app.waitForHealthy(url, 60_000);
  return { app, url, port: chosen };
}

/**
 * A player as the SDK behaves: a real socket.io client that acks every message, and reconnects by
 * itself when the connection drops — to the next of `urls` in turn (a load balancer's other
 * instance). Every `message` is recorded in the ledger with the connection it came on.
 */
export class ReliablePlayer {
  private socket?: Socket;
  private closed = false;
  private connectionCount = 0;
  readonly received = new Set<string>();
  connects = 0;

  constructor(
    readonly id: string,
    private readonly urls: string[],
    private readonly ledger: Ledger,
  ) {}

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Connects (retrying until `timeoutMs`) and keeps reconnecting after every drop until close(). */
  async start(timeoutMs = 60_000): Promise<void> {
    await this.connectSomewhere(timeoutMs);
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private async connectSomewhere(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; !this.closed; attempt += 1) {
      const url = this.urls[(this.connectionCount + attempt) % this.urls.length];
      try {
        await this.connectOnce(url);
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`player ${this.id} could not connect in ${timeoutMs} ms`);
        await sleep(200);
      }
    }
  }

  private async connectOnce(url: string): Promise<void> {
    const token = await playerToken(this.id);
    const connection = `${this.id}#${++this.connectionCount}`;
    const socket = io(`${url}/inbox`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5_000 });
    socket.on('message', (view: { id: string }, ack?: () => void) => {
      this.ledger.recordPush(this.id, connection, view.id);
      this.received.add(view.id);
      if (typeof ack === 'function') ack();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => {
        socket.close();
        reject(error);
      });
    });
    this.socket = socket;
    this.connects += 1;
    socket.once('disconnect', () => {
      if (!this.closed) void this.connectSomewhere(120_000).catch(() => undefined);
    });
  }
}

export interface PostOutcomes {
  accepted: number;
  /** error_code → count */
  refused: Map<number, number>;
  /** transport errors (refused connection, reset), by message */
  errors: string[];
  /** replies, in order, with when they came */
  timeline: Array<{ at: number; code: number | 'error' }>;
}

export function newOutcomes(): PostOutcomes {
  return { accepted: 0, refused: new Map(), errors: [], timeline: [] };
}

/** Posts one Custom IM as Smartico would and records the reply in the ledger and `outcomes`. */
export async function postOne(url: string, ledger: Ledger, outcomes: PostOutcomes, fields: Record<string, unknown>): Promise<number | 'error'> {
  const request = customIm(fields);
  try {
    const reply = await postGateway(url, request);
    const code = Number(reply.json.error_code);
    if (reply.status !== 200) throw new Error(`HTTP ${reply.status}`);
    if (ledger.recordReply({ gatewayId: GATEWAY_A.id, im_uid: request.im_uid, ext_user_id: request.ext_user_id }, reply.json)) outcomes.accepted += 1;
    else outcomes.refused.set(code, (outcomes.refused.get(code) ?? 0) + 1);
    outcomes.timeline.push({ at: Date.now(), code });
    return code;
  } catch (error) {
    outcomes.errors.push(describeFetchError(error));
    outcomes.timeline.push({ at: Date.now(), code: 'error' });
    return 'error';
  }
}

/** `fetch failed` hides the cause; the cause's code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET) is what matters. */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

/**
 * Posts `total` messages at about `perSecond`, spread over `players`, until done or `stop()`. As
 * Smartico does, a post that got no answer or error_code 5 is sent again, same im_uid, until it is
 * accepted (a replay of one the app committed before it died answers the same ext_message_id).
 */
export function steadyPoster(options: {
  url: () => string;
  ledger: Ledger;
  outcomes: PostOutcomes;
  players: string[];
  total: number;
  perSecond: number;
  callbackUrl: string;
  concurrency?: number;
}): { done: Promise<void>; stop: () => void; sent: () => number } {
  let stopped = false;
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  const started = Date.now();
  const done = (async () => {
    while (!stopped && sent < options.total) {
      const due = Math.floor(((Date.now() - started) / 1000) * options.perSecond);
      if (sent >= due || inFlight.size >= (options.concurrency ?? 20)) {
        await sleep(5);
        continue;
      }
      const fields = { ext_user_id: options.players[sent % options.players.length], callback_url: options.callbackUrl, im_uid: `im-${randomUUID()}` };
      sent += 1;
      const posting = (async () => {
        while (!stopped) {
          const code = await postOne(options.url(), options.ledger, options.outcomes, fields);
          if (code !== 'error' && code !== 5) return;
          await sleep(100);
        }
      })().finally(() => inFlight.delete(posting));
      inFlight.add(posting);
    }
    await Promise.all(inFlight);
  })();
  return { done, stop: () => (stopped = true), sent: () => sent };
}
