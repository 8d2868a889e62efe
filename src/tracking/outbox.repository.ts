import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

import { namedQuery, SqlQuery } from '../database/named-query';
import type { MessageRow } from '../messages/message.table';
import type { CallbackAttemptRow, CallbackRow } from './callback.table';
import { callbackAttemptsSql, CLAIM_CALLBACKS, COUNTS, outboxSql, RECORD_ATTEMPTS, RELEASE_CLAIMS, REQUEUE_DEAD } from './outbox.sql';

export type ClaimedCallback = Pick<CallbackRow, 'id' | 'message_id' | 'status' | 'attempts' | 'window_started_at'> &
  Pick<MessageRow, 'callback_url' | 'gateway_id'>;

export interface AttemptRecord {
  callbackId: string;
  attemptedAt: Date;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  /** sent: done; retry: try again at `nextAttemptAt`; dead: given up */
  outcome: { state: 'sent' } | { state: 'retry'; nextAttemptAt: Date } | { state: 'dead' };
}

export interface CallbackCounts {
  pending: number;
  dead: number;
  /** age of the oldest callback that is due and not yet sent, in seconds (0 when none) */
  lagSeconds: number;
}

export type AttemptEntry = Pick<CallbackRow, 'status'> & Pick<CallbackAttemptRow, 'attempted_at' | 'http_status' | 'error' | 'duration_ms'>;
export type OutboxEntry = Pick<CallbackRow, 'status' | 'state' | 'attempts' | 'sent_at' | 'last_error'> & { next_attempt_at: Date | null };

/** README.md, "The outbox". */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  claimDue(limit: number, leaseMs: number): Promise<ClaimedCallback[]> {
    return namedQuery<ClaimedCallback>(this.dataSource, CLAIM_CALLBACKS, [limit, leaseMs]);
  }

  /** At shutdown: unsent claims are due again at once, elsewhere. */
  async releaseClaims(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(RELEASE_CLAIMS, [ids]);
  }

  async recordAttempts(records: AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    await namedQuery(this.dataSource, RECORD_ATTEMPTS, [
      records.map((record) => record.callbackId),
      records.map((record) => record.attemptedAt),
      records.map((record) => record.httpStatus),
      records.map((record) => record.error),
      records.map((record) => record.durationMs),
      records.map((record) => (record.outcome.state === 'retry' ? 'pending' : record.outcome.state)),
      records.map((record) => (record.outcome.state === 'retry' ? record.outcome.nextAttemptAt : null)),
    ]);
  }

  async requeueDead(messageId: string): Promise<number> {
    const [rows]: [unknown[], number] = await this.dataSource.query(REQUEUE_DEAD, [messageId]);
    return rows.length;
  }

  async counts(): Promise<CallbackCounts> {
    const rows: CallbackCounts[] = await this.dataSource.query(COUNTS);
    return rows[0];
  }

  // `manager`: within the caller's transaction
  attemptsOf(messageId: string, manager: EntityManager = this.dataSource.manager): Promise<AttemptEntry[]> {
    return run(manager, callbackAttemptsSql(messageId));
  }

  entriesOf(messageId: string, manager: EntityManager = this.dataSource.manager): Promise<OutboxEntry[]> {
    return run(manager, outboxSql(messageId));
  }
}

function run<T>(manager: EntityManager, query: SqlQuery): Promise<T> {
  return manager.query(query.sql, query.params);
}
