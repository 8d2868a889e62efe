// What the browser tests share: named steps with a summary line, a database of their own, Debian's Chromium.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';
import { Browser, chromium, Page } from 'playwright-core';

import { AppProcess } from '../utils/app-process';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { freePort } from '../utils/free-port';

export const ROOT = join(__dirname, '..', '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface StepResult {
  name: string;
  ok: boolean;
}

const results: StepResult[] = [];

/** Runs one named check, prints ✓/✗ with its time, and rethrows a failure (the rest of the run depends on it). */
export async function step(name: string, work: () => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await work();
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`  ✗ ${name} (${Date.now() - started} ms)\n      ${(error as Error).message.split('\n').join('\n      ')}`);
    throw error;
  }
  results.push({ name, ok: true });
  console.log(`  ✓ ${name} (${Date.now() - started} ms)`);
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Prints the summary line CI reads and exits 0 only when every step passed. */
export function finish(what: string, started: number, screenshots: string[], failureShot: string): never {
  const passed = results.filter((result) => result.ok).length;
  const failed = results.length - passed;
  console.log(`\nscreenshots in test-artifacts/: ${screenshots.join(', ')}${failed > 0 ? ` (on failure: ${failureShot})` : ''}`);
  console.log(`${what} ${failed === 0 ? 'PASSED' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

/** For main().catch: the run could not even start. */
export function couldNotRun(error: Error): never {
  console.log(`browser test could not run: ${error.stack ?? error.message}`);
  console.log('browser: 0 passed, 1 failed');
  process.exit(1);
}

/** The built app and Chromium are there; test-artifacts/ exists. */
function checkPrerequisites(): void {
  check(
    existsSync(join(ROOT, 'dist', 'main.js')) && existsSync(join(ROOT, 'dist', 'client', 'cim-inbox.js')),
    'the app is not built: run `npm run build` (npm run test:browser does)',
  );
  check(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(ARTIFACTS, { recursive: true });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
}

interface BrowserTestDatabase {
  dataDir: string;
  /** DATA_DIR, and DATABASE_URL when the run has a PostgreSQL of its own */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A database of its own: in the PostgreSQL that DATABASE_URL names, else the app's embedded one under a fresh DATA_DIR. */
async function database(): Promise<BrowserTestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cim-browser-'));
  chmodSync(dataDir, 0o755); // as root, the embedded PostgreSQL runs as "postgres" and must enter it
  const removeDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { dataDir, env: { DATA_DIR: dataDir }, drop: () => Promise.resolve(removeDir()) };
  const name = `cim_browser_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    dataDir,
    env: { DATABASE_URL: url.toString(), DATA_DIR: dataDir },
    drop: async () => {
      try {
        const client = new Client({ connectionString: serverUrl });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await client.end();
      } finally {
        removeDir();
      }
    },
  };
}

/** One browser test's world: the built app on a free port with a database of its own, and a fake Smartico. */
export interface BrowserRun {
  started: number;
  base: string;
  app: AppProcess;
  fake: FakeSmarticoServer;
  /** After a failed step: a screenshot of where it stood, and the app's last words. */
  failed(page: Page | undefined, shot: string): Promise<void>;
  stop(browser: Browser | undefined): Promise<void>;
}

/** Checks what the run needs, then starts the fake Smartico and the app (not yet healthy: the first step waits for that). */
export async function startRun(env: Record<string, string>): Promise<BrowserRun> {
  const started = Date.now();
  checkPrerequisites();
  const db = await database();
  const fake = await FakeSmarticoServer.start();
  const port = await freePort();
  const app = new AppProcess({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, ...db.env });
  return {
    started,
    base: `http://127.0.0.1:${port}`,
    app,
    fake,
    failed: async (page, shot) => {
      if (page !== undefined) await page.screenshot({ path: join(ARTIFACTS, shot), fullPage: true }).catch(() => undefined);
      if (app.stderr.trim() !== '') console.log(`\napp stderr:\n${app.stderr.slice(-4_000)}`);
    },
    stop: async (browser) => {
      await browser?.close().catch(() => undefined);
      app.kill('SIGTERM');
      await Promise.race([app.exited, new Promise((resolve) => setTimeout(resolve, 12_000))]);
      await fake.close();
      await db.drop().catch((error: Error) => console.log(`could not drop the test database: ${error.message}`));
    },
  };
}
