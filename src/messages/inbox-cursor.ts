import { isUuid } from '../common/uuid';
/**
 * Keyset cursor over (created_at DESC, id DESC). created_at travels as integer microseconds since
 * the epoch (PostgreSQL's precision; a JS Date would round to milliseconds and skip or repeat rows).
 */
export interface InboxCursor {
  createdUs: string;
  id: string;
}

export function encodeCursor(cursor: InboxCursor): string {
  return Buffer.from(`${cursor.createdUs}.${cursor.id}`, 'utf8').toString('base64url');
}

/** null when the cursor is not one we made */
export function decodeCursor(value: string): InboxCursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return null;
  const [createdUs, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('.');
  if (rest.length > 0 || !/^\d{1,17}$/.test(createdUs ?? '') || !isUuid(id)) return null;
  return { createdUs, id };
}
