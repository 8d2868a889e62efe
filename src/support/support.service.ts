import { Injectable, Logger } from '@nestjs/common';

import { toIso } from '../common/iso-time';
import { InboxPublisher } from '../inbox/inbox.publisher';
import { PresenceRepository } from '../inbox/presence.repository';
import { MessageRepository } from '../messages/message.repository';
import type { PlayerRef } from '../messages/player-ref';
import { OperatorService, SuppressionView } from '../operator/operator.service';
import { MessageViews } from '../tracking/message-views';
import type { OutboxEntry } from '../tracking/outbox.repository';
import { TrackingService } from '../tracking/tracking.service';
import { SUPPORT_DEFAULT_LIMIT } from './support.dto';
import { SupportRepository, SupportSearch } from './support.repository';
import { SupportMessageView, SupportRow, toSupportView } from './support.view';

export interface SupportMessageList {
  items: SupportMessageView[];
  next_cursor: string | null;
}

export interface SupportMessageDetail {
  message: SupportMessageView;
  timeline: Array<{ event: string; at: string; button_id?: string }>;
  callbacks: Array<{ status: string; attempted_at: string; http_status: number | null; error: string | null; duration_ms: number }>;
  outbox: Array<Omit<OutboxEntry, 'next_attempt_at' | 'sent_at'> & { next_attempt_at: string | null; sent_at: string | null }>;
}

export interface SupportPlayer {
  brand: string;
  ext_user_id: string;
  unread_count: number;
  last_seen_at: string | null;
  connected: boolean | null;
  /** the player's responsible-gambling suppression (SPEC v2 §7) */
  suppression: SuppressionView;
  messages: SupportMessageList;
}

/** What support staff may look at and do: any message and player of the brands their key reaches (null: all), and re-queueing dead callbacks. */
@Injectable()
export class SupportService {
  private readonly logger = new Logger(SupportService.name);

  constructor(
    private readonly support: SupportRepository,
    private readonly messages: MessageRepository,
    private readonly presence: PresenceRepository,
    private readonly tracking: TrackingService,
    private readonly publisher: InboxPublisher,
    private readonly views: MessageViews,
    private readonly operator: OperatorService,
  ) {}

  async search(search: SupportSearch): Promise<SupportMessageList> {
    const page = await this.support.search(search);
    return { items: page.rows.map((row) => this.toView(row)), next_cursor: page.nextCursor };
  }

  /** null for an unknown message, or one of a brand out of reach */
  async message(id: string, brand: string | null): Promise<SupportMessageDetail | null> {
    const detail = await this.support.messageDetail(id, brand);
    if (detail === null) return null;
    const { row, timeline, attempts, outbox } = detail;
    return {
      message: this.toView(row),
      timeline: timeline.map((entry) => ({
        event: entry.event,
        at: entry.at.toISOString(),
        ...(entry.button_id === null ? {} : { button_id: entry.button_id }),
      })),
      callbacks: attempts.map((attempt) => ({ ...attempt, attempted_at: attempt.attempted_at.toISOString() })),
      outbox: outbox.map((entry) => ({ ...entry, next_attempt_at: toIso(entry.next_attempt_at), sent_at: toIso(entry.sent_at) })),
    };
  }

  async player(player: PlayerRef): Promise<SupportPlayer> {
    const [messages, unread, lastSeen, connected, suppression] = await Promise.all([
      this.search({
        brand: player.brand,
        extUserId: player.id,
        imUid: null,
        status: null,
        fromMs: null,
        toMs: null,
        cursor: null,
        limit: SUPPORT_DEFAULT_LIMIT,
      }),
      this.messages.countUnread(player),
      this.presence.lastSeen(player),
      this.isConnected(player),
      this.operator.suppression(player),
    ]);
    return { brand: player.brand, ext_user_id: player.id, unread_count: unread, last_seen_at: toIso(lastSeen), connected, suppression, messages };
  }

  /** How many dead callbacks went back in the queue; null for an unknown message, or one out of reach. */
  async retryCallbacks(id: string, brand: string | null): Promise<number | null> {
    if ((await this.support.findMessage(id, brand)) === null) return null;
    return this.tracking.requeueDeadCallbacks(id);
  }

  private toView(row: SupportRow): SupportMessageView {
    return toSupportView(row, this.views.of(row));
  }

  /** The whole cluster is asked; an instance that does not answer in time makes the answer unknown, not an error. */
  private async isConnected(player: PlayerRef): Promise<boolean | null> {
    try {
      return await this.publisher.isConnected(player);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'connected check did not complete');
      return null;
    }
  }
}
