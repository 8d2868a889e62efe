import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { GroupCommit } from '../common/group-commit';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { namedQuery } from '../database/named-query';
import { enqueueCallbacksSql } from '../tracking/outbox.sql';
import { CREATED_US_SQL, InboxCursor, KeysetPage, keysetSql, toKeysetPage } from './inbox-cursor';
import { MessageRow, messageTable, NewMessage } from './message.table';
import { playerKey, PlayerRef } from './player-ref';

const COLUMNS = messageTable.list();
// a suppressed message has failed_at too when it was never delivered; suppressed_at hides the delivered ones
export const VISIBLE = `archived_at IS NULL AND failed_at IS NULL AND voided_at IS NULL AND suppressed_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;

// exported for bench/explain-support.ts
export const COUNT_UNREAD = {
  name: 'cim_count_unread',
  text: `SELECT count(*)::int AS count FROM messages
        WHERE ext_user_id = $1 AND brand = $2 AND read_at IS NULL AND display <> 'popup' AND ${VISIBLE}`,
};

// fewer, larger commits beat one per request: requests arriving while these run go out together next
const INSERT_BATCHES_IN_FLIGHT = 4;
const UNSET = Object.fromEntries(messageTable.unset.map((name) => [name, null]));

// what the insert fills in besides what the gateway gives
const FILLED = messageTable.list(['id', ...messageTable.defaulted, 'suppressed_at', 'failed_at']);

// One JSON document: a text array per column would cost pg an escaping pass over every body. A message for a player
// under a responsible-gambling suppression (SPEC v2 §7) is stored hidden and rejected in the same statement:
// cim_suppression_at() (migration 1765200000000) decides, under the player's lock.
const INSERT = {
  name: 'cim_insert_messages',
  text: `WITH inserted AS (
         INSERT INTO messages (${messageTable.list(messageTable.inserted)}, suppressed_at, failed_at)
         SELECT ${messageTable.list(messageTable.inserted, 'r')}, s.at, s.at
           FROM json_to_recordset($1::json) AS r(${messageTable.recordset(messageTable.inserted)})
           CROSS JOIN LATERAL (SELECT cim_suppression_at(r.brand, r.ext_user_id, r.category, $2::text[]) AS at) AS s
         ON CONFLICT (gateway_id, im_uid) DO NOTHING
         RETURNING ${FILLED}
       ), recorded AS (
         INSERT INTO message_events (message_id, event, at)
         SELECT id, 'suppressed', suppressed_at FROM inserted WHERE suppressed_at IS NOT NULL
         UNION ALL
         SELECT id, 'rejected', suppressed_at FROM inserted WHERE suppressed_at IS NOT NULL
       ), enqueued AS (
         ${enqueueCallbacksSql(`SELECT id, 'rejected' FROM inserted WHERE suppressed_at IS NOT NULL`)}
       )
       SELECT ${FILLED} FROM inserted`,
};

export const CATCH_UP_PAGE = 500;

/** Unread inbox messages (SPEC v2 §3): the total, and per category for the categorised ones. */
export interface UnreadCount {
  count: number;
  categories: Record<string, number>;
}

export interface UnreadCounts {
  counts: Map<string, UnreadCount>;
  asOf: number;
}
const FIRST_PAGE_LINGER_MS = 2;

export interface UndeliveredPage {
  rows: MessageRow[];
  /** where the next page starts */
  last: InboxCursor | null;
}

function toUndeliveredPage(rows: Array<MessageRow & { created_us: string }>): UndeliveredPage {
  const last = rows[rows.length - 1];
  return {
    rows: rows.map(({ created_us: _createdUs, ...row }) => row),
    last: last === undefined ? null : { createdUs: last.created_us, id: last.id },
  };
}

export interface InboxQuery {
  limit: number;
  cursor: InboxCursor | null;
  unreadOnly: boolean;
  starredOnly: boolean;
  category: string | null;
}

/** `at` is timestamptz text: microseconds kept. */
export interface ExpiryCursor {
  at: string;
  id: string;
}

export type InsertOutcome = { kind: 'created'; id: string; row: MessageRow } | { kind: 'replay'; id: string } | { kind: 'conflict'; id: string };

/** Creating and reading messages; MessageStateRepository changes their state. */
@Injectable()
export class MessageRepository {
  private readonly exemptCategories: string[];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'suppressionExemptCategories'>,
  ) {
    this.exemptCategories = config.suppressionExemptCategories;
  }

  /** Settles once its batch has committed; concurrent replays agree on one id (a conflicting insert waits for the other). */
  insertOrFind(message: NewMessage): Promise<InsertOutcome> {
    return this.inserts.submit(message);
  }

  private readonly inserts = new GroupCommit<NewMessage, InsertOutcome>((messages) => this.insertMany(messages), {
    maxBatch: 500,
    maxInFlight: INSERT_BATCHES_IN_FLIGHT,
  });

  private async insertMany(messages: NewMessage[]): Promise<InsertOutcome[]> {
    const inserted = await namedQuery<Pick<MessageRow, 'id'> & Partial<MessageRow>>(this.dataSource, INSERT, [JSON.stringify(messages), this.exemptCategories]);
    const returned = new Map(inserted.map((row) => [row.id, row]));
    const outcomes: Array<InsertOutcome | undefined> = messages.map((message) => {
      const filled = returned.get(message.id);
      return filled === undefined ? undefined : { kind: 'created', id: message.id, row: { ...UNSET, ...message, ...filled } as MessageRow };
    });
    const missing = messages.flatMap((message, index) => (outcomes[index] === undefined ? [index] : []));
    if (missing.length > 0) {
      const replays = await this.findReplays(missing.map((index) => messages[index]));
      missing.forEach((index, i) => (outcomes[index] = replays[i]));
    }
    return outcomes.map((outcome) => {
      if (outcome === undefined) throw new Error('insert conflicted but no row was found');
      return outcome;
    });
  }

  // jsonb equality ignores key order and whitespace, as SPEC §2 asks of a replay
  private async findReplays(messages: NewMessage[]): Promise<Array<InsertOutcome | undefined>> {
    const existing: Array<{ ord: string; id: string; same: boolean }> = await this.dataSource.query(
      `SELECT i.ord, m.id,
              (m.ext_user_id = i.ext_user_id AND m.body = i.body AND m.callback_url = i.callback_url
               AND m.extension IS NOT DISTINCT FROM i.extension) AS same
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
              WITH ORDINALITY AS i(gateway_id, im_uid, ext_user_id, body, callback_url, extension, ord)
         JOIN messages m ON m.gateway_id = i.gateway_id AND m.im_uid = i.im_uid`,
      [
        messages.map((message) => message.gateway_id),
        messages.map((message) => message.im_uid),
        messages.map((message) => message.ext_user_id),
        messages.map((message) => message.body),
        messages.map((message) => message.callback_url),
        messages.map((message) => (message.extension === null ? null : JSON.stringify(message.extension))),
      ],
    );
    const outcomes = new Array<InsertOutcome | undefined>(messages.length);
    for (const row of existing) outcomes[Number(row.ord) - 1] = { kind: row.same ? 'replay' : 'conflict', id: row.id };
    return outcomes;
  }

  /** The catch-up's first page; the connects of a reconnect storm share statements. */
  firstUndelivered(player: PlayerRef): Promise<UndeliveredPage> {
    return this.firstPages.submit(player);
  }

  private readonly firstPages = new GroupCommit<PlayerRef, UndeliveredPage>((players) => this.firstUndeliveredMany(players), {
    maxBatch: 200,
    maxInFlight: 2,
    lingerMs: FIRST_PAGE_LINGER_MS,
  });

  private async firstUndeliveredMany(players: PlayerRef[]): Promise<UndeliveredPage[]> {
    const distinct = [...new Map(players.map((player) => [playerKey(player), player])).values()];
    const rows = await namedQuery<MessageRow & { created_us: string }>(
      this.dataSource,
      {
        name: 'cim_find_undelivered_many',
        text: `SELECT m.* FROM unnest($1::text[], $2::text[]) AS p(brand, ext_user_id)
        CROSS JOIN LATERAL (
          SELECT ${COLUMNS}, ${CREATED_US_SQL} FROM messages
           WHERE ext_user_id = p.ext_user_id AND brand = p.brand AND delivered_at IS NULL AND ${VISIBLE}
           ORDER BY created_at, id
           LIMIT $3
        ) AS m`,
      },
      [distinct.map((player) => player.brand), distinct.map((player) => player.id), CATCH_UP_PAGE],
    );
    const byPlayer = new Map<string, Array<MessageRow & { created_us: string }>>();
    for (const row of rows) {
      const key = playerKey({ brand: row.brand, id: row.ext_user_id });
      byPlayer.set(key, [...(byPlayer.get(key) ?? []), row]);
    }
    return players.map((player) => toUndeliveredPage(byPlayer.get(playerKey(player)) ?? []));
  }

  /** The catch-up on connect, oldest first. */
  async findUndelivered(player: PlayerRef, after: InboxCursor | null, limit: number): Promise<UndeliveredPage> {
    const params: unknown[] = [player.id, player.brand, limit];
    const keyset = after === null ? '' : `AND ${keysetSql('>', after, (value, type) => `$${params.push(value)}::${type}`)}`;
    const rows = await namedQuery<MessageRow & { created_us: string }>(
      this.dataSource,
      {
        name: after === null ? 'cim_find_undelivered' : 'cim_find_undelivered_after',
        text: `SELECT ${COLUMNS}, ${CREATED_US_SQL} FROM messages
        WHERE ext_user_id = $1 AND brand = $2 AND delivered_at IS NULL AND ${VISIBLE} ${keyset}
        ORDER BY created_at, id
        LIMIT $3`,
      },
      params,
    );
    return toUndeliveredPage(rows);
  }

  findVisibleByIds(ids: string[]): Promise<MessageRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.dataSource.query(`SELECT ${COLUMNS} FROM messages WHERE id = ANY($1::uuid[]) AND ${VISIBLE} ORDER BY created_at, id`, [ids]);
  }

  async findVisibleForPlayer(player: PlayerRef, id: string): Promise<MessageRow | null> {
    const rows: MessageRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM messages WHERE id = $1 AND ext_user_id = $2 AND brand = $3 AND ${VISIBLE}`, [
      id,
      player.id,
      player.brand,
    ]);
    return rows[0] ?? null;
  }

  async countUnread(player: PlayerRef): Promise<number> {
    const rows = await namedQuery<{ count: number }>(this.dataSource, COUNT_UNREAD, [player.id, player.brand]);
    return rows[0].count;
  }

  /** By playerKey(), every player given; `asOf`: when the counts were taken, in the database's clock (µs since the epoch). */
  async countUnreadMany(players: PlayerRef[]): Promise<UnreadCounts> {
    if (players.length === 0) return { counts: new Map(), asOf: 0 };
    const rows = await namedQuery<{ brand: string; player: string; category: string | null; count: number; as_of: number }>(
      this.dataSource,
      {
        name: 'cim_count_unread_many',
        text: `SELECT p.brand, p.ext_user_id AS player, m.category, count(m.id)::int AS count,
               (extract(epoch FROM statement_timestamp()) * 1000000)::float8 AS as_of
          FROM unnest($1::text[], $2::text[]) AS p(brand, ext_user_id)
          LEFT JOIN messages m ON m.ext_user_id = p.ext_user_id AND m.brand = p.brand
           AND m.read_at IS NULL AND m.display <> 'popup' AND ${VISIBLE}
         GROUP BY p.brand, p.ext_user_id, m.category`,
      },
      [players.map((player) => player.brand), players.map((player) => player.id)],
    );
    const counts = new Map<string, UnreadCount>();
    for (const row of rows) {
      const key = playerKey({ brand: row.brand, id: row.player });
      const count = counts.get(key) ?? { count: 0, categories: {} };
      count.count += row.count;
      if (row.category !== null && row.count > 0) count.categories[row.category] = row.count;
      counts.set(key, count);
    }
    return { counts, asOf: rows[0]?.as_of ?? 0 };
  }

  async listInbox(player: PlayerRef, query: InboxQuery): Promise<KeysetPage<MessageRow>> {
    const params: unknown[] = [player.id, query.limit + 1, player.brand];
    const param = (value: unknown, type: string): string => `$${params.push(value)}::${type}`;
    const where = [`ext_user_id = $1`, `brand = $3`, `display <> 'popup'`, VISIBLE];
    if (query.unreadOnly) where.push(`read_at IS NULL`);
    if (query.starredOnly) where.push(`starred_at IS NOT NULL`);
    if (query.category !== null) where.push(`category = $${params.push(query.category)}`);
    if (query.cursor !== null) where.push(keysetSql('<', query.cursor, param));
    const rows: Array<MessageRow & { created_us: string }> = await this.dataSource.query(
      `SELECT ${COLUMNS}, ${CREATED_US_SQL}
         FROM messages WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, id DESC
        LIMIT $2`,
      params,
    );
    return toKeysetPage(rows, query.limit);
  }

  /** The database's clock, `minusMs` ago. */
  async databaseNow(minusMs = 0): Promise<string> {
    const rows: Array<{ now: string }> = await this.dataSource.query(`SELECT (now() - $1 * interval '1 millisecond')::text AS now`, [minusMs]);
    return rows[0].now;
  }

  /** Delivered messages that expired in (after, until]: open inboxes must drop them. */
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
}
