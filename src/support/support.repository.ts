import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { encodeCursor, InboxCursor } from '../messages/inbox-cursor';
import type { FurthestStatus, SupportRow } from './support.view';

/**
 * The furthest status of a row. Migration 1763820000000 indexes exactly this expression (with
 * created_at, id), so a status search reads only matching rows, newest first; the planner matches
 * the index by expression, so the two must stay identical.
 */
export const FURTHEST_STATUS_SQL = `(CASE WHEN clicked_at IS NOT NULL THEN 'clicked'
  WHEN opened_at IS NOT NULL THEN 'opened'
  WHEN delivered_at IS NOT NULL THEN 'delivered'
  WHEN failed_at IS NOT NULL THEN 'failed'
  ELSE 'accepted' END)`;

const COLUMNS = `id, gateway_id, im_uid, ext_user_id, body, callback_url, extension, display, priority, category,
  expires_at, created_at, delivered_at, opened_at, clicked_at, read_at, archived_at, failed_at, ${FURTHEST_STATUS_SQL} AS status`;

export interface SupportSearch {
  extUserId: string | null;
  imUid: string | null;
  status: FurthestStatus | null;
  /** created_at bounds, both inclusive, in epoch milliseconds */
  fromMs: number | null;
  toMs: number | null;
  cursor: InboxCursor | null;
  limit: number;
}

export interface SqlQuery {
  sql: string;
  params: unknown[];
}

export interface SupportPage {
  rows: SupportRow[];
  nextCursor: string | null;
}

export interface TimelineRow {
  event: string;
  at: Date;
}

export interface CallbackAttemptRow {
  status: string;
  attempted_at: Date;
  http_status: number | null;
  error: string | null;
  duration_ms: number;
}

export interface OutboxRow {
  status: string;
  state: 'pending' | 'sent' | 'dead';
  attempts: number;
  next_attempt_at: Date | null;
  sent_at: Date | null;
  last_error: string | null;
}

// The SQL builders are exported so bench/explain-support.ts checks the plans of exactly these statements.

/** One page of the search, newest first, keyset on (created_at, id); asks for one row more to know if a next page exists. */
export function searchSql(search: SupportSearch): SqlQuery {
  const params: unknown[] = [];
  const param = (value: unknown, type: string): string => `$${params.push(value)}::${type}`;
  const where: string[] = [];
  if (search.extUserId !== null) where.push(`ext_user_id = ${param(search.extUserId, 'text')}`);
  if (search.imUid !== null) where.push(`im_uid = ${param(search.imUid, 'text')}`);
  if (search.status !== null) where.push(`${FURTHEST_STATUS_SQL} = ${param(search.status, 'text')}`);
  // bounds travel as ISO strings of whole milliseconds: exact, and readable in EXPLAIN
  if (search.fromMs !== null) where.push(`created_at >= ${param(new Date(search.fromMs).toISOString(), 'timestamptz')}`);
  // `to` is inclusive at the views' millisecond precision, so a created_at copied from a view matches
  if (search.toMs !== null) where.push(`created_at < ${param(new Date(search.toMs + 1).toISOString(), 'timestamptz')}`);
  if (search.cursor !== null) {
    const createdAt = `timestamptz 'epoch' + ${param(search.cursor.createdUs, 'bigint')} * interval '1 microsecond'`;
    where.push(`(created_at, id) < (${createdAt}, ${param(search.cursor.id, 'uuid')})`);
  }
  const sql = `SELECT ${COLUMNS}, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us
    FROM messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY created_at DESC, id DESC
    LIMIT ${param(search.limit + 1, 'int')}`;
  return { sql, params };
}

export function messageSql(id: string): SqlQuery {
  return { sql: `SELECT ${COLUMNS} FROM messages WHERE id = $1::uuid`, params: [id] };
}

/**
 * Accepted first, then every recorded event in the order written, and `expired` at expires_at once
 * it has passed (nothing records it as an event); all ordered by time.
 */
export function timelineSql(id: string): SqlQuery {
  const sql = `SELECT event, at FROM (
      SELECT 'accepted' AS event, created_at AS at, 0 AS rank, 0::bigint AS seq FROM messages WHERE id = $1::uuid
      UNION ALL
      SELECT 'expired', expires_at, 1, 0 FROM messages
       WHERE id = $1::uuid AND expires_at <= now()
         AND NOT EXISTS (SELECT 1 FROM message_events WHERE message_id = $1::uuid AND event = 'expired')
      UNION ALL
      SELECT event, at, 2, id FROM message_events WHERE message_id = $1::uuid
    ) AS timeline
    ORDER BY at, rank, seq`;
  return { sql, params: [id] };
}

/** Every attempt at every status callback of the message, oldest first. */
export function callbackAttemptsSql(id: string): SqlQuery {
  const sql = `SELECT c.status, a.attempted_at, a.http_status, a.error, a.duration_ms
      FROM callbacks c JOIN callback_attempts a ON a.callback_id = c.id
     WHERE c.message_id = $1::uuid
     ORDER BY a.attempted_at, a.id`;
  return { sql, params: [id] };
}

/** The outbox rows of the message in funnel order; next_attempt_at only means something while pending. */
export function outboxSql(id: string): SqlQuery {
  const sql = `SELECT status, state, attempts, CASE WHEN state = 'pending' THEN next_attempt_at END AS next_attempt_at, sent_at, last_error
      FROM callbacks WHERE message_id = $1::uuid
     ORDER BY funnel_rank`;
  return { sql, params: [id] };
}

export function lastSeenSql(extUserId: string): SqlQuery {
  return { sql: `SELECT last_seen_at FROM player_presence WHERE ext_user_id = $1::text`, params: [extUserId] };
}

/** Read-only queries of the support API over every message, whatever its state or player. */
@Injectable()
export class SupportRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async search(search: SupportSearch): Promise<SupportPage> {
    const rows: Array<SupportRow & { created_us: string }> = await this.run(searchSql(search));
    const page = rows.slice(0, search.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > search.limit && last ? encodeCursor({ createdUs: last.created_us, id: last.id }) : null;
    return { rows: page.map(({ created_us: _createdUs, ...row }) => row), nextCursor };
  }

  async findMessage(id: string): Promise<SupportRow | null> {
    const rows: SupportRow[] = await this.run(messageSql(id));
    return rows[0] ?? null;
  }

  /**
   * A message with its timeline, attempts and outbox, read from one snapshot: separate reads could
   * show a callback as sent without the attempt that sent it.
   */
  messageDetail(id: string): Promise<{ row: SupportRow; timeline: TimelineRow[]; attempts: CallbackAttemptRow[]; outbox: OutboxRow[] } | null> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const run = <T>(query: SqlQuery): Promise<T> => manager.query(query.sql, query.params);
      const [row] = await run<SupportRow[]>(messageSql(id));
      if (row === undefined) return null;
      return {
        row,
        timeline: await run<TimelineRow[]>(timelineSql(id)),
        attempts: await run<CallbackAttemptRow[]>(callbackAttemptsSql(id)),
        outbox: await run<OutboxRow[]>(outboxSql(id)),
      };
    });
  }

  async lastSeen(extUserId: string): Promise<Date | null> {
    const rows: Array<{ last_seen_at: Date }> = await this.run(lastSeenSql(extUserId));
    return rows[0]?.last_seen_at ?? null;
  }

  private run<T>(query: SqlQuery): Promise<T> {
    return this.dataSource.query(query.sql, query.params);
  }
}
