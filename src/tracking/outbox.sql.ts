import type { SqlQuery } from '../database/named-query';
import { CALLBACK_STATUS_LIST_SQL, funnelRankSql } from '../messages/message-status';
import { callbackTable } from './callback.table';

/** For the statements that change a message's state: `eventsSql` yields (message_id, event) rows. */
export const enqueueCallbacksSql = (eventsSql: string): string => `
  INSERT INTO ${callbackTable.name} (${callbackTable.list(callbackTable.inserted)})
  SELECT message_id, event, ${funnelRankSql('event')}
    FROM (${eventsSql}) AS e(message_id, event)
   WHERE event IN ${CALLBACK_STATUS_LIST_SQL}
  ON CONFLICT (message_id, status) DO NOTHING`;

// the claim itself is migration 1763840000000's function (see README.md, "The outbox")
export const CLAIM_CALLBACKS = { name: 'cim_claim_callbacks', text: 'SELECT * FROM cim_claim_callbacks($1, $2)' };

export const RELEASE_CLAIMS = `UPDATE callbacks SET locked_until = NULL, attempts = attempts - 1 WHERE id = ANY($1::bigint[]) AND state = 'pending'`;

// a retry also pushes the later statuses of its message back to its own next attempt
export const RECORD_ATTEMPTS = {
  name: 'cim_record_attempts',
  text: `WITH input AS (
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
};

export const REQUEUE_DEAD = `UPDATE callbacks SET state = 'pending', next_attempt_at = now(), window_started_at = now(), locked_until = NULL
        WHERE message_id = $1 AND state = 'dead'
        RETURNING id`;

export const COUNTS = `SELECT (SELECT count(*) FROM callbacks WHERE state = 'pending')::int AS pending,
              (SELECT count(*) FROM callbacks WHERE state = 'dead')::int AS dead,
              COALESCE((SELECT extract(epoch FROM now() - min(next_attempt_at)) FROM callbacks
                         WHERE state = 'pending' AND next_attempt_at <= now()), 0)::float8 AS "lagSeconds"`;

export function callbackAttemptsSql(id: string): SqlQuery {
  const sql = `SELECT c.status, a.attempted_at, a.http_status, a.error, a.duration_ms
      FROM callbacks c JOIN callback_attempts a ON a.callback_id = c.id
     WHERE c.message_id = $1::uuid
     ORDER BY a.attempted_at, a.id`;
  return { sql, params: [id] };
}

export function outboxSql(id: string): SqlQuery {
  const sql = `SELECT status, state, attempts, CASE WHEN state = 'pending' THEN next_attempt_at END AS next_attempt_at, sent_at, last_error
      FROM callbacks WHERE message_id = $1::uuid
     ORDER BY funnel_rank`;
  return { sql, params: [id] };
}
