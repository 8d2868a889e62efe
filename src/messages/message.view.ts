import { toIso } from '../common/iso-time';
import type { MessageRow } from './message.table';
import type { MessageDisplay, MessagePriority } from './message-fields';

export type { MessageRow } from './message.table';

/** What players' clients get (SPEC §3). `id` is the ext_message_id Smartico knows. */
export interface MessageView {
  id: string;
  im_uid: string;
  body: string;
  extension: Record<string, unknown> | null;
  display: MessageDisplay;
  priority: MessagePriority;
  category: string | null;
  cta_link: string | null;
  created_at: string;
  delivered_at: string | null;
  opened_at: string | null;
  clicked_at: string | null;
  read_at: string | null;
  expires_at: string | null;
}

export function toMessageView(row: MessageRow, ctaLink: string | null): MessageView {
  return {
    id: row.id,
    im_uid: row.im_uid,
    body: row.body,
    extension: row.extension,
    display: row.display,
    priority: row.priority,
    category: row.category,
    cta_link: ctaLink,
    created_at: row.created_at.toISOString(),
    delivered_at: toIso(row.delivered_at),
    opened_at: toIso(row.opened_at),
    clicked_at: toIso(row.clicked_at),
    read_at: toIso(row.read_at),
    expires_at: toIso(row.expires_at),
  };
}
