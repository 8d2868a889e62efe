import type { PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** A statement PostgreSQL prepares once per connection; `name` must be unique to `text`. */
export interface NamedStatement {
  name: string;
  text: string;
}

/** A statement with its parameters, as the SQL builders return it. */
export interface SqlQuery {
  sql: string;
  params: unknown[];
}

/**
 * Runs a hot statement as a named prepared statement on TypeORM's own pool: each connection
 * parses and plans it once and then only binds values (TypeORM's query() sends every statement
 * unnamed, so PostgreSQL plans it anew each time).
 */
export async function namedQuery<R extends QueryResultRow>(dataSource: DataSource, statement: NamedStatement, values: unknown[]): Promise<R[]> {
  const [client, release] = (await (dataSource.driver as PostgresDriver).obtainMasterConnection()) as [PoolClient, (error?: Error) => void];
  try {
    const result = await client.query<R>({ name: statement.name, text: statement.text, values });
    release();
    return result.rows;
  } catch (error) {
    // as pg's pool.query does: a client that failed a query is not reused
    release(error as Error);
    throw error;
  }
}
