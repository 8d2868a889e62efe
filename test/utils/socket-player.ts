import { io, Socket } from 'socket.io-client';

import { eventually } from './eventually';

export interface ReceivedMessage {
  id: string;
  created_at: string;
  display: string;
  [key: string]: unknown;
}

export interface SocketPlayerOptions {
  /** ack every message as it arrives (the SDK's behaviour); default true */
  autoAck?: boolean;
}

/** A real socket.io client on /inbox that records everything it is sent. */
export class SocketPlayer {
  readonly messages: ReceivedMessage[] = [];
  readonly unread: number[] = [];
  readonly unreadPayloads: Array<{ count: number; categories?: Record<string, number> }> = [];
  readonly updates: ReceivedMessage[] = [];
  readonly voids: Array<{ id: string; reason: string }> = [];
  private readonly pendingAcks = new Map<string, () => void>();

  private constructor(
    readonly socket: Socket,
    private readonly autoAck: boolean,
  ) {
    socket.on('message', (view: ReceivedMessage, ack?: () => void) => {
      this.messages.push(view);
      if (typeof ack !== 'function') return;
      if (this.autoAck) ack();
      else this.pendingAcks.set(view.id, ack);
    });
    socket.on('unread', (payload: { count: number; categories?: Record<string, number> }) => {
      this.unread.push(payload.count);
      this.unreadPayloads.push(payload);
    });
    socket.on('update', (view: ReceivedMessage) => this.updates.push(view));
    socket.on('void', (notice: { id: string; reason: string }) => this.voids.push(notice));
  }

  static connect(baseUrl: string, token: string | undefined, options: SocketPlayerOptions = {}): Promise<SocketPlayer> {
    const socket = io(`${baseUrl}/inbox`, {
      auth: token === undefined ? {} : { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 5_000,
    });
    const player = new SocketPlayer(socket, options.autoAck ?? true);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(player));
      socket.once('connect_error', (error) => {
        socket.close();
        reject(error);
      });
    });
  }

  /** Resolves with the connect_error message the server gives. */
  static async refusal(baseUrl: string, token: string | undefined): Promise<string> {
    try {
      const player = await SocketPlayer.connect(baseUrl, token);
      player.close();
      return 'connected';
    } catch (error) {
      return (error as Error).message;
    }
  }

  ack(messageId: string): void {
    const ack = this.pendingAcks.get(messageId);
    if (ack === undefined) throw new Error(`no pending ack for ${messageId}`);
    this.pendingAcks.delete(messageId);
    ack();
  }

  emit(event: 'opened' | 'clicked' | 'archive' | 'star' | 'unstar', payload?: unknown): Promise<{ ok: boolean; error?: string }> {
    return this.socket.timeout(5_000).emitWithAck(event, payload);
  }

  async waitFor(condition: () => boolean, what: string | (() => string), timeoutMs = 5_000): Promise<void> {
    await eventually(condition, { what, timeoutMs, everyMs: 10 });
  }

  waitForMessages(count: number, timeoutMs = 5_000): Promise<void> {
    return this.waitFor(
      () => this.messages.length >= count,
      () => `${count} message(s), got ${this.messages.length}`,
      timeoutMs,
    );
  }

  waitForUnread(count: number, timeoutMs = 5_000): Promise<void> {
    return this.waitFor(
      () => this.unread[this.unread.length - 1] === count,
      () => `unread ${count}, got ${this.unread.join(',')}`,
      timeoutMs,
    );
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  close(): void {
    this.socket.close();
  }
}

export { sleep } from './eventually';
