import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

import { GroupCommit } from '../common/group-commit';
import { namedQuery } from '../database/named-query';
import { enqueueCallbacksSql } from '../tracking/outbox.sql';
import { VISIBLE } from './message.repository';
import { MessageRow, messageTable } from './message.table';
import { MessageEvent, PlayerAction, StateColumn } from './message-status';
import { planTransition } from './message-transitions';
import type { PlayerRef } from './player-ref';

const COLUMNS = messageTable.list();
const ACK_BATCHES_IN_FLIGHT = 2;
// nobody waits on an ack: it can wait for others to share its statement
const ACK_LINGER_MS = 5;

const MARK_DELIVERED = {
  name: 'cim_mark_delivered',
  text: `WITH delivered AS (
         UPDATE messages m SET delivered_at = now()
           FROM unnest($1::uuid[], $2::text[], $3::text[]) AS a(id, brand, ext_user_id)
          WHERE m.id = a.id AND m.ext_user_id = a.ext_user_id AND m.brand = a.brand AND m.delivered_at IS NULL AND m.failed_at IS NULL
          RETURNING m.*
       ), recorded AS (
         INSERT INTO message_events (message_id, event, at) SELECT id, 'delivered', delivered_at FROM delivered
       ), enqueued AS (
         ${enqueueCallbacksSql(`SELECT id, 'delivered' FROM delivered`)}
       )
       SELECT ${COLUMNS} FROM delivered`,
};

export interface ActionOutcome {
  row: MessageRow;
  events: MessageEvent[];
}

/** Which messages a void takes back (SPEC v2 §7): every given field must match. */
export interface VoidMatch {
  brand: string | null;
  extUserId: string | null;
  id: string | null;
  gatewayId: string | null;
  imUid: string | null;
  group: string | null;
}

export interface VoidedMessage {
  row: MessageRow;
  /** never delivered: it failed with the void, and its `failed` callback is queued */
  failed: boolean;
}

