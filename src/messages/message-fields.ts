import { parseIso8601 } from '../common/iso-8601';

export type MessageDisplay = 'popup' | 'inbox' | 'both';
export type MessagePriority = 'high' | 'normal';

export interface WellKnownFields {
  display: MessageDisplay;
  priority: MessagePriority;
  category: string | null;
  expiresAt: Date | null;
}

const DISPLAYS: readonly string[] = ['popup', 'inbox', 'both'];

/**
 * Reads the well-known `extension` keys that drive behaviour (SPEC §2). Smartico template fields
 * are operator-defined, so a value of the wrong shape falls back to the default instead of
 * refusing the message: the whole extension is still kept and handed to clients untouched.
 */
export function readWellKnownFields(extension: Record<string, unknown> | undefined): WellKnownFields {
  const display = extension?.display;
  const priority = extension?.priority;
  const category = extension?.category;
  return {
    display: typeof display === 'string' && DISPLAYS.includes(display) ? (display as MessageDisplay) : 'both',
    priority: priority === 'high' ? 'high' : 'normal',
    category: typeof category === 'string' && category.length > 0 ? category.slice(0, 255) : null,
    expiresAt: parseExpiry(extension?.expires_at),
  };
}

// a date-time must name its zone: the operator's local time is unknown here
function parseExpiry(value: unknown): Date | null {
  const ms = typeof value === 'string' ? parseIso8601(value.trim(), { timeWithoutZone: 'refuse' }) : null;
  return ms === null ? null : new Date(ms);
}
