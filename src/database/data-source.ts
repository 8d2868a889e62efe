import 'reflect-metadata';

import { DataSource, DataSourceOptions } from 'typeorm';

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
    migrationsTransactionMode: 'all',
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

export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await dataSource.runMigrations({ transaction: 'all' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

/** For the TypeORM CLI (`typeorm migration:run -d dist/database/data-source.js`); the app builds its own from AppConfig. */
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL ?? 'postgres://localhost/cim'));
