import { Injectable } from '@nestjs/common';
import type { InboxCursor } from '../messages/inbox-cursor';
import type { MessageRow, MessageView } from '../messages/message.view';
import { toMessageView } from '../messages/message.view';
import { MessageRepository } from '../messages/message.repository';
import type { PlayerAction } from '../messages/message-transitions';
import { InboxPublisher } from './inbox.publisher';

export interface InboxListQuery {
  limit: number;
  cursor: InboxCursor | null;
  unreadOnly: boolean;
  category: string | null;
}

export interface InboxList {
  items: MessageView[];
  next_cursor: string | null;
}

/** What players do with their messages, over REST and socket.io alike; other tabs are kept in sync. */
@Injectable()
export class InboxService {
  constructor(
    private readonly messages: MessageRepository,
    private readonly publisher: InboxPublisher,
  ) {}

  toView(row: MessageRow): MessageView {
    return toMessageView(row, null);
  }

  async list(playerId: string, query: InboxListQuery): Promise<InboxList> {
    const page = await this.messages.listInbox(playerId, query);
    return { items: page.rows.map((row) => this.toView(row)), next_cursor: page.nextCursor };
  }

  unreadCount(playerId: string): Promise<number> {
    return this.messages.countUnread(playerId);
  }

  /** opened / clicked / archive; null when the message is not this player's (or no longer shown). */
  async act(playerId: string, messageId: string, action: Exclude<PlayerAction, 'deliver' | 'read'>): Promise<MessageView | null> {
    const outcome = await this.messages.applyAction(playerId, messageId, action);
    if (outcome === null) return null;
    const view = this.toView(outcome.row);
    if (outcome.events.length > 0) {
      this.publisher.update(playerId, view);
      if (outcome.events.includes('read') || outcome.events.includes('archived')) {
        this.publisher.unread(playerId, await this.messages.countUnread(playerId));
      }
    }
    return view;
  }

  /** Marks everything read. Sends no callbacks: the player did not view these messages. */
  async readAll(playerId: string): Promise<number> {
    const changed = await this.messages.markAllRead(playerId);
    if (changed.length > 0) {
      for (const row of await this.messages.findVisibleByIds(changed)) this.publisher.update(playerId, this.toView(row));
      this.publisher.unread(playerId, await this.messages.countUnread(playerId));
    }
    return changed.length;
  }

  /** The client's ack of a pushed message; true when this ack is the one that delivered it. */
  async markDelivered(playerId: string, messageId: string): Promise<boolean> {
    return (await this.messages.markDelivered(playerId, messageId)) !== null;
  }
}
