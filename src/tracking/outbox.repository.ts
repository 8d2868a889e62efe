import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { namedQuery } from '../database/named-query';
import type { CallbackStatus } from './callback-url';

export interface ClaimedCallback {
  id: string;
  message_id: string;
  status: CallbackStatus;
  attempts: number;
  window_started_at: Date;
  callback_url: string;
  gateway_id: string;
}

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

/** The callbacks outbox: claiming due work under a lease, recording attempts, re-queueing the dead. */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` due callbacks for `leaseMs`: a claimed row is invisible to every other
   * instance until the lease ends (a crashed sender's work comes back after it). A status waits
   * while an earlier one of the same message is still pending, so Smartico hears the funnel in
   * order. The queue is walked in its index order and stops after `limit` rows (the funnel check is
   * a per-row probe of the (message_id, status) key — `OFFSET 0` keeps PostgreSQL from turning it
   * into a hash anti-join over the whole queue, and `NOT IN ('sent', 'dead')` rather than
   * `= 'pending'` keeps it off the partial queue index), so a claim costs the same with 10 or 10 million callbacks queued; waiting
   * statuses do not clog the head because a retry pushes its later siblings back with it
   * (recordAttempts). SKIP LOCKED re-checks every condition on the locked row's latest version, so
   * a row another instance claimed meanwhile drops out.
   */
  claimDue(limit: number, leaseMs: number): Promise<ClaimedCallback[]> {
    // the statement itself is cim_claim_callbacks (migration 1763840000000): one round trip, a
    // kept plan, and the queue index forced whatever the statistics say
    return namedQuery<ClaimedCallback>(this.dataSource, 'cim_claim_callbacks', 'SELECT * FROM cim_claim_callbacks($1, $2)', [limit, leaseMs]);
  }

  /** Gives back claims that were never sent (at shutdown): they are due again at once, elsewhere. */
  async releaseClaims(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(`UPDATE callbacks SET locked_until = NULL, attempts = attempts - 1 WHERE id = ANY($1::bigint[]) AND state = 'pending'`, [ids]);
  }

  /**
   * Records attempts and their outcomes, many in one statement (one commit for a whole wave of
   * sends). A retry also moves the later statuses of the same message back to at least its own
   * next attempt: they cannot go before it anyway.
   */
  async recordAttempts(records: AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    await namedQuery(
      this.dataSource,
      'cim_record_attempts',
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::text[], $5::int[], $6::text[], $7::timestamptz[])
           AS t(callback_id, attempted_at, http_status, error, duration_ms, state, next_attempt_at)
       ), attempts AS (
         INSERT INTO callback_attempts (callback_id, attempted_at, http_status, error, duration_ms)
         SELECT callback_id, attempted_at, http_status, error, duration_ms FROM input
       ), updated AS (
         UPDATE callbacks c SET
           state = i.state,
           locked_until = NULL,
           sent_at = CASE WHEN i.state = 'sent' THEN now() ELSE c.sent_at END,
           next_attempt_at = COALESCE(i.next_attempt_at, c.next_attempt_at),
           last_error = i.error
         FROM input i
         WHERE c.id = i.callback_id
         RETURNING c.message_id, c.funnel_rank, i.next_attempt_at
       )
       UPDATE callbacks later SET next_attempt_at = u.next_attempt_at
         FROM updated u
        WHERE u.next_attempt_at IS NOT NULL AND later.message_id = u.message_id
          AND later.funnel_rank > u.funnel_rank AND later.state = 'pending' AND later.next_attempt_at < u.next_attempt_at`,
      [
        records.map((record) => record.callbackId),
        records.map((record) => record.attemptedAt),
        records.map((record) => record.httpStatus),
        records.map((record) => record.error),
        records.map((record) => record.durationMs),
        records.map((record) => (record.outcome.state === 'retry' ? 'pending' : record.outcome.state)),
        records.map((record) => (record.outcome.state === 'retry' ? record.outcome.nextAttemptAt : null)),
      ],
    );
  }

  /** Puts a message's dead callbacks back in the queue with a fresh retry window; returns how many. */
  async requeueDead(messageId: string): Promise<number> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `UPDATE callbacks SET state = 'pending', next_attempt_at = now(), window_started_at = now(), locked_until = NULL
        WHERE message_id = $1 AND state = 'dead'
        RETURNING id`,
      [messageId],
    );
    return rows.length;
  }

  async counts(): Promise<CallbackCounts> {
    const rows: CallbackCounts[] = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM callbacks WHERE state = 'pending')::int AS pending,
              (SELECT count(*) FROM callbacks WHERE state = 'dead')::int AS dead,
              COALESCE((SELECT extract(epoch FROM now() - min(next_attempt_at)) FROM callbacks
                         WHERE state = 'pending' AND next_attempt_at <= now()), 0)::float8 AS "lagSeconds"`,
    );
    return rows[0];
  }
}