/** Each change records its events and enqueues its callbacks in the same statement or transaction. */
@Injectable()
export class MessageStateRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The row when this ack delivered it; null when already delivered, another player's, or failed. */
  markDelivered(player: PlayerRef, id: string): Promise<MessageRow | null> {
    return this.deliveries.submit({ player, id });
  }

  private readonly deliveries = new GroupCommit<{ player: PlayerRef; id: string }, MessageRow | null>((acks) => this.markDeliveredMany(acks), {
    maxBatch: 500,
    maxInFlight: ACK_BATCHES_IN_FLIGHT,
    lingerMs: ACK_LINGER_MS,
  });

  private async markDeliveredMany(acks: Array<{ player: PlayerRef; id: string }>): Promise<Array<MessageRow | null>> {
    const rows = await namedQuery<MessageRow>(this.dataSource, MARK_DELIVERED, [
      acks.map((ack) => ack.id),
      acks.map((ack) => ack.player.brand),
      acks.map((ack) => ack.player.id),
    ]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    // an id acked twice in one batch is delivered once: the first ack gets the row
    return acks.map((ack) => {
      const row = byId.get(ack.id);
      if (row === undefined || row.ext_user_id !== ack.player.id || row.brand !== ack.player.brand) return null;
      byId.delete(ack.id);
      return row;
    });
  }

  applyAction(player: PlayerRef, id: string, action: PlayerAction, buttonId: string | null = null): Promise<ActionOutcome | null> {
    return this.applyActionWhere(`id = $1 AND ext_user_id = $2 AND brand = $3 AND ${VISIBLE}`, [id, player.id, player.brand], action, buttonId);
  }

  // the signed token names the message: a click on an archived message's link still counts
  // `buttonId`: the button whose link it was, kept on the `clicked` event (SPEC v2 §2)
  applyActionToMessage(id: string, action: PlayerAction, buttonId: string | null = null): Promise<ActionOutcome | null> {
    return this.applyActionWhere(`id = $1`, [id], action, buttonId);
  }

  private applyActionWhere(where: string, params: unknown[], action: PlayerAction, buttonId: string | null = null): Promise<ActionOutcome | null> {
    const id = params[0] as string;
    return this.dataSource.transaction(async (manager) => {
      const locked: MessageRow[] = await manager.query(`SELECT ${COLUMNS} FROM messages WHERE ${where} FOR UPDATE`, params);
      const current = locked[0];
      if (current === undefined) return null;
      // taken back by the operator, or hidden by a suppression: its links still lead somewhere, but nothing is recorded
      if (current.voided_at !== null || current.suppressed_at !== null) return { row: current, events: [] };
      const plan = planTransition(current, action);
      if (plan.set.length === 0) return { row: current, events: [] };
      const row = await this.setNow(manager, id, plan.set);
      await this.recordEvents(manager, id, plan.events, buttonId);
      return { row, events: plan.events };
    });
  }

  /** The row, changed or not; null when not this player's or no longer shown. */
  async setStarred(player: PlayerRef, id: string, starred: boolean): Promise<MessageRow | null> {
    const [rows]: [MessageRow[], number] = await this.dataSource.query(
      `UPDATE messages SET starred_at = ${starred ? 'COALESCE(starred_at, now())' : 'NULL'}
        WHERE id = $1 AND ext_user_id = $2 AND brand = $3 AND ${VISIBLE}
        RETURNING ${COLUMNS}`,
      [id, player.id, player.brand],
    );
    return rows[0] ?? null;
  }

  /** One statement: every listed (not popup-only) message of the player, of `category` when given, archived with its event. */
  async archiveAll(player: PlayerRef, category: string | null): Promise<MessageRow[]> {
    return this.dataSource.query(
      `WITH changed AS (
         UPDATE messages SET archived_at = now()
          WHERE ext_user_id = $1 AND brand = $2 AND display <> 'popup' AND ($3::text IS NULL OR category = $3) AND ${VISIBLE}
          RETURNING ${COLUMNS}
       ), recorded AS (
         INSERT INTO message_events (message_id, event, at) SELECT id, 'archived', archived_at FROM changed
       )
       SELECT ${COLUMNS} FROM changed`,
      [player.id, player.brand, category],
    );
  }

  markAllRead(player: PlayerRef): Promise<string[]> {
    return this.dataSource.transaction(async (manager) => {
      const rows: Array<{ id: string }> = await manager.query(
        `WITH changed AS (
           UPDATE messages SET read_at = now()
            WHERE ext_user_id = $1 AND brand = $2 AND read_at IS NULL AND ${VISIBLE}
            RETURNING id, read_at
         )
         INSERT INTO message_events (message_id, event, at) SELECT id, 'read', read_at FROM changed
         RETURNING message_id AS id`,
        [player.id, player.brand],
      );
      return rows.map((row) => row.id);
    });
  }

  private async setNow(manager: EntityManager, id: string, columns: StateColumn[]): Promise<MessageRow> {
    const assignments = columns.map((column) => `${messageTable.col(column)} = now()`).join(', ');
    // TypeORM answers an UPDATE with [rows, rowCount]
    const [rows]: [MessageRow[], number] = await manager.query(`UPDATE messages SET ${assignments} WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
    return rows[0];
  }

  private async recordEvents(manager: EntityManager, id: string, events: MessageEvent[], buttonId: string | null): Promise<void> {
    await manager.query(
      `WITH recorded AS (
         INSERT INTO message_events (message_id, event, at, button_id)
         SELECT $1, event, now(), CASE WHEN event = 'clicked' THEN $3::text END FROM unnest($2::text[]) WITH ORDINALITY AS e(event, n) ORDER BY n
       )
       ${enqueueCallbacksSql(`SELECT $1::uuid, event FROM unnest($2::text[]) AS u(event)`)}`,
      [id, events, buttonId],
    );
  }

  /**
   * One statement: every matching message not yet voided is voided with its event; one never delivered (nor failed)
   * fails too and queues its `failed` callback. Concurrent voids of one message void it once (the second re-checks
   * `voided_at` after the first's lock).
   */
  async voidMessages(match: VoidMatch, reason: string): Promise<VoidedMessage[]> {
    const params: unknown[] = [reason];
    const param = (value: unknown, type: string): string => `$${params.push(value)}::${type}`;
    const where = ['voided_at IS NULL'];
    if (match.id !== null) where.push(`id = ${param(match.id, 'uuid')}`);
    if (match.gatewayId !== null) where.push(`gateway_id = ${param(match.gatewayId, 'text')}`);
    if (match.imUid !== null) where.push(`im_uid = ${param(match.imUid, 'text')}`);
    if (match.group !== null) where.push(`group_key = ${param(match.group, 'text')}`);
    if (match.brand !== null) where.push(`brand = ${param(match.brand, 'text')}`);
    if (match.extUserId !== null) where.push(`ext_user_id = ${param(match.extUserId, 'text')}`);
    const rows: Array<MessageRow & { fails: boolean }> = await this.dataSource.query(
      `WITH target AS (
         SELECT id, (delivered_at IS NULL AND failed_at IS NULL) AS fails FROM messages WHERE ${where.join(' AND ')} FOR UPDATE
       ), voided AS (
         UPDATE messages m SET voided_at = now(), void_reason = $1::text,
                failed_at = CASE WHEN target.fails THEN now() ELSE m.failed_at END
           FROM target WHERE m.id = target.id
         RETURNING m.*, target.fails
       ), recorded AS (
         INSERT INTO message_events (message_id, event, at)
         SELECT id, 'voided', voided_at FROM voided
         UNION ALL
         SELECT id, 'failed', failed_at FROM voided WHERE fails
       ), enqueued AS (
         ${enqueueCallbacksSql(`SELECT id, 'failed' FROM voided WHERE fails`)}
       )
       SELECT ${COLUMNS}, fails FROM voided ORDER BY created_at, id`,
      params,
    );
    return rows.map(({ fails, ...row }) => ({ row, failed: fails }));
  }

  async failExpiredUndelivered(limit: number): Promise<MessageRow[]> {
    return this.dataSource.query(
      `WITH due AS (
         SELECT id FROM messages
          WHERE expires_at <= now() AND delivered_at IS NULL AND failed_at IS NULL
          ORDER BY expires_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED
       ), failed AS (
         UPDATE messages m SET failed_at = now() FROM due WHERE m.id = due.id RETURNING m.*
       ), recorded AS (
         INSERT INTO message_events (message_id, event, at) SELECT id, 'failed', failed_at FROM failed
       ), enqueued AS (
         ${enqueueCallbacksSql(`SELECT id, 'failed' FROM failed`)}
       )
       SELECT ${COLUMNS} FROM failed`,
      [limit],
    );
  }
}
