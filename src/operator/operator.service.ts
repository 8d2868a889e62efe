import { Inject, Injectable, Logger } from '@nestjs/common';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import { MessageEvents } from '../messages/message-events';
import { MessageStateRepository, VoidMatch } from '../messages/message-state.repository';
import type { PlayerRef } from '../messages/player-ref';
import { SuppressionRepository } from './suppression.repository';
import type { SuppressionState } from './suppression.table';

/** A player's suppression as the operator API answers it (SPEC v2 §7). */
export interface SuppressionView {
  brand: string;
  ext_user_id: string;
  /** in force now: `none` once `until` has passed */
  state: SuppressionState;
  until: string | null;
  set_at: string | null;
}

/** What the operator's own platform asks of us (SPEC v2 §7). */
@Injectable()
export class OperatorService {
  private readonly logger = new Logger(OperatorService.name);

  private readonly exempt: readonly string[];

  constructor(
    private readonly states: MessageStateRepository,
    private readonly suppressions: SuppressionRepository,
    private readonly events: MessageEvents,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'suppressionExemptCategories'>,
  ) {
    this.exempt = config.suppressionExemptCategories;
  }

  async suppression(player: PlayerRef): Promise<SuppressionView> {
    const row = await this.suppressions.find(player);
    if (row === null) return { brand: player.brand, ext_user_id: player.id, state: 'none', until: null, set_at: null };
    return toSuppressionView(row, row.active);
  }

  /**
   * Saves the player's state; while it is in force every message not of an exempt category is hidden for good — taken
   * out of the player's tabs (`void`, reason `suppressed`), and rejected to Smartico if it was never delivered.
   */
  async suppress(player: PlayerRef, state: SuppressionState, until: Date | null): Promise<SuppressionView> {
    const change = await this.suppressions.set(player, state, until, this.exempt);
    for (const { row, rejected } of change.hidden) this.events.publishChanged(row, rejected ? ['suppressed', 'rejected'] : ['suppressed']);
    // no player id or message content in the log: the count and the state say what happened
    this.logger.log(
      { brand: player.brand, state, hidden: change.hidden.length, rejected: change.hidden.filter((entry) => entry.rejected).length },
      'suppression set',
    );
    return toSuppressionView(change.suppression, change.active);
  }

  /** Voids every match in one statement, then tells the players' tabs and wakes the callbacks; how many it voided. */
  async void(match: VoidMatch, reason: string): Promise<number> {
    const voided = await this.states.voidMessages(match, reason);
    for (const { row, failed } of voided) this.events.publishChanged(row, failed ? ['voided', 'failed'] : ['voided']);
    if (voided.length > 0) this.logger.log({ count: voided.length, failed: voided.filter((entry) => entry.failed).length }, 'messages voided');
    return voided.length;
  }
}

function toSuppressionView(
  row: { brand: string; ext_user_id: string; suppression: SuppressionState; until: Date | null; set_at: Date },
  active: boolean,
): SuppressionView {
  return {
    brand: row.brand,
    ext_user_id: row.ext_user_id,
    state: active ? row.suppression : 'none',
    until: row.until === null ? null : row.until.toISOString(),
    set_at: row.set_at.toISOString(),
  };
}
