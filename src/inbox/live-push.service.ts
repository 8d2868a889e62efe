import { Injectable, Logger } from '@nestjs/common';

import { GroupCommit } from '../common/group-commit';
import { MessageRepository } from '../messages/message.repository';
import type { MessageRow } from '../messages/message.view';
import type { AcceptedItem } from './inbox.events';
import { InboxPublisher } from './inbox.publisher';
import { InboxService } from './inbox.service';
import { PlayerSessions } from './player-sessions';

export const ANNOUNCE_LINGER_MS = 3;
export const UNREAD_LINGER_MS = 5;

/** Pushes accepted messages to the sockets connected here, batched (design: src/inbox/README.md). */
@Injectable()
export class LivePushService {
  private readonly logger = new Logger(LivePushService.name);
  private acceptedBatch: MessageRow[] = [];
  private announceBatch: AcceptedItem[] = [];
  /** one count query at a time, so a badge never goes back to an older count */
  private readonly unreadCounts = new GroupCommit<string, number>(
    async (players) => {
      const counts = await this.messages.countUnreadMany([...new Set(players)]);
      return players.map((player) => counts.get(player) ?? 0);
    },
    { maxBatch: 1_000, maxInFlight: 1, lingerMs: UNREAD_LINGER_MS },
  );

  constructor(
    private readonly sessions: PlayerSessions,
    private readonly messages: MessageRepository,
    private readonly inbox: InboxService,
    private readonly publisher: InboxPublisher,
  ) {}

  /** Pushed on the next tick: after the commit's continuations, i.e. the batch's replies. */
  localAccepted(row: MessageRow): void {
    this.acceptedBatch.push(row);
    this.announce({ id: row.id, player: row.ext_user_id });
    if (this.acceptedBatch.length > 1) return;
    process.nextTick(() => {
      const rows = this.acceptedBatch;
      this.acceptedBatch = [];
      this.pushLive(rows);
    });
  }

  async remoteAccepted(items: AcceptedItem[]): Promise<void> {
    const wanted = items.filter((item) => this.sessions.has(item.player)).map((item) => item.id);
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
      this.publisher.announceAccepted(items);
    }, ANNOUNCE_LINGER_MS);
  }

  private pushLive(rows: MessageRow[]): void {
    const now = Date.now();
    const inboxChanged = new Set<string>();
    for (const row of rows) {
      const sessions = this.sessions.of(row.ext_user_id);
      if (sessions === undefined || (row.expires_at !== null && row.expires_at.getTime() <= now)) continue;
      const view = this.inbox.toView(row);
      for (const session of sessions) session.push(view);
      if (row.display !== 'popup') inboxChanged.add(row.ext_user_id);
    }
    for (const playerId of inboxChanged) {
      this.unreadCounts.submit(playerId).then(
        (count) => {
          for (const session of this.sessions.of(playerId) ?? []) session.socket.emit('unread', { count });
        },
        (error: Error) => this.logger.warn({ err: error.message }, 'unread count not sent'),
      );
    }
  }
}
