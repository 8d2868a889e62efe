import type { PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** `name` must be unique to `text`. */
export interface NamedStatement {
  name: string;
  text: string;
}

export interface SqlQuery {
  sql: string;
  params: unknown[];
}

// each connection plans the statement once; TypeORM's query() sends every statement unnamed, planned anew
export async function namedQuery<R extends QueryResultRow>(dataSource: DataSource, statement: NamedStatement, values: unknown[]): Promise<R[]> {
  const [client, release] = (await (dataSource.driver as PostgresDriver).obtainMasterConnection()) as [PoolClient, (error?: Error) => void];
  // as pg's pool.query does: a connection lost mid-query rejects it instead of crashing the process,
  // and a client that failed a query is dropped rather than reused
  return new Promise<R[]>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined, rows?: R[]): void => {
      if (settled) return;
      settled = true;
      client.removeListener('error', settle);
      release(error);
      if (error === undefined) resolve(rows!);
      else reject(error);
    };
    client.once('error', settle);
    client.query<R>({ name: statement.name, text: statement.text, values }).then(
      (result) => settle(undefined, result.rows),
      (error: Error) => settle(error),
    );
  });
}
