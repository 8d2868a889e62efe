import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';

import type { MessageView } from '../messages/message.view';
import { playerKey, PlayerRef } from '../messages/player-ref';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './inbox.events';

export type InboxSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** After this, no live push can repeat a catch-up message (see src/inbox/README.md). */
const REMEMBER_AFTER_CATCH_UP_MS = 30_000;

/** One socket's delivery state: each message at most once, live ones held until the catch-up ends. */
export class PlayerSession {
  private sent: Set<string> | undefined = new Set<string>();
  private forgetAt = Number.POSITIVE_INFINITY;
  private catchingUp = true;
  private waiting: MessageView[] = [];

  constructor(
    readonly socket: InboxSocket,
    private readonly onAck: (messageId: string, pushToAckSeconds: number) => void,
  ) {}

  get player(): PlayerRef {
    return this.socket.data.player;
  }

  /** playerKey() of its player */
  get key(): string {
    return playerKey(this.socket.data.player);
  }

  push(view: MessageView): void {
    if (this.catchingUp) this.waiting.push(view);
    else this.emit(view);
  }

  emit(view: MessageView): void {
    if (this.sent !== undefined && Date.now() > this.forgetAt) this.sent = undefined;
    if (this.sent?.has(view.id) || this.socket.disconnected) return;
    this.sent?.add(view.id);
    const pushedAt = performance.now();
    this.socket.emit('message', view, () => this.onAck(view.id, (performance.now() - pushedAt) / 1000));
  }

  /** Another catch-up (the fan-out link was down): live pushes wait again, and what was sent is remembered again. */
  beginCatchUp(): void {
    this.catchingUp = true;
    this.sent ??= new Set<string>();
    this.forgetAt = Number.POSITIVE_INFINITY;
  }

  finishCatchUp(): void {
    this.catchingUp = false;
    this.forgetAt = Date.now() + REMEMBER_AFTER_CATCH_UP_MS;
    const waiting = this.waiting.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    this.waiting = [];
    for (const view of waiting) this.emit(view);
  }
}

/** This instance's sessions, by playerKey(): a player is (brand, ext_user_id). */
@Injectable()
export class PlayerSessions {
  private readonly byPlayer = new Map<string, Set<PlayerSession>>();

  add(session: PlayerSession): void {
    const sessions = this.byPlayer.get(session.key) ?? new Set<PlayerSession>();
    sessions.add(session);
    this.byPlayer.set(session.key, sessions);
  }

  remove(session: PlayerSession): void {
    const sessions = this.byPlayer.get(session.key);
    if (sessions === undefined) return;
    sessions.delete(session);
    if (sessions.size === 0) this.byPlayer.delete(session.key);
  }

  /** The sessions of a player, by playerKey(). */
  of(key: string): ReadonlySet<PlayerSession> | undefined {
    return this.byPlayer.get(key);
  }

  has(key: string): boolean {
    return this.byPlayer.has(key);
  }

  all(): PlayerSession[] {
    return [...this.byPlayer.values()].flatMap((sessions) => [...sessions]);
  }
}
