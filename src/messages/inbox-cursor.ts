import { isUuid } from '../common/uuid';

// microseconds, PostgreSQL's precision: a JS Date would round to milliseconds and skip or repeat rows
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

export const CREATED_US_SQL = `(extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us`;

export function keysetSql(operator: '<' | '>', cursor: InboxCursor, param: (value: unknown, type: string) => string): string {
  const createdAt = `timestamptz 'epoch' + ${param(cursor.createdUs, 'bigint')} * interval '1 microsecond'`;
  return `(created_at, id) ${operator} (${createdAt}, ${param(cursor.id, 'uuid')})`;
}

export interface KeysetPage<R> {
  rows: R[];
  nextCursor: string | null;
}

// `limit + 1` rows: the extra one says another page follows
export function toKeysetPage<R extends { id: string }>(rows: Array<R & { created_us: string }>, limit: number): KeysetPage<R> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor({ createdUs: last.created_us, id: last.id }) : null;
  return { rows: page.map(({ created_us: _createdUs, ...row }) => row as unknown as R), nextCursor };
}
