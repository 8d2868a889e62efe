import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { SqlQuery } from '../database/named-query';
import { CREATED_US_SQL, InboxCursor, KeysetPage, keysetSql, toKeysetPage } from '../messages/inbox-cursor';
import { messageTable } from '../messages/message.table';
import { FURTHEST_STATUS_SQL, FurthestStatus } from '../messages/message-status';
import { AttemptEntry, OutboxEntry, OutboxRepository } from '../tracking/outbox.repository';
import type { SupportRow } from './support.view';

// a message a suppression kept from the player failed as far as the columns go; Smartico heard `rejected`
const REJECTED_SQL = `(suppressed_at IS NOT NULL AND failed_at IS NOT NULL)`;
const COLUMNS = `${messageTable.list()}, CASE WHEN ${REJECTED_SQL} THEN 'rejected' ELSE ${FURTHEST_STATUS_SQL} END AS status`;

export interface SupportSearch {
  /** null: every brand */
  brand: string | null;
  extUserId: string | null;
  imUid: string | null;
  status: FurthestStatus | null;
  /** created_at bounds, both inclusive, in epoch milliseconds */
  fromMs: number | null;
  toMs: number | null;
  cursor: InboxCursor | null;
  limit: number;
}

export interface TimelineRow {
  event: string;
  at: Date;
  /** the button a `clicked` came from */
  button_id: string | null;
}

export interface SupportDetail {
  row: SupportRow;
  timeline: TimelineRow[];
  attempts: AttemptEntry[];
  outbox: OutboxEntry[];
}

// the builders are exported so bench/explain-support.ts checks the plans of exactly these statements

export function searchSql(search: SupportSearch): SqlQuery {
  const params: unknown[] = [];
  const param = (value: unknown, type: string): string => `$${params.push(value)}::${type}`;
  const where: string[] = [];
  if (search.brand !== null) where.push(`brand = ${param(search.brand, 'text')}`);
  if (search.extUserId !== null) where.push(`ext_user_id = ${param(search.extUserId, 'text')}`);
  if (search.imUid !== null) where.push(`im_uid = ${param(search.imUid, 'text')}`);
  // the furthest status keeps its index: `rejected` and `failed` are told apart among its `failed` rows
  if (search.status === 'rejected') where.push(`${FURTHEST_STATUS_SQL} = ${param('failed', 'text')} AND ${REJECTED_SQL}`);
  else if (search.status === 'failed') where.push(`${FURTHEST_STATUS_SQL} = ${param('failed', 'text')} AND NOT ${REJECTED_SQL}`);
  else if (search.status !== null) where.push(`${FURTHEST_STATUS_SQL} = ${param(search.status, 'text')}`);
  // bounds travel as ISO strings of whole milliseconds: exact, and readable in EXPLAIN
  if (search.fromMs !== null) where.push(`created_at >= ${param(new Date(search.fromMs).toISOString(), 'timestamptz')}`);
  // `to` is inclusive at the views' millisecond precision, so a created_at copied from a view matches
  if (search.toMs !== null) where.push(`created_at < ${param(new Date(search.toMs + 1).toISOString(), 'timestamptz')}`);
  if (search.cursor !== null) where.push(keysetSql('<', search.cursor, param));
  const sql = `SELECT ${COLUMNS}, ${CREATED_US_SQL}
    FROM messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY created_at DESC, id DESC
    LIMIT ${param(search.limit + 1, 'int')}`;
  return { sql, params };
}

/** null brand: any brand's message */
export function messageSql(id: string, brand: string | null = null): SqlQuery {
  return { sql: `SELECT ${COLUMNS} FROM messages WHERE id = $1::uuid AND ($2::text IS NULL OR brand = $2::text)`, params: [id, brand] };
}

// nothing records `expired` as an event: it is read from expires_at
export function timelineSql(id: string): SqlQuery {
  const sql = `SELECT event, at, button_id FROM (
      SELECT 'accepted' AS event, created_at AS at, 0 AS rank, 0::bigint AS seq, NULL::text AS button_id FROM messages WHERE id = $1::uuid
      UNION ALL
      SELECT 'expired', expires_at, 1, 0, NULL FROM messages
       WHERE id = $1::uuid AND expires_at <= now()
         AND NOT EXISTS (SELECT 1 FROM message_events WHERE message_id = $1::uuid AND event = 'expired')
      UNION ALL
      SELECT event, at, 2, id, button_id FROM message_events WHERE message_id = $1::uuid
    ) AS timeline
    ORDER BY at, rank, seq`;
  return { sql, params: [id] };
}

@Injectable()
export class SupportRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
  ) {}

  async search(search: SupportSearch): Promise<KeysetPage<SupportRow>> {
    const query = searchSql(search);
    return toKeysetPage(await this.dataSource.query(query.sql, query.params), search.limit);
  }

  async findMessage(id: string, brand: string | null): Promise<SupportRow | null> {
    const query = messageSql(id, brand);
    const rows: SupportRow[] = await this.dataSource.query(query.sql, query.params);
    return rows[0] ?? null;
  }

  // one snapshot: separate reads could show a callback as sent without the attempt that sent it
  messageDetail(id: string, brand: string | null): Promise<SupportDetail | null> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const run = <T>(query: SqlQuery): Promise<T> => manager.query(query.sql, query.params);
      const [row] = await run<SupportRow[]>(messageSql(id, brand));
      if (row === undefined) return null;
      return {
        row,
        timeline: await run<TimelineRow[]>(timelineSql(id)),
        attempts: await this.outbox.attemptsOf(id, manager),
        outbox: await this.outbox.entriesOf(id, manager),
      };
    });
  }
}
