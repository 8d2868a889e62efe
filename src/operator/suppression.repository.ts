import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { MessageRow, messageTable } from '../messages/message.table';
import type { PlayerRef } from '../messages/player-ref';
import { enqueueCallbacksSql } from '../tracking/outbox.sql';
import { SuppressionRow, SuppressionState, suppressionTable } from './suppression.table';

const COLUMNS = messageTable.list();
const SUPPRESSION_COLUMNS = suppressionTable.list();

export interface HiddenMessage {
  row: MessageRow;
  /** never delivered: kept from the player, and Smartico hears `rejected` */
  rejected: boolean;
}

export interface SuppressionChange {
  suppression: SuppressionRow;
  /** in force now (a state other than none, `until` not passed) */
  active: boolean;
  hidden: HiddenMessage[];
}

/**
 * A player's suppression, set under the player's advisory lock (exclusive): the gateway's insert takes it shared
 * (cim_suppression_at), so a message being accepted meanwhile is either hidden at insert or hidden here.
 */
@Injectable()
export class SuppressionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(player: PlayerRef): Promise<(SuppressionRow & { active: boolean }) | null> {
    const rows: Array<SuppressionRow & { active: boolean }> = await this.dataSource.query(
      `SELECT ${SUPPRESSION_COLUMNS}, (suppression <> 'none' AND (until IS NULL OR until > now())) AS active
         FROM player_suppressions WHERE brand = $1 AND ext_user_id = $2`,
      [player.brand, player.id],
    );
    return rows[0] ?? null;
  }

  /** Saves the state; while it is in force, every message not of an exempt category is hidden for good, in the same transaction. */
  set(player: PlayerRef, state: SuppressionState, until: Date | null, exempt: readonly string[]): Promise<SuppressionChange> {
    return this.dataSource.transaction(async (manager) => {
      // a statement of its own: what follows reads with a snapshot taken once the lock is held
      await manager.query(`SELECT pg_advisory_xact_lock(cim_player_lock_key($1, $2))`, [player.brand, player.id]);
      const [saved]: Array<SuppressionRow & { active: boolean }> = await manager.query(
        `INSERT INTO player_suppressions (brand, ext_user_id, suppression, until) VALUES ($1, $2, $3, $4)
         ON CONFLICT (brand, ext_user_id) DO UPDATE SET suppression = EXCLUDED.suppression, until = EXCLUDED.until, set_at = now()
         RETURNING ${SUPPRESSION_COLUMNS}, (suppression <> 'none' AND (until IS NULL OR until > now())) AS active`,
        [player.brand, player.id, state, until],
      );
      const { active, ...suppression } = saved;
      if (!active) return { suppression, active, hidden: [] };
      const rows: Array<MessageRow & { rejects: boolean }> = await manager.query(
        `WITH target AS (
           SELECT id, (delivered_at IS NULL) AS rejects FROM messages
            WHERE ext_user_id = $1 AND brand = $2 AND suppressed_at IS NULL AND voided_at IS NULL AND failed_at IS NULL
              AND (category IS NULL OR NOT category = ANY($3::text[]))
            FOR UPDATE
         ), hidden AS (
           UPDATE messages m SET suppressed_at = now(), failed_at = CASE WHEN target.rejects THEN now() ELSE m.failed_at END
             FROM target WHERE m.id = target.id
           RETURNING m.*, target.rejects
         ), recorded AS (
           INSERT INTO message_events (message_id, event, at)
           SELECT id, 'suppressed', suppressed_at FROM hidden
           UNION ALL
           SELECT id, 'rejected', suppressed_at FROM hidden WHERE rejects
         ), enqueued AS (
           ${enqueueCallbacksSql(`SELECT id, 'rejected' FROM hidden WHERE rejects`)}
         )
         SELECT ${COLUMNS}, rejects FROM hidden ORDER BY created_at, id`,
        [player.id, player.brand, exempt],
      );
      return { suppression, active, hidden: rows.map(({ rejects, ...row }) => ({ row, rejected: rejects })) };
    });
  }
}
