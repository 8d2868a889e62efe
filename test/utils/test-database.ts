import { createHash, randomBytes } from 'node:crypto';

import { Client } from 'pg';
import { DataSource } from 'typeorm';

import { dataSourceOptions } from '../../src/database/data-source';
import { migrations } from '../../src/database/migrations';

const TEMPLATE_LOCK = 0x43494d54; // "CIMT"

export function adminUrl(): string {
  const url = process.env.CIM_TEST_ADMIN_URL;
  if (!url) throw new Error('CIM_TEST_ADMIN_URL is not set: run the e2e tests through jest (test/setup/global-setup.mjs)');
  return url;
}

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** The template is named after the migration list, so a new migration makes a new template. */
function templateName(): string {
  const digest = createHash('sha256')
    .update(migrations.map((migration) => migration.name).join(','))
    .digest('hex');
  return `cim_template_${digest.slice(0, 12)}`;
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function ensureTemplate(client: Client): Promise<string> {
  const template = templateName();
  await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (exists.rowCount === 0) {
      const building = `${template}_building_${randomBytes(3).toString('hex')}`;
      await client.query(`CREATE DATABASE ${building} TEMPLATE template0`);
      const dataSource = await new DataSource(dataSourceOptions(databaseUrl(building), 1)).initialize();
      try {
        await dataSource.runMigrations({ transaction: 'each' });
      } finally {
        await dataSource.destroy();
      }
      await client.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
  }
  return template;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file (cloned from the template); `empty`: no migration run (an upgrade test runs its own). */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `cim_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await withAdmin(async (client) => {
    const template = options.empty === true ? 'template0' : await ensureTemplate(client);
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdmin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
