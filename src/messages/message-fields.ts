import type { NewMessage } from './message.table';

export type MessageDisplay = 'popup' | 'inbox' | 'both';
export type MessagePriority = 'high' | 'normal';

export type WellKnownFields = Pick<NewMessage, 'display' | 'priority' | 'category' | 'expires_at'>;

const DISPLAYS: readonly string[] = ['popup', 'inbox', 'both'];
// ISO 8601 date-time with an explicit offset (or Z); a bare date means midnight UTC
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;

// template fields are operator-defined: a value of the wrong shape falls back to the default, the message is kept
export function readWellKnownFields(extension: Record<string, unknown> | undefined): WellKnownFields {
  const display = extension?.display;
  const priority = extension?.priority;
  const category = extension?.category;
  return {
    display: typeof display === 'string' && DISPLAYS.includes(display) ? (display as MessageDisplay) : 'both',
    priority: priority === 'high' ? 'high' : 'normal',
    category: typeof category === 'string' && category.length > 0 ? category.slice(0, 255) : null,
    expires_at: parseExpiry(extension?.expires_at),
  };
}

function parseExpiry(value: unknown): Date | null {
  if (typeof value !== 'string' || !ISO_8601.test(value.trim())) return null;
  const date = new Date(value.trim());
  return Number.isNaN(date.getTime()) ? null : date;
}
