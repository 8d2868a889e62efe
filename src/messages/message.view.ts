import { toIso } from '../common/iso-time';
import type { MessageRow } from './message.table';
import type { MessageDisplay, MessagePriority } from './message-fields';

export type { MessageRow } from './message.table';

/** A button of the view (SPEC v2 §3): `link` is the tracked URL of a url button, `action` what the server runs. */
export interface ButtonView {
  id: string;
  text: string;
  link: string | null;
  action: string | null;
}

/** The outcome of a server-executed button action (SPEC §7). */
export interface ActionResult {
  button_id: string;
  ok: boolean;
  message: string;
  at: string;
}

/** What the view adds to a row: its tracked links, and whether this delivery shows as a popup. */
export interface ViewExtras {
  ctaLink: string | null;
  buttons: ButtonView[];
  popup: boolean;
}

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
  /** extension.body_html as sanitized at ingest */
  body_html: string | null;
  buttons: ButtonView[];
  starred_at: string | null;
  popup: boolean;
  action_result: ActionResult | null;
}

export function toMessageView(row: MessageRow, extras: ViewExtras): MessageView {
  return {
    id: row.id,
    im_uid: row.im_uid,
    body: row.body,
    // the raw rich body never leaves the server (SPEC v2 §2): body_html carries it sanitized
    extension: withoutRawHtml(row.extension),
    display: row.display,
    priority: row.priority,
    category: row.category,
    cta_link: extras.ctaLink,
    created_at: row.created_at.toISOString(),
    delivered_at: toIso(row.delivered_at),
    opened_at: toIso(row.opened_at),
    clicked_at: toIso(row.clicked_at),
    read_at: toIso(row.read_at),
    expires_at: toIso(row.expires_at),
    body_html: row.body_html,
    buttons: extras.buttons,
    starred_at: toIso(row.starred_at),
    popup: extras.popup,
    // server-executed actions (SPEC §7) are not built yet: no message has a result
    // stored as the database wrote the time: shown as every other timestamp is
    action_result: row.action_result === null ? null : { ...row.action_result, at: new Date(row.action_result.at).toISOString() },
  };
}

function withoutRawHtml(extension: Record<string, unknown> | null): Record<string, unknown> | null {
  if (extension === null || !Object.prototype.hasOwnProperty.call(extension, 'body_html')) return extension;
  const { body_html: _raw, ...rest } = extension;
  return rest;
}
