import { Injectable } from '@nestjs/common';
import type { Namespace } from 'socket.io';

import type { MessageView } from '../messages/message.view';
import type { PlayerRef } from '../messages/player-ref';
import { AcceptedItem, ClientToServerEvents, InterServerEvents, playerRoom, ServerToClientEvents, SocketData } from './inbox.events';
import type { UnreadBadge } from './unread-badges';

export type InboxNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Cluster-wide emits to a player's sockets, wherever they are connected. */
@Injectable()
export class InboxPublisher {
  private namespace?: InboxNamespace;

  /** false with Redis: its sharded adapter already sends a room's broadcast only where the room has sockets */
  countsServers = true;

  attach(namespace: InboxNamespace): void {
    this.namespace = namespace;
  }

  update(player: PlayerRef, view: MessageView): void {
    this.toRoom(player, (room) => room.emit('update', view));
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
    if (namespace === undefined || (await namespace.adapter.serverCount()) <= 1) return false;
    namespace.serverSideEmit('accepted', items);
    return true;
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
    void namespace.adapter.serverCount().then((servers) => emit(servers > 1 ? namespace.to(room) : namespace.local.to(room)));
  }
}
