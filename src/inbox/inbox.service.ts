import { Injectable } from '@nestjs/common';

import type { InboxCursor } from '../messages/inbox-cursor';
import { MessageRepository } from '../messages/message.repository';
import type { MessageRow } from '../messages/message.table';
import type { MessageView } from '../messages/message.view';
import { toMessageView } from '../messages/message.view';
import { MessageEvents } from '../messages/message-events';
import { MessageStateRepository } from '../messages/message-state.repository';
import type { MessageEvent, PlayerAction } from '../messages/message-status';
import { Metrics } from '../metrics/metrics.service';
import { ClickLinks } from '../tracking/click-links';
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
    private readonly states: MessageStateRepository,
    private readonly publisher: InboxPublisher,
    private readonly events: MessageEvents,
    private readonly links: ClickLinks,
    private readonly metrics: Metrics,
  ) {}

  toView(row: MessageRow): MessageView {
    return toMessageView(row, this.links.ctaLink(row));
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
    const outcome = await this.states.applyAction(playerId, messageId, action);
    if (outcome === null) return null;
    this.events.publishChanged(outcome.row, outcome.events);
    return this.toView(outcome.row);
  }

  async syncSockets(row: MessageRow, events: MessageEvent[]): Promise<void> {
    if (events.some((event) => event !== 'delivered')) this.publisher.update(row.ext_user_id, this.toView(row));
    if (events.some((event) => event === 'read' || event === 'archived' || event === 'failed' || event === 'expired')) {
      this.publisher.unread(row.ext_user_id, await this.messages.countUnread(row.ext_user_id));
    }
  }

  /** Marks everything read. Sends no callbacks: the player did not view these messages. */
  async readAll(playerId: string): Promise<number> {
    const changed = await this.states.markAllRead(playerId);
    if (changed.length > 0) {
      for (const row of await this.messages.findVisibleByIds(changed)) this.publisher.update(playerId, this.toView(row));
      this.publisher.unread(playerId, await this.messages.countUnread(playerId));
    }
    return changed.length;
  }

  /** true when this ack is the one that delivered it */
  async markDelivered(playerId: string, messageId: string): Promise<boolean> {
    const row = await this.states.markDelivered(playerId, messageId);
    if (row !== null) {
      this.metrics.deliveryLatency.observe(Math.max(0, Date.now() - row.created_at.getTime()) / 1000);
      this.events.publishChanged(row, ['delivered']);
    }
    return row !== null;
  }
}
