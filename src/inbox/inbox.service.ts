import { Injectable } from '@nestjs/common';

import type { InboxCursor } from '../messages/inbox-cursor';
import { MessageRepository, UnreadCount } from '../messages/message.repository';
import type { MessageRow } from '../messages/message.table';
import type { MessageView } from '../messages/message.view';
import { MessageEvents } from '../messages/message-events';
import { MessageStateRepository } from '../messages/message-state.repository';
import type { MessageEvent, PlayerAction } from '../messages/message-status';
import { playerKey, PlayerRef } from '../messages/player-ref';
import { Metrics } from '../metrics/metrics.service';
import { OperatorActions } from '../operator/operator-actions';
import { MessageViews } from '../tracking/message-views';
import { InboxPublisher } from './inbox.publisher';
import { UnreadBadges } from './unread-badges';

// these take a message out of the unread count
const COUNTED_OUT: ReadonlySet<MessageEvent> = new Set<MessageEvent>(['read', 'archived', 'failed', 'expired', 'voided', 'suppressed']);

export interface InboxListQuery {
  limit: number;
  cursor: InboxCursor | null;
  unreadOnly: boolean;
  starredOnly: boolean;
  category: string | null;
}

export type ButtonPress =
  { kind: 'pressed'; link: string | null } | { kind: 'action'; ok: boolean; message: string } | { kind: 'pending' } | { kind: 'no-action-handler' };

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
    private readonly views: MessageViews,
    private readonly metrics: Metrics,
    private readonly badges: UnreadBadges,
    private readonly actions: OperatorActions,
  ) {}

  toView(row: MessageRow): MessageView {
    return this.views.of(row);
  }

  async list(player: PlayerRef, query: InboxListQuery): Promise<InboxList> {
    const page = await this.messages.listInbox(player, query);
    return { items: page.rows.map((row) => this.toView(row)), next_cursor: page.nextCursor };
  }

  async unreadCount(player: PlayerRef): Promise<UnreadCount> {
    const { counts } = await this.messages.countUnreadMany([player]);
    return counts.get(playerKey(player)) ?? { count: 0, categories: {} };
  }

  /** Favourite or not (no callback: not one of Smartico's statuses); every tab hears it through `update`. */
  async star(player: PlayerRef, messageId: string, starred: boolean): Promise<MessageView | null> {
    const row = await this.states.setStarred(player, messageId, starred);
    if (row === null) return null;
    const view = this.toView(row);
    this.publisher.update(player, view);
    return view;
  }

  /** Archives every listed message (of one category); no callbacks. */
  async archiveAll(player: PlayerRef, category: string | null): Promise<number> {
    const changed = await this.states.archiveAll(player, category);
    if (changed.length > 0) {
      for (const row of changed) this.publisher.update(player, this.toView(row));
      this.publisher.unread(player, await this.badges.of(player));
    }
    return changed.length;
  }

  /** opened / clicked / archive; null when the message is not this player's (or no longer shown). */
  async act(
    player: PlayerRef,
    messageId: string,
    action: Exclude<PlayerAction, 'deliver' | 'read'>,
    buttonId: string | null = null,
  ): Promise<MessageView | null> {
    const outcome = await this.states.applyAction(player, messageId, action, buttonId);
    if (outcome === null) return null;
    this.events.publishChanged(outcome.row, outcome.events);
    return this.toView(outcome.row);
  }

  /**
   * A button press (SPEC v2 §3): a url button records `clicked` with its id and answers its target; a button with
   * neither link nor action only closes (nothing recorded). null: no such message or button.
   */
  async pressButton(player: PlayerRef, messageId: string, buttonId: string): Promise<ButtonPress | null> {
    const row = await this.messages.findVisibleForPlayer(player, messageId);
    const button = row === null ? undefined : this.views.button(row, buttonId);
    if (button === undefined) return null;
    if (button.action !== null) {
      if (!this.actions.configured) return { kind: 'no-action-handler' };
      // the press is a click (once per message), whatever the action does
      if ((await this.act(player, messageId, 'click', button.id)) === null) return null;
      const outcome = await this.actions.press(row!, { id: button.id, action: button.action });
      return outcome.kind === 'pending' ? outcome : { kind: 'action', ok: outcome.ok, message: outcome.message };
    }
    if (button.url === null) return { kind: 'pressed', link: null };
    if ((await this.act(player, messageId, 'click', button.id)) === null) return null;
    return { kind: 'pressed', link: button.url };
  }

  /** The socket's `clicked` naming an action button runs that action too (SPEC v2 §7): its result reaches the tabs as `update`. */
  async pressActionButton(player: PlayerRef, messageId: string, buttonId: string): Promise<void> {
    // without an action handler a url button's click costs no further query
    if (!this.actions.configured) return;
    const row = await this.messages.findVisibleForPlayer(player, messageId);
    const button = row === null ? undefined : this.views.button(row, buttonId);
    // the socket's `clicked` has recorded the click already
    if (row !== null && button?.action != null) await this.actions.press(row, { id: button.id, action: button.action });
  }

  async syncSockets(row: MessageRow, events: MessageEvent[]): Promise<void> {
    const player = { brand: row.brand, id: row.ext_user_id };
    // a voided message's view is of no use to anyone: the tabs drop it
    if (events.includes('voided')) this.publisher.voided(player, { id: row.id, reason: row.void_reason ?? 'voided' });
    else if (events.includes('suppressed')) this.publisher.voided(player, { id: row.id, reason: 'suppressed' });
    // rejected as it arrived: no tab and no count ever had it (a count sent now could also overtake a newer one)
    else if (events.includes('rejected')) return;
    else if (events.some((event) => event !== 'delivered')) this.publisher.update(player, this.toView(row));
    if (events.some((event) => COUNTED_OUT.has(event))) {
      this.publisher.unread(player, await this.badges.of(player));
    }
  }

  /** Marks everything read. Sends no callbacks: the player did not view these messages. */
  async readAll(player: PlayerRef): Promise<number> {
    const changed = await this.states.markAllRead(player);
    if (changed.length > 0) {
      for (const row of await this.messages.findVisibleByIds(changed)) this.publisher.update(player, this.toView(row));
      this.publisher.unread(player, await this.badges.of(player));
    }
    return changed.length;
  }

  /** true when this ack is the one that delivered it */
  async markDelivered(player: PlayerRef, messageId: string): Promise<boolean> {
    const row = await this.states.markDelivered(player, messageId);
    if (row !== null) {
      this.metrics.deliveryLatency.observe({ brand: row.brand }, Math.max(0, Date.now() - row.created_at.getTime()) / 1000);
      this.events.publishChanged(row, ['delivered']);
    }
    return row !== null;
  }
}
