import type { MessageRow } from '../messages/message.table';
import type { MessageView } from '../messages/message.view';
import type { FurthestStatus } from '../messages/message-status';

/** A messages row with its furthest status, computed by the database (SupportRepository). */
export interface SupportRow extends MessageRow {
  status: FurthestStatus;
}

/** What support staff see of a message (SPEC §5): the player's view plus where it came from and got to. */
export interface SupportMessageView extends MessageView {
  ext_user_id: string;
  brand: string;
  gateway_id: string;
  status: FurthestStatus;
  archived_at: string | null;
  callback_url: string;
  /** when the operator took it back (SPEC v2 §7), and why */
  voided_at: string | null;
  void_reason: string | null;
  /** extension.group, what a void by group matches */
  group: string | null;
  /** hidden by a responsible-gambling suppression (SPEC v2 §7) */
  suppressed: boolean;
}

export function toSupportView(row: SupportRow, view: MessageView): SupportMessageView {
  return {
    ...view,
    ext_user_id: row.ext_user_id,
    brand: row.brand,
    gateway_id: row.gateway_id,
    status: row.status,
    archived_at: row.archived_at === null ? null : row.archived_at.toISOString(),
    callback_url: row.callback_url,
    voided_at: row.voided_at === null ? null : row.voided_at.toISOString(),
    void_reason: row.void_reason,
    group: row.group_key,
    suppressed: row.suppressed_at !== null,
  };
}
