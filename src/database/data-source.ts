import 'reflect-metadata';

import { DataSource, DataSourceOptions, QueryRunner } from 'typeorm';

import { migrations } from './migrations';

export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    // no entities: queries are raw SQL over the table declarations (src/database/table.ts)
    entities: [],
    migrations,
    migrationsRun: false,
    synchronize: false,
    // each in its own transaction: a migration that builds an index CONCURRENTLY runs outside one
    migrationsTransactionMode: 'each',
    applicationName: 'cim-inbox',
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 15_000,
      keepAlive: true,
    },
  };
}

// Run migrations at a known point, under an advisory lock, so several instances can boot together.
const MIGRATION_LOCK = 0x43494d31; // "CIM1"
const LOCK_POLL_MS = 200;

async function tryLock(runner: QueryRunner): Promise<boolean> {
  const rows = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK])) as Array<{ locked: boolean }>;
  return rows[0].locked;
}

/** `then` runs under the same lock: boot-time data work that must not race another instance's. */
export async function runMigrationsLocked(dataSource: DataSource, then?: () => Promise<void>): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    // polled, not waited on: a session blocked in pg_advisory_lock holds a snapshot, which CREATE INDEX
    // CONCURRENTLY in the lock holder's migration would wait for, while that session waits for the lock
    while (!(await tryLock(runner))) await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    try {
      await dataSource.runMigrations({ transaction: 'each' });
      await then?.();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

/** For the TypeORM CLI (`typeorm migration:run -d dist/database/data-source.js`); the app builds its own from AppConfig. */
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL ?? 'postgres://localhost/cim'));
