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

/** An attempt at one of a message's callbacks, for support. */
export type AttemptEntry = Pick<CallbackRow, 'status'> & Pick<CallbackAttemptRow, 'attempted_at' | 'http_status' | 'error' | 'duration_ms'>;
/** A message's callback as support sees it; next_attempt_at is null unless pending. */
export type OutboxEntry = Pick<CallbackRow, 'status' | 'state' | 'attempts' | 'sent_at' | 'last_error'> & { next_attempt_at: Date | null };

/** The callbacks outbox (README.md, "The outbox"): claiming due work under a lease, recording attempts, re-queueing the dead. */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Claims up to `limit` due callbacks for `leaseMs`, the funnel kept in order. */
  claimDue(limit: number, leaseMs: number): Promise<ClaimedCallback[]> {
    return namedQuery<ClaimedCallback>(this.dataSource, CLAIM_CALLBACKS, [limit, leaseMs]);
  }

  /** Gives back claims that were never sent (at shutdown): they are due again at once, elsewhere. */
  async releaseClaims(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(RELEASE_CLAIMS, [ids]);
  }

  /** Records attempts and their outcomes, many in one statement (one commit for a whole wave of sends). */
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

  /** Puts a message's dead callbacks back in the queue with a fresh retry window; returns how many. */
  async requeueDead(messageId: string): Promise<number> {
    const [rows]: [unknown[], number] = await this.dataSource.query(REQUEUE_DEAD, [messageId]);
    return rows.length;
  }

  async counts(): Promise<CallbackCounts> {
    const rows: CallbackCounts[] = await this.dataSource.query(COUNTS);
    return rows[0];
  }

  /** Every attempt at the message's callbacks, oldest first; `manager` reads within a caller's transaction. */
  attemptsOf(messageId: string, manager: EntityManager = this.dataSource.manager): Promise<AttemptEntry[]> {
    return run(manager, callbackAttemptsSql(messageId));
  }

  /** The message's callbacks in funnel order. */
  entriesOf(messageId: string, manager: EntityManager = this.dataSource.manager): Promise<OutboxEntry[]> {
    return run(manager, outboxSql(messageId));
  }
}

function run<T>(manager: EntityManager, query: SqlQuery): Promise<T> {
  return manager.query(query.sql, query.params);
}
