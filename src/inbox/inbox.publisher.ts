import { Injectable } from '@nestjs/common';
import type { Namespace } from 'socket.io';

import type { MessageView } from '../messages/message.view';
import type { PlayerRef } from '../messages/player-ref';
import { AcceptedItem, ClientToServerEvents, InterServerEvents, playerRoom, ServerToClientEvents, SocketData } from './inbox.events';

export type InboxNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Cluster-wide emits to a player's sockets, wherever they are connected. */
@Injectable()
export class InboxPublisher {
  private namespace?: InboxNamespace;

  attach(namespace: InboxNamespace): void {
    this.namespace = namespace;
  }

  update(player: PlayerRef, view: MessageView): void {
    this.namespace?.to(playerRoom(player)).emit('update', view);
  }

  unread(player: PlayerRef, count: number): void {
    this.namespace?.to(playerRoom(player)).emit('unread', { count });
  }

  /** Whether the player has a socket open on any instance (asks the others through the adapter). */
  async isConnected(player: PlayerRef): Promise<boolean> {
    if (this.namespace === undefined) return false;
    const sockets = await this.namespace.in(playerRoom(player)).timeout(2_000).fetchSockets();
    return sockets.length > 0;
  }

  announceAccepted(items: AcceptedItem[]): void {
    this.namespace?.serverSideEmit('accepted', items);
  }
}
