import { Injectable, Logger } from '@nestjs/common';

import { MessageRepository } from '../messages/message.repository';
import type { MessageRow } from '../messages/message.view';
import { playerKey, PlayerRef } from '../messages/player-ref';
import { Metrics } from '../metrics/metrics.service';
import { AcceptedChannels, reviveRow } from './accepted-channels';
import type { AcceptedItem } from './inbox.events';
import { InboxService } from './inbox.service';
import { PlayerSessions } from './player-sessions';
import { UnreadBadges } from './unread-badges';

export const ANNOUNCE_LINGER_MS = 3;

/** Pushes accepted messages to the sockets connected here, batched (design: src/inbox/README.md). */
@Injectable()
export class LivePushService {
  private readonly logger = new Logger(LivePushService.name);
  private acceptedBatch: MessageRow[] = [];
  private announceBatch: AcceptedItem[] = [];
  constructor(
    private readonly sessions: PlayerSessions,
    private readonly messages: MessageRepository,
    private readonly inbox: InboxService,
    private readonly channels: AcceptedChannels,
    private readonly metrics: Metrics,
    private readonly badges: UnreadBadges,
  ) {
    channels.onAccepted((items) => void this.remoteAccepted(items));
  }

  /** Pushed on the next tick: after the commit's continuations, i.e. the batch's replies. */
  localAccepted(row: MessageRow): void {
    this.acceptedBatch.push(row);
    this.announce({ id: row.id, player: playerKey(playerOf(row)), row: row });
    if (this.acceptedBatch.length > 1) return;
    process.nextTick(() => {
      const rows = this.acceptedBatch;
      this.acceptedBatch = [];
      this.pushLive(rows);
    });
  }

  async remoteAccepted(items: AcceptedItem[]): Promise<void> {
    const mine = items.filter((item) => this.sessions.has(item.player));
    this.metrics.fanOutReceived.inc({ for_players_here: 'true' }, mine.length);
    this.metrics.fanOutReceived.inc({ for_players_here: 'false' }, items.length - mine.length);
    // a row that travelled with its announcement is pushed as is; the others are read back
    const carried = mine.flatMap((item) => (item.row === undefined ? [] : [reviveRow(item.row)]));
    const wanted = mine.filter((item) => item.row === undefined).map((item) => item.id);
    if (carried.length > 0) this.pushLive(carried);
    if (wanted.length === 0) return;
    try {
      this.pushLive(await this.messages.findVisibleByIds(wanted));
    } catch (error) {
      // the players get these on their next connect
      this.logger.warn({ count: wanted.length, err: (error as Error).message }, 'live push from another instance failed');
    }
  }

  private announce(item: AcceptedItem): void {
    this.announceBatch.push(item);
    if (this.announceBatch.length > 1) return;
    setTimeout(() => {
      const items = this.announceBatch;
      this.announceBatch = [];
      this.channels.announce(items);
    }, ANNOUNCE_LINGER_MS);
  }

  private pushLive(rows: MessageRow[]): void {
    const now = Date.now();
    const inboxChanged = new Map<string, PlayerRef>();
    for (const row of rows) {
      const player = playerOf(row);
      const key = playerKey(player);
      const sessions = this.sessions.of(key);
      if (sessions === undefined || (row.expires_at !== null && row.expires_at.getTime() <= now)) continue;
      const view = this.inbox.toView(row);
      for (const session of sessions) session.push(view);
      if (row.display !== 'popup') inboxChanged.set(key, player);
    }
    for (const [key, player] of inboxChanged) {
      this.badges.of(player).then(
        (badge) => {
          for (const session of this.sessions.of(key) ?? []) session.socket.emit('unread', badge);
        },
        (error: Error) => this.logger.warn({ err: error.message }, 'unread count not sent'),
      );
    }
  }
}

function playerOf(row: MessageRow): PlayerRef {
  return { brand: row.brand, id: row.ext_user_id };
}
