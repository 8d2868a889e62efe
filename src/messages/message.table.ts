import { bigint, boolean, defineTable, InsertOf, jsonb, RowOf, text, timestamptz, uuid } from '../database/table';
import type { MessageDisplay, MessagePriority } from './message-fields';
import type { MessageEvent } from './message-status';

/** One Custom IM as Smartico sent it, with what the player did with it. */
export const messageTable = defineTable('messages', {
  id: uuid(),
  gateway_id: text(),
  brand: text(),
  im_uid: text(),
  ext_user_id: text(),
  body: text(),
  callback_url: text(),
  extension: jsonb<Record<string, unknown>>().orNull(),
  display: text<MessageDisplay>(),
  priority: text<MessagePriority>(),
  category: text().orNull(),
  expires_at: timestamptz().orNull(),
  body_html: text().orNull(),
  popup_allowed: boolean(),
  group_key: text().orNull(),
  created_at: timestamptz().notInserted(),
  delivered_at: timestamptz().orNull().notInserted(),
  opened_at: timestamptz().orNull().notInserted(),
  clicked_at: timestamptz().orNull().notInserted(),
  read_at: timestamptz().orNull().notInserted(),
  archived_at: timestamptz().orNull().notInserted(),
  failed_at: timestamptz().orNull().notInserted(),
  starred_at: timestamptz().orNull().notInserted(),
  voided_at: timestamptz().orNull().notInserted(),
  void_reason: text().orNull().notInserted(),
  // set by the insert itself (cim_suppression_at) or by a suppression: hidden for good
  suppressed_at: timestamptz().orNull().notInserted(),
  // the last server-executed action's result (SPEC v2 §7), as the view shows it
  action_result: jsonb<{ button_id: string; ok: boolean; message: string; at: string }>().orNull().notInserted(),
});

/** Every state change of a message, written in the transaction that makes it. */
export const messageEventTable = defineTable('message_events', {
  id: bigint().notInserted(),
  message_id: uuid(),
  event: text<MessageEvent>(),
  at: timestamptz(),
  button_id: text().orNull().notInserted(),
});

export type MessageRow = RowOf<typeof messageTable>;
export type NewMessage = InsertOf<typeof messageTable>;
