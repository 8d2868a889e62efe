import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { setPostmaster } from './cpu';

export interface BenchDatabase {
  url: string;
  close(): Promise<void>;
}

export interface BenchServer {
  /** A fresh, empty database on the server; dropped by close(). */
  createDatabase(label: string): Promise<string>;
  close(): Promise<void>;
}

const quiet = { info: () => undefined, debug: () => undefined, warn: (message: string) => process.stderr.write(`${message}\n`) };

/**
 * The PostgreSQL a benchmark run uses: DATABASE_URL's server when set, otherwise an embedded
 * PostgreSQL of its own. fsync and synchronous_commit are left on, as in production, for the app
 * and the baselines alike.
 */
export async function benchServer(): Promise<BenchServer> {
  let adminUrl = process.env.DATABASE_URL;
  let stopServer = (): Promise<void> => Promise.resolve();
  if (adminUrl === undefined || adminUrl === '') {
    const dir = mkdtempSync(join(tmpdir(), 'cim-bench-'));
    chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres(dir, quiet);
    adminUrl = server.url;
    stopServer = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  // CPU figures count this server's processes only (other PostgreSQLs may share the machine)
  const { rows } = await admin.query<{ setting: string }>(`SELECT setting FROM pg_settings WHERE name = 'data_directory'`).catch(() => ({ rows: [] }));
  if (rows[0]) setPostmaster(rows[0].setting);
  const created: string[] = [];
  const stamp = Date.now().toString(36);
  return {
    createDatabase: async (label: string) => {
      const name = `cim_bench_${stamp}_${created.length}_${label.replace(/[^a-z0-9]/g, '')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    close: async () => {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await stopServer();
    },
  };
}

/** One fresh database on its own server (for the single-purpose bench scripts). */
export async function benchDatabase(): Promise<BenchDatabase> {
  const server = await benchServer();
  const url = await server.createDatabase('db');
  return { url, close: () => server.close() };
}
