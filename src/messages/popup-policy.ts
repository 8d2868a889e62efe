import { Inject, Injectable } from '@nestjs/common';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { FallbackLimiter } from '../limits/fallback-limiter';
import { RateLimitStore } from '../limits/rate-limit.store';
import type { MessageRow, NewMessage } from './message.table';
import { playerKey, PlayerRef } from './player-ref';

const HOUR_S = 3_600;

/**
 * Popup arbitration, the server's half (SPEC v2 §3): the per-hour cap is decided once, at ingest, through the store the
 * instances share, so every tab on every instance agrees; the age rule is applied when a delivery is made.
 */
@Injectable()
export class PopupPolicy {
  private readonly maxAgeMs: number;
  private readonly maxPerHour?: number;
  private readonly limiter?: FallbackLimiter;

  constructor(@Inject(APP_CONFIG) config: AppConfig, store: RateLimitStore) {
    this.maxAgeMs = config.popups.maxAgeSeconds * 1_000;
    this.maxPerHour = config.popups.maxPerHour;
    if (this.maxPerHour !== undefined && this.maxPerHour > 0) {
      this.limiter = store.limiter({ name: 'popups', points: this.maxPerHour, durationSeconds: HOUR_S });
    }
  }

  /** Whether the message may show as a popup at all: `high` is exempt from the cap, an inbox-only message spends none. */
  async allowAtIngest(player: PlayerRef, message: Pick<NewMessage, 'display' | 'priority'>): Promise<boolean> {
    if (message.display === 'inbox' || message.priority === 'high' || this.maxPerHour === undefined) return true;
    if (this.limiter === undefined) return false;
    return !(await this.limiter.consume(playerKey(player))).limited;
  }

  /** This delivery, now: a popup unless inbox-only, over the cap, or older than POPUP_MAX_AGE_S. */
  isPopup(row: Pick<MessageRow, 'display' | 'popup_allowed' | 'created_at'>, now = Date.now()): boolean {
    return row.display !== 'inbox' && row.popup_allowed && now - row.created_at.getTime() <= this.maxAgeMs;
  }
}
