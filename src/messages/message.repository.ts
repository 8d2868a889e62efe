import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

import { GroupCommit } from '../common/group-commit';
import { namedQuery } from '../database/named-query';
import { encodeCursor, InboxCursor } from './inbox-cursor';
import type { MessageRow } from './message.view';
import type { MessageDisplay, MessagePriority } from './message-fields';
import { MessageEvent, planTransition, PlayerAction, StateColumn } from './message-transitions';

/** The outbox rule: which events become status callbacks to Smartico, and their funnel order. */
const ENQUEUE_CALLBACKS = (eventsSql: string): string => `
  INSERT INTO callbacks (message_id, status, funnel_rank)
  SELECT message_id, event, CASE event WHEN 'opened' THEN 2 WHEN 'clicked' THEN 3 ELSE 1 END
    FROM (${eventsSql}) AS e(message_id, event)
   WHERE event IN ('delivered', 'opened', 'clicked', 'failed')
  ON CONFLICT (message_id, status) DO NOTHING`;

const COLUMNS = `id, gateway_id, im_uid, ext_user_id, body, callback_url, extension, display, priority, category,
  expires_at, created_at, delivered_at, opened_at, clicked_at, read_at, archived_at, failed_at`;

/**
 * Insert batches in flight at once: requests arriving while they run wait and go out together in
 * the next batch (measured with `npm run bench`: fewer, larger commits beat one per request).
 */
const INSERT_BATCHES_IN_FLIGHT = 4;
const ACK_BATCHES_IN_FLIGHT = 2;
/** An ack waits up to this long for others to share its statement: nobody waits on it. */
const ACK_LINGER_MS = 5;

