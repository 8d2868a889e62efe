import { Inject, Injectable } from '@nestjs/common';
import type { Namespace } from 'socket.io';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { MessageView } from '../messages/message.view';
import type { PlayerRef } from '../messages/player-ref';
import { AcceptedItem, ClientToServerEvents, InterServerEvents, playerRoom, ServerToClientEvents, SocketData, VoidNotice } from './inbox.events';
import type { UnreadBadge } from './unread-badges';

/** The PostgreSQL adapter's heartbeats among instances: every FANOUT_HEARTBEAT_MS, a peer gone after five missed. */
export function adapterHeartbeats(config: Pick<AppConfig, 'fanOutHeartbeatMs'>): { heartbeatInterval: number; heartbeatTimeout: number } {
  return { heartbeatInterval: config.fanOutHeartbeatMs, heartbeatTimeout: 5 * config.fanOutHeartbeatMs };
}

export type InboxNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Cluster-wide emits to a player's sockets, wherever they are connected. */
@Injectable()
export class InboxPublisher {
  private namespace?: InboxNamespace;

  /** false with Redis: its sharded adapter already sends a room's broadcast only where the room has sockets */
  countsServers = true;
  // until then, broadcast as if others were there: their hellos may not have been heard yet
  private discoveringUntil = Number.POSITIVE_INFINITY;
  // a peer that says hello answers within a heartbeat or two
  private readonly discoveryMs: number;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'fanOutHeartbeatMs'>) {
    this.discoveryMs = 3 * config.fanOutHeartbeatMs;
  }

  attach(namespace: InboxNamespace): void {
    this.namespace = namespace;
  }

  update(player: PlayerRef, view: MessageView): void {
    this.toRoom(player, (room) => room.emit('update', view));
  }

  voided(player: PlayerRef, notice: VoidNotice): void {
    this.toRoom(player, (room) => room.emit('void', notice));
  }

  unread(player: PlayerRef, badge: UnreadBadge): void {
    this.toRoom(player, (room) => room.emit('unread', badge));
  }

  /** Whether the player has a socket open on any instance (asks the others through the adapter). */
  async isConnected(player: PlayerRef): Promise<boolean> {
    if (this.namespace === undefined) return false;
    const sockets = await this.namespace.in(playerRoom(player)).timeout(2_000).fetchSockets();
    return sockets.length > 0;
  }

  /** To every other instance; nothing when there is none (then false). */
  async announceAccepted(items: AcceptedItem[]): Promise<boolean> {
    const namespace = this.namespace;
    if (namespace === undefined || (await this.alone(namespace))) return false;
    namespace.serverSideEmit('accepted', items);
    return true;
  }

  /**
   * The fan-out link is up (first, or again): a peer's hello may have been missed while it was down, so ask every
   * instance to say hello again (the PostgreSQL adapter's initial heartbeat) and broadcast to all until they have.
   */
  rediscoverPeers(): void {
    this.discoveringUntil = Date.now() + this.discoveryMs;
    (this.namespace?.adapter as { init?: () => void } | undefined)?.init?.();
  }

  /** still broadcasting to all while peers may not have said hello */
  get discovering(): boolean {
    return Date.now() < this.discoveringUntil;
  }

  private async alone(namespace: InboxNamespace): Promise<boolean> {
    return !this.discovering && (await namespace.adapter.serverCount()) <= 1;
  }

  // an instance alone broadcasts in its own memory: a NOTIFY nobody hears still costs PostgreSQL a commit-time lock
  private toRoom(player: PlayerRef, emit: (room: ReturnType<InboxNamespace['to']>) => void): void {
    const namespace = this.namespace;
    if (namespace === undefined) return;
    const room = playerRoom(player);
    if (!this.countsServers) {
      emit(namespace.to(room));
      return;
    }
    // the PostgreSQL adapter counts the others from their heartbeats in memory: this resolves at once, in order
    void this.alone(namespace).then((alone) => emit(alone ? namespace.local.to(room) : namespace.to(room)));
  }
}
