import type { Socket } from 'socket.io';

import type { MessageView } from '../messages/message.view';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './inbox.events';

export type InboxSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * How long after its catch-up a session still remembers what it sent. A live push can repeat a
 * catch-up message only when that message was committed while the catch-up query ran, and its live
 * push follows its commit within milliseconds; after that no message can reach a session twice (an
 * instance pushes only to its own sockets, and only once), so the memory is dropped rather than
 * kept growing with every message for the socket's life (the load test saw ~100 bytes per message).
 */
const REMEMBER_AFTER_CATCH_UP_MS = 30_000;

/**
 * One socket's delivery state. A message is emitted at most once per session. Live messages
 * that arrive while the catch-up is still running wait, so the player sees oldest first and the
 * two streams can overlap without a duplicate.
 */
export class PlayerSession {
  private sent: Set<string> | undefined = new Set<string>();
  private forgetAt = Number.POSITIVE_INFINITY;
  private catchingUp = true;
  private waiting: MessageView[] = [];

  constructor(
    readonly socket: InboxSocket,
    private readonly onAck: (messageId: string, pushToAckSeconds: number) => void,
  ) {}

  get playerId(): string {
    return this.socket.data.player.id;
  }

  /** A live message: emitted now, or after the catch-up if that is still running. */
  push(view: MessageView): void {
    if (this.catchingUp) this.waiting.push(view);
    else this.emit(view);
  }

  /** A catch-up message, in order. */
  emit(view: MessageView): void {
    if (this.sent !== undefined && Date.now() > this.forgetAt) this.sent = undefined;
    if (this.sent?.has(view.id) || this.socket.disconnected) return;
    this.sent?.add(view.id);
    const pushedAt = performance.now();
    this.socket.emit('message', view, () => this.onAck(view.id, (performance.now() - pushedAt) / 1000));
  }

  finishCatchUp(): void {
    this.catchingUp = false;
    this.forgetAt = Date.now() + REMEMBER_AFTER_CATCH_UP_MS;
    const waiting = this.waiting.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    this.waiting = [];
    for (const view of waiting) this.emit(view);
  }
}

/** The sessions connected to this instance, by player. */
export class PlayerSessions {
  private readonly byPlayer = new Map<string, Set<PlayerSession>>();

  add(session: PlayerSession): void {
    const sessions = this.byPlayer.get(session.playerId) ?? new Set<PlayerSession>();
    sessions.add(session);
    this.byPlayer.set(session.playerId, sessions);
  }

  remove(session: PlayerSession): void {
    const sessions = this.byPlayer.get(session.playerId);
    if (sessions === undefined) return;
    sessions.delete(session);
    if (sessions.size === 0) this.byPlayer.delete(session.playerId);
  }

  of(playerId: string): ReadonlySet<PlayerSession> | undefined {
    return this.byPlayer.get(playerId);
  }

  has(playerId: string): boolean {
    return this.byPlayer.has(playerId);
  }
}