/** Shown to the player: not archived, not failed, not expired. */
const VISIBLE = `archived_at IS NULL AND failed_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;

export interface NewMessage {
  id: string;
  gatewayId: string;
  imUid: string;
  extUserId: string;
  body: string;
  callbackUrl: string;
  extension: Record<string, unknown> | null;
  display: MessageDisplay;
  priority: MessagePriority;
  category: string | null;
  expiresAt: Date | null;
}

export interface InboxPage {
  rows: MessageRow[];
  nextCursor: string | null;
}

export interface InboxQuery {
  limit: number;
  cursor: InboxCursor | null;
  unreadOnly: boolean;
  category: string | null;
}

/** A position in the (expires_at, id) order; `at` is timestamptz text, microseconds kept. */
export interface ExpiryCursor {
  at: string;
  id: string;
}

export interface ActionOutcome {
  row: MessageRow;
  events: MessageEvent[];
}

export type InsertOutcome = { kind: 'created'; id: string; row: MessageRow } | { kind: 'replay'; id: string } | { kind: 'conflict'; id: string };

/** The columns insertMany writes, named as the table names them. */
function insertedColumns(message: NewMessage): Omit<MessageRow, 'created_at' | 'failed_at' | StateColumn> {
  return {
    id: message.id,
    gateway_id: message.gatewayId,
    im_uid: message.imUid,
    ext_user_id: message.extUserId,
    body: message.body,
    callback_url: message.callbackUrl,
    extension: message.extension,
    display: message.display,
    priority: message.priority,
    category: message.category,
    expires_at: message.expiresAt,
  };
}

/** The row as stored by insertMany: `created_at` is the database's, every state still unset. */
function newRow(message: NewMessage, createdAt: Date): MessageRow {
  return {
    ...insertedColumns(message),
    created_at: createdAt,
    delivered_at: null,
    opened_at: null,
    clicked_at: null,
    read_at: null,
    archived_at: null,
    failed_at: null,
  };
}

@Injectable()
export class MessageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores a new message, or recognises a replay of one already accepted under the same
   * (gateway, im_uid). Concurrent calls are group-committed: one multi-row INSERT … ON CONFLICT DO
   * NOTHING per batch (one commit, one WAL flush for many messages), and each caller's promise
   * settles only once its batch has committed. A conflicting insert waits for the other
   * transaction and then reads the committed row, so concurrent replays agree on one id.
   */
  insertOrFind(message: NewMessage): Promise<InsertOutcome> {
    return this.inserts.submit(message);
  }

  private readonly inserts = new GroupCommit<NewMessage, InsertOutcome>((messages) => this.insertMany(messages), {
    maxBatch: 500,
    maxInFlight: INSERT_BATCHES_IN_FLIGHT,
  });

  private async insertMany(messages: NewMessage[]): Promise<InsertOutcome[]> {
    // only what the database decides comes back: the rest of the row is what was just sent. The
    // rows go as one JSON document: one native JSON.stringify, where eleven text arrays cost pg an
    // escaping pass over every body
    const rows = JSON.stringify(messages.map(insertedColumns));
    const inserted = await namedQuery<{ id: string; created_at: Date }>(
      this.dataSource,
      'cim_insert_messages',
      `INSERT INTO messages (id, gateway_id, im_uid, ext_user_id, body, callback_url, extension, display, priority, category, expires_at)
       SELECT id, gateway_id, im_uid, ext_user_id, body, callback_url, extension, display, priority, category, expires_at
         FROM json_to_recordset($1::json) AS r(id uuid, gateway_id text, im_uid text, ext_user_id text, body text, callback_url text,
                                               extension jsonb, display text, priority text, category text, expires_at timestamptz)
       ON CONFLICT (gateway_id, im_uid) DO NOTHING
       RETURNING id, created_at`,
      [rows],
    );
    const createdAt = new Map(inserted.map((row) => [row.id, row.created_at]));
    const outcomes: Array<InsertOutcome | undefined> = messages.map((message) => {
      const created = createdAt.get(message.id);
      return created === undefined ? undefined : { kind: 'created', id: message.id, row: newRow(message, created) };
    });
    const missing = messages.flatMap((message, index) => (outcomes[index] === undefined ? [index] : []));
    if (missing.length > 0) {
      // replays (or an im_uid twice in this batch): compare with the stored row; jsonb equality
      // ignores key order and whitespace, as SPEC §2 asks of a replay
      const existing: Array<{ ord: string; id: string; same: boolean }> = await this.dataSource.query(
        `SELECT i.ord, m.id,
                (m.ext_user_id = i.ext_user_id AND m.body = i.body AND m.callback_url = i.callback_url
                 AND m.extension IS NOT DISTINCT FROM i.extension) AS same
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
                WITH ORDINALITY AS i(gateway_id, im_uid, ext_user_id, body, callback_url, extension, ord)
           JOIN messages m ON m.gateway_id = i.gateway_id AND m.im_uid = i.im_uid`,
        [
          missing.map((index) => messages[index].gatewayId),
          missing.map((index) => messages[index].imUid),
          missing.map((index) => messages[index].extUserId),
          missing.map((index) => messages[index].body),
          missing.map((index) => messages[index].callbackUrl),
          missing.map((index) => (messages[index].extension === null ? null : JSON.stringify(messages[index].extension))),
        ],
      );
      for (const row of existing) {
        const index = missing[Number(row.ord) - 1];
        outcomes[index] = row.same ? { kind: 'replay', id: row.id } : { kind: 'conflict', id: row.id };
      }
    }
    return outcomes.map((outcome) => {
      if (outcome === undefined) throw new Error('insert conflicted but no row was found');
      return outcome;
    });
  }

  /**
   * A player's undelivered, still visible messages, oldest first (the catch-up on connect), one
   * page after `after` (keyset on created_at in microseconds, then id).
   */
  async findUndelivered(playerId: string, after: InboxCursor | null, limit: number): Promise<{ rows: MessageRow[]; last: InboxCursor | null }> {
    const params: unknown[] = [playerId, limit];
    let keyset = '';
    if (after !== null) {
      params.push(after.createdUs, after.id);
      keyset = `AND (created_at, id) > (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::uuid)`;
    }
    const rows = await namedQuery<MessageRow & { created_us: string }>(
      this.dataSource,
      after === null ? 'cim_find_undelivered' : 'cim_find_undelivered_after',
      `SELECT ${COLUMNS}, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us FROM messages
        WHERE ext_user_id = $1 AND delivered_at IS NULL AND ${VISIBLE} ${keyset}
        ORDER BY created_at, id
        LIMIT $2`,
      params,
    );
    const last = rows[rows.length - 1];
    return {
      rows: rows.map(({ created_us: _createdUs, ...row }) => row),
      last: last === undefined ? null : { createdUs: last.created_us, id: last.id },
    };
  }

  /** Visible messages by id, oldest first; ids of other players or hidden messages are left out. */
  findVisibleByIds(ids: string[]): Promise<MessageRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.dataSource.query(`SELECT ${COLUMNS} FROM messages WHERE id = ANY($1::uuid[]) AND ${VISIBLE} ORDER BY created_at, id`, [ids]);
  }

  /** Unread inbox messages: what the badge shows (popup-only messages never reach the inbox). */
  async countUnread(playerId: string): Promise<number> {
    const rows = await namedQuery<{ count: number }>(
      this.dataSource,
      'cim_count_unread',
      `SELECT count(*)::int AS count FROM messages
        WHERE ext_user_id = $1 AND read_at IS NULL AND display <> 'popup' AND ${VISIBLE}`,
      [playerId],
    );
    return rows[0].count;
  }

  /** Unread counts of several players at once (players with none are absent from the map). */
  async countUnreadMany(playerIds: string[]): Promise<Map<string, number>> {
    if (playerIds.length === 0) return new Map();
    const rows = await namedQuery<{ player: string; count: number }>(
      this.dataSource,
      'cim_count_unread_many',
      `SELECT ext_user_id AS player, count(*)::int AS count FROM messages
        WHERE ext_user_id = ANY($1::text[]) AND read_at IS NULL AND display <> 'popup' AND ${VISIBLE}
        GROUP BY ext_user_id`,
      [playerIds],
    );
    return new Map(rows.map((row) => [row.player, row.count]));
  }

  /** One page of the inbox, newest first, by keyset on (created_at, id). */
  async listInbox(playerId: string, query: InboxQuery): Promise<InboxPage> {
    const params: unknown[] = [playerId, query.limit + 1];
    const where = [`ext_user_id = $1`, `display <> 'popup'`, VISIBLE];
    if (query.unreadOnly) where.push('read_at IS NULL');
    if (query.category !== null) {
      params.push(query.category);
      where.push(`category = $${params.length}`);
    }
    if (query.cursor !== null) {
      params.push(query.cursor.createdUs, query.cursor.id);
      where.push(`(created_at, id) < (timestamptz 'epoch' + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`);
    }
    const rows: Array<MessageRow & { created_us: string }> = await this.dataSource.query(
      `SELECT ${COLUMNS}, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us
         FROM messages WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, id DESC
        LIMIT $2`,
      params,
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > query.limit && last ? encodeCursor({ createdUs: last.created_us, id: last.id }) : null;
    return { rows: page.map(({ created_us: _createdUs, ...row }) => row), nextCursor };
  }

  /**
   * The first ack of a pushed message: sets delivered_at once, records the event and enqueues
   * the `delivered` callback, in one statement (group-committed with concurrent acks; a failed
   * batch, e.g. a deadlock between overlapping batches, is retried ack by ack). Returns the row
   * when this call delivered it, null when it already was (or is not the player's, or is failed).
   */
  markDelivered(playerId: string, id: string): Promise<MessageRow | null> {
    return this.deliveries.submit({ playerId, id });
  }

  /** Delivery acks arrive one per pushed message: concurrent ones share one statement and commit. */
  private readonly deliveries = new GroupCommit<{ playerId: string; id: string }, MessageRow | null>((acks) => this.markDeliveredMany(acks), {
    maxBatch: 500,
    maxInFlight: ACK_BATCHES_IN_FLIGHT,
    lingerMs: ACK_LINGER_MS,
  });

  private async markDeliveredMany(acks: Array<{ playerId: string; id: string }>): Promise<Array<MessageRow | null>> {
    const rows = await namedQuery<MessageRow>(
      this.dataSource,
      'cim_mark_delivered',
      `WITH delivered AS (
         UPDATE messages m SET delivered_at = now()
           FROM unnest($1::uuid[], $2::text[]) AS a(id, player)
          WHERE m.id = a.id AND m.ext_user_id = a.player AND m.delivered_at IS NULL AND m.failed_at IS NULL
          RETURNING m.*
       ), recorded AS (
         INSERT INTO message_events (message_id, event, at) SELECT id, 'delivered', delivered_at FROM delivered
       ), enqueued AS (
         ${ENQUEUE_CALLBACKS(`SELECT id, 'delivered' FROM delivered`)}
       )
       SELECT ${COLUMNS} FROM delivered`,
      [acks.map((ack) => ack.id), acks.map((ack) => ack.playerId)],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    // an id acked twice in one batch is delivered once: the first ack gets the row
    return acks.map((ack) => {
      const row = byId.get(ack.id);
      if (row === undefined || row.ext_user_id !== ack.playerId) return null;
      byId.delete(ack.id);
      return row;
    });
  }

  /**
   * Applies a player's action to one of their visible messages in one transaction: the row is
   * locked, the implied timestamps set, each change recorded as an event and the matching status
   * callbacks enqueued. Null when the message is unknown, another player's, or no longer visible.
   */
  applyAction(playerId: string, id: string, action: PlayerAction): Promise<ActionOutcome | null> {
    return this.applyActionWhere(`id = $1 AND ext_user_id = $2 AND ${VISIBLE}`, [id, playerId], action);
  }

  /**
   * The same for a tracked link: the signed token names the message, so neither player nor
   * visibility restricts it (a click on an archived message's link still counts).
   */
  applyActionToMessage(id: string, action: PlayerAction): Promise<ActionOutcome | null> {
    return this.applyActionWhere('id = $1', [id], action);
  }

  private applyActionWhere(where: string, params: unknown[], action: PlayerAction): Promise<ActionOutcome | null> {
    const id = params[0] as string;
    return this.dataSource.transaction(async (manager) => {
      const locked: MessageRow[] = await manager.query(`SELECT ${COLUMNS} FROM messages WHERE ${where} FOR UPDATE`, params);
      const current = locked[0];
      if (current === undefined) return null;
      const plan = planTransition(current, action);
      if (plan.set.length === 0) return { row: current, events: [] };
      const row = await this.setNow(manager, id, plan.set);
      await this.recordEvents(manager, id, plan.events);
      return { row, events: plan.events };
    });
  }

  /** Marks every unread visible message of the player read; returns the ids it changed. */
  markAllRead(playerId: string): Promise<string[]> {
    return this.dataSource.transaction(async (manager) => {
      const rows: Array<{ id: string }> = await manager.query(
        `WITH changed AS (
           UPDATE messages SET read_at = now()
            WHERE ext_user_id = $1 AND read_at IS NULL AND ${VISIBLE}
            RETURNING id, read_at
         )
         INSERT INTO message_events (message_id, event, at) SELECT id, 'read', read_at FROM changed
         RETURNING message_id AS id`,
        [playerId],
      );
      return rows.map((row) => row.id);
    });
  }

  private async setNow(manager: EntityManager, id: string, columns: StateColumn[]): Promise<MessageRow> {
    // column names come from planTransition's fixed list, never from input
    const assignments = columns.map((column) => `${column} = now()`).join(', ');
    // TypeORM answers an UPDATE with [rows, rowCount]
    const [rows]: [MessageRow[], number] = await manager.query(`UPDATE messages SET ${assignments} WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
    return rows[0];
  }

  private async recordEvents(manager: EntityManager, id: string, events: MessageEvent[]): Promise<void> {
    await manager.query(
      `WITH recorded AS (
         INSERT INTO message_events (message_id, event, at)
         SELECT $1, event, now() FROM unnest($2::text[]) WITH ORDINALITY AS e(event, n) ORDER BY n
       )
       ${ENQUEUE_CALLBACKS(`SELECT $1::uuid, event FROM unnest($2::text[]) AS u(event)`)}`,
      [id, events],
    );
  }

  /**
   * Expiry sweep: messages that expired before any client acked them are failed, with the event
   * and the `failed` callback, in one statement; several instances may sweep at once.
   */
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
         ${ENQUEUE_CALLBACKS(`SELECT id, 'failed' FROM failed`)}
       )
       SELECT ${COLUMNS} FROM failed`,
      [limit],
    );
  }

  /** The database's clock, as text (microseconds kept): the bound of an expiry window. */
  async databaseNow(): Promise<string> {
    const rows: Array<{ now: string }> = await this.dataSource.query(`SELECT now()::text AS now`);
    return rows[0].now;
  }

  /**
   * Delivered messages still shown until they expired in (after, until], in (expires_at, id)
   * order: their players' open inboxes must drop them. (Undelivered ones are failed instead.)
   */
  async findDeliveredExpired(after: ExpiryCursor, until: string, limit: number): Promise<Array<{ row: MessageRow; cursor: ExpiryCursor }>> {
    const rows: Array<MessageRow & { cursor_at: string }> = await this.dataSource.query(
      `SELECT ${COLUMNS}, expires_at::text AS cursor_at FROM messages
        WHERE expires_at IS NOT NULL AND (expires_at, id) > ($1::timestamptz, $2::uuid) AND expires_at <= $3::timestamptz
          AND delivered_at IS NOT NULL AND failed_at IS NULL AND archived_at IS NULL
        ORDER BY expires_at, id
        LIMIT $4`,
      [after.at, after.id, until, limit],
    );
    return rows.map(({ cursor_at: at, ...row }) => ({ row, cursor: { at, id: row.id } }));
  }

  /** Presence for support: the player had a socket open at this moment. */
  async touchPresence(playerId: string): Promise<void> {
    await namedQuery(
      this.dataSource,
      'cim_touch_presence',
      `INSERT INTO player_presence (ext_user_id, last_seen_at) VALUES ($1, now())
       ON CONFLICT (ext_user_id) DO UPDATE SET last_seen_at = now()`,
      [playerId],
    );
  }
}
