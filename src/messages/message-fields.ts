import { parseIso8601 } from '../common/iso-8601';
import type { NewMessage } from './message.table';
import { sanitizeRichBody } from './rich-body';

export type MessageDisplay = 'popup' | 'inbox' | 'both';
export type MessagePriority = 'high' | 'normal';

export type WellKnownFields = Pick<NewMessage, 'display' | 'priority' | 'category' | 'expires_at' | 'body_html' | 'group_key'>;

const DISPLAYS: readonly string[] = ['popup', 'inbox', 'both'];

// template fields are operator-defined: a value of the wrong shape falls back to the default, the message is kept
export function readWellKnownFields(extension: Record<string, unknown> | undefined): WellKnownFields {
  const display = extension?.display;
  const priority = extension?.priority;
  const category = extension?.category;
  const group = extension?.group;
  return {
    display: typeof display === 'string' && DISPLAYS.includes(display) ? (display as MessageDisplay) : 'both',
    priority: priority === 'high' ? 'high' : 'normal',
    category: typeof category === 'string' && category.length > 0 ? category.slice(0, 255) : null,
    expires_at: parseExpiry(extension?.expires_at),
    body_html: sanitizeRichBody(extension?.body_html),
    group_key: typeof group === 'string' && group.length > 0 ? group.slice(0, 255) : null,
  };
}

// a date-time must name its zone: the operator's local time is unknown here
function parseExpiry(value: unknown): Date | null {
  const ms = typeof value === 'string' ? parseIso8601(value.trim(), { timeWithoutZone: 'refuse' }) : null;
  return ms === null ? null : new Date(ms);
}
