import { boolean, defineTable, integer, RowOf, text, timestamptz, uuid } from '../database/table';

/** A server-executed button action (SPEC v2 §7): one per (message, button), called once whoever presses. */
export const messageActionTable = defineTable('message_actions', {
  message_id: uuid(),
  button_id: text(),
  action: text(),
  idempotency_key: uuid(),
  attempts: integer().notInserted(),
  /** null while the call is under way */
  ok: boolean().orNull().notInserted(),
  result_message: text().orNull().notInserted(),
  created_at: timestamptz().notInserted(),
  locked_until: timestamptz().orNull(),
  finished_at: timestamptz().orNull().notInserted(),
});

export type MessageActionRow = RowOf<typeof messageActionTable>;
