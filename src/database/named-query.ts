import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Runs a hot statement as a named prepared statement on TypeORM's own pg pool: each connection
 * parses and plans it once and then only binds values (TypeORM's query() sends every statement
 * unnamed, so PostgreSQL plans it anew each time). For statements that run per message or per
 * callback; `name` must be unique to `text`.
 */
export async function namedQuery<R extends QueryResultRow>(dataSource: DataSource, name: string, text: string, values: unknown[]): Promise<R[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const result = await pool.query<R>({ name, text, values });
  return result.rows;
}
