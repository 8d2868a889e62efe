import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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
}

/** The callbacks outbox: claiming due work under a lease, recording attempts, re-queueing the dead. */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` due callbacks for `leaseMs`: a claimed row is invisible to every other
   * instance until the lease ends (a crashed sender's work comes back after it). A status waits
   * while an earlier one of the same message is still pending, so Smartico hears the funnel in
   * order. The queue head is read through its index first and only then checked for the funnel,
   * so a claim costs the same with 10 or 10 million callbacks queued; waiting statuses do not
   * clog the head because a retry pushes its later siblings back with it (recordAttempt).
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedCallback[]> {
    const [rows]: [ClaimedCallback[], number] = await this.dataSource.query(
      `WITH head AS MATERIALIZED (
         SELECT id, message_id, funnel_rank FROM callbacks
          WHERE state = 'pending' AND next_attempt_at <= now()
            AND (locked_until IS NULL OR locked_until < now())
          ORDER BY next_attempt_at, id
          LIMIT $1 * 4
       ), due AS (
         -- re-tested on the row itself: after SKIP LOCKED takes the lock, PostgreSQL re-checks these
         -- against the latest version, so a row another instance claimed meanwhile drops out
         SELECT c.id FROM callbacks c JOIN head ON head.id = c.id
          WHERE c.state = 'pending' AND (c.locked_until IS NULL OR c.locked_until < now())
            AND NOT EXISTS (
                  SELECT 1 FROM callbacks earlier
                   WHERE earlier.message_id = head.message_id AND earlier.state = 'pending' AND earlier.funnel_rank < head.funnel_rank)
          ORDER BY c.next_attempt_at, c.id
          LIMIT $1
          FOR UPDATE OF c SKIP LOCKED
       )
       UPDATE callbacks c
          SET locked_until = now() + $2 * interval '1 millisecond', attempts = c.attempts + 1
         FROM due, messages m
        WHERE c.id = due.id AND m.id = c.message_id AND c.state = 'pending'
       RETURNING c.id::text AS id, c.message_id, c.status, c.attempts, c.window_started_at, m.callback_url, m.gateway_id`,
      [limit, leaseMs],
    );
    return rows;
  }

  /**
   * Records one attempt and its outcome together. A retry also moves the later statuses of the
   * same message back to at least its own next attempt: they cannot go before it anyway.
   */
  async recordAttempt(record: AttemptRecord): Promise<void> {
    const { outcome } = record;
    await this.dataSource.query(
      `WITH attempt AS (
         INSERT INTO callback_attempts (callback_id, attempted_at, http_status, error, duration_ms) VALUES ($1, $2, $3, $4, $5)
       ), updated AS (
         UPDATE callbacks SET
           state = $6,
           locked_until = NULL,
           sent_at = CASE WHEN $6 = 'sent' THEN now() ELSE sent_at END,
           next_attempt_at = COALESCE($7, next_attempt_at),
           last_error = $4
         WHERE id = $1
         RETURNING message_id, funnel_rank
       )
       UPDATE callbacks later SET next_attempt_at = $7
         FROM updated
        WHERE $7::timestamptz IS NOT NULL AND later.message_id = updated.message_id
          AND later.funnel_rank > updated.funnel_rank AND later.state = 'pending' AND later.next_attempt_at < $7`,
      [
        record.callbackId,
        record.attemptedAt,
        record.httpStatus,
        record.error,
        record.durationMs,
        outcome.state === 'retry' ? 'pending' : outcome.state,
        outcome.state === 'retry' ? outcome.nextAttemptAt : null,
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
    const rows: Array<{ pending: number; dead: number }> = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'dead')::int AS dead
         FROM callbacks WHERE state <> 'sent'`,
    );
    return rows[0];
  }
}
