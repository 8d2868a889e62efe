import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

export interface BenchDatabase {
  url: string;
  close(): Promise<void>;
}

const quiet = { info: () => undefined, debug: () => undefined, warn: (message: string) => process.stderr.write(`${message}\n`) };

/**
 * A fresh database for one benchmark run: on DATABASE_URL's server when set, otherwise on an
 * embedded PostgreSQL of its own (fsync and synchronous_commit left on, as in production).
 */
export async function benchDatabase(): Promise<BenchDatabase> {
  let adminUrl = process.env.DATABASE_URL;
  let stopServer = async (): Promise<void> => undefined;
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
  const name = `cim_bench_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    close: async () => {
      const cleanup = new Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
      await stopServer();
    },
  };
}
