import type { QueryRunner } from 'typeorm';

import { CreateSupportStatusIndex1763820000000 } from '../database/migrations/1763820000000-CreateSupportStatusIndex';
import { FURTHEST_STATUS_SQL } from '../messages/message-status';
import { searchSql, SupportSearch } from './support.repository';

const squash = (sql: string): string => sql.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();

describe('support search SQL', () => {
  const none: SupportSearch = { brand: null, extUserId: null, imUid: null, status: null, fromMs: null, toMs: null, cursor: null, limit: 50 };

  it('filters status by the very expression the status index is built on (the planner matches them textually)', async () => {
    const statements: string[] = [];
    const runner = { query: (sql: string) => Promise.resolve(void statements.push(sql)) } as unknown as QueryRunner;
    await new CreateSupportStatusIndex1763820000000().up(runner);
    expect(squash(statements.join(' '))).toContain(squash(`ON messages (${FURTHEST_STATUS_SQL}, created_at DESC, id DESC)`));
    expect(squash(searchSql({ ...none, status: 'failed' }).sql)).toContain(squash(`${FURTHEST_STATUS_SQL} = $1::text`));
  });

  it('passes every value as a parameter, never in the SQL text', () => {
    const hostile = "x' OR 1=1 --";
    const query = searchSql({
      brand: hostile,
      extUserId: hostile,
      imUid: hostile,
      status: 'opened',
      fromMs: Date.UTC(2026, 0, 1),
      toMs: Date.UTC(2026, 0, 31),
      cursor: { createdUs: '1767225600000000', id: '0b6d6c3e-8f1a-4b7e-9d59-2f6f1b1f9a10' },
      limit: 10,
    });
    expect(query.sql).not.toContain(hostile);
    expect(query.sql).not.toContain('2026');
    expect(query.params).toEqual([
      hostile,
      hostile,
      hostile,
      'opened',
      '2026-01-01T00:00:00.000Z',
      '2026-01-31T00:00:00.001Z', // `to` is inclusive to the millisecond
      '1767225600000000',
      '0b6d6c3e-8f1a-4b7e-9d59-2f6f1b1f9a10',
      11, // one more than the page, to know whether another follows
    ]);
  });

  it('has no WHERE without filters, and orders by the keyset', () => {
    const query = searchSql(none);
    expect(query.sql).not.toContain('WHERE');
    expect(squash(query.sql)).toContain('ORDER BY created_at DESC, id DESC LIMIT $1::int');
    expect(query.params).toEqual([51]);
  });
});
