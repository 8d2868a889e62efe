import { bigint, defineTable, integer, RowOf, smallint, text, timestamptz, uuid } from '../database/table';
import type { CallbackStatus } from '../messages/message-status';

export const CALLBACK_STATES = ['pending', 'sent', 'dead'] as const;
export type CallbackState = (typeof CALLBACK_STATES)[number];

/** The transactional outbox of status callbacks to Smartico: one row per (message, status). */
export const callbackTable = defineTable('callbacks', {
  id: bigint().notInserted(),
  message_id: uuid(),
  status: text<CallbackStatus>(),
  funnel_rank: smallint(),
  state: text<CallbackState>().notInserted(),
  attempts: integer().notInserted(),
  created_at: timestamptz().notInserted(),
  // retries stop CALLBACK_RETRY_WINDOW_MS after this; a re-queue of a dead callback restarts it
  window_started_at: timestamptz().notInserted(),
  next_attempt_at: timestamptz().notInserted(),
  locked_until: timestamptz().orNull().notInserted(),
  sent_at: timestamptz().orNull().notInserted(),
  last_error: text().orNull().notInserted(),
});

export const callbackAttemptTable = defineTable('callback_attempts', {
  id: bigint().notInserted(),
  callback_id: bigint(),
  attempted_at: timestamptz(),
  http_status: integer().orNull(),
  error: text().orNull(),
  duration_ms: integer(),
});

export type CallbackRow = RowOf<typeof callbackTable>;
export type CallbackAttemptRow = RowOf<typeof callbackAttemptTable>;
