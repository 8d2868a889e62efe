// The demo page in a real browser (Debian's Chromium driven by playwright-core), against the built
// app as `npm start` runs it: popups, the bell, the inbox drawer, click tracking and the status
// callbacks Smartico hears. `npm run test:browser` (builds first). Leaves test-artifacts/demo.png.
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

import { AppProcess } from '../utils/app-process';
import { FakeSmarticoServer, RecordedRequest } from '../utils/fake-smartico.server';
import { freePort } from '../utils/free-port';

const ROOT = join(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const AUTHORIZATION = `browser-test-${randomBytes(8).toString('hex')}`;
const API_KEY = 'browser-test-api-key';
const POPUP_WITHIN_MS = 1_000;

interface StepResult {
  name: string;
  ok: boolean;
  ms: number;
}

const results: StepResult[] = [];

// the functions passed to page.waitForFunction run in the page; this Node-side file declares only
// the bit of the DOM they touch (the project's type-check has no DOM library)
interface PageElement {
  getAttribute(name: string): string | null;
  complete?: boolean;
  naturalWidth?: number;
  textContent: string | null;
  className: string;
  classList: { contains(name: string): boolean };
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): Iterable<PageElement> };

async function step(name: string, work: () => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await work();
  } catch (error) {
    results.push({ name, ok: false, ms: Date.now() - started });
    console.log(`  ✗ ${name} (${Date.now() - started} ms)\n      ${(error as Error).message.split('\n').join('\n      ')}`);
    throw error;
  }
  results.push({ name, ok: true, ms: Date.now() - started });
  console.log(`  ✓ ${name} (${Date.now() - started} ms)`);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** A database of its own: in the PostgreSQL that DATABASE_URL names, else the app's embedded one under DATA_DIR. */
async function database(dataDir: string): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { env: {}, drop: () => Promise.resolve() };
  const name = `cim_browser_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), DATA_DIR: dataDir },
    drop: async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function postCustomIm(base: string, request: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${base}/gateway/custom-im`, {
    method: 'POST',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: JSON.stringify({ from_number: null, im_uid: `browser-${randomUUID()}`, ...request }),
  });
  const reply = (await response.json()) as { error_code: number; ext_message_id?: string; error_message?: string };
  check(reply.error_code === 0 && reply.ext_message_id !== undefined, `gateway refused the message: ${JSON.stringify(reply)}`);
  return reply.ext_message_id;
}

const badge = (page: Page): Promise<string | null> => page.getAttribute('[data-testid=badge]', 'data-count');

async function waitForBadge(page: Page, count: number): Promise<void> {
  try {
    await page.waitForFunction((n) => document.querySelector('[data-testid=badge]')?.getAttribute('data-count') === String(n), count, { timeout: 5_000 });
  } catch {
    throw new Error(`the badge shows ${await badge(page)}, expected ${count}`);
  }
}

async function waitForCallbacks(fake: FakeSmarticoServer, id: string, statuses: string[]): Promise<RecordedRequest[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mine = fake.requests.filter((request) => request.query.ext_message_id === id);
    if (mine.length >= statuses.length) return mine;
    if (Date.now() > deadline)
      throw new Error(`Smartico heard ${JSON.stringify(mine.map((r) => r.query.status))} for ${id}, expected ${JSON.stringify(statuses)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function runSimulator(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'simulate.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function main(): Promise<void> {
  const started = Date.now();
  check(
    existsSync(join(ROOT, 'dist', 'main.js')) && existsSync(join(ROOT, 'dist', 'client', 'cim-inbox.js')),
    'the app is not built: run `npm run build` (npm run test:browser does)',
  );
  check(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(ARTIFACTS, { recursive: true });

  const dataDir = mkdtempSync(join(tmpdir(), 'cim-browser-'));
  chmodSync(dataDir, 0o755); // as root, the embedded PostgreSQL runs as "postgres" and must enter it
  const db = await database(dataDir);
  const fake = await FakeSmarticoServer.start();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = new AppProcess({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    CIM_AUTHORIZATION: AUTHORIZATION,
    SMARTICO_API_KEY: API_KEY,
    PLAYER_JWT_SECRET: randomBytes(32).toString('base64url'),
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    CALLBACK_POLL_MS: '50',
    DEMO: 'true',
    LOG_LEVEL: 'warn',
    ...db.env,
  });
  let browser: Browser | undefined;
  let page: Page | undefined;
  const consoleErrors: string[] = [];
  let brokenImageReports = 0;
  const brokenImage = `${base}/demo/assets/no-such-image.png`;

  try {
    await step('the built app starts with DEMO=true', () => app.waitForHealthy(base, 60_000));

    let context!: BrowserContext;
    await step('Chromium starts', async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
      context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      context.on('console', (message) => {
        if (message.type() !== 'error') return;
        // the one error the page cannot prevent: the browser reports the broken image the test sends on purpose
        if (message.location().url === brokenImage) {
          brokenImageReports++;
          return;
        }
        consoleErrors.push(`${message.text()} (${message.location().url})`);
      });
      context.on('weberror', (error) => consoleErrors.push(`uncaught: ${error.error().message}`));
      page = await context.newPage();
    });
    const p = (): Page => page!;

    const player = `browser-${randomBytes(4).toString('hex')}`;
    await step('/demo connects for a player with a token from the demo route', async () => {
      await p().goto(`${base}/demo?user=${player}`);
      await p().waitForSelector('[data-testid=status][data-status=connected]', { timeout: 10_000 });
      check((await p().textContent('[data-testid=player]')) === player, 'the page does not show the player');
    });

    let popupId = '';
    await step(`a popup posted through the gateway shows within ${POPUP_WITHIN_MS} ms`, async () => {
      const shown = p().waitForSelector('[data-testid=toast]', { state: 'visible', timeout: 5_000 });
      const postedAt = Date.now();
      popupId = await postCustomIm(base, {
        ext_user_id: player,
        body: 'Best offer ever',
        callback_url: fake.url('/cim/callback?label=7'),
        extension: {
          title: 'Microsoft is raising',
          description: 'The bullish trend...',
          action: 'BUY',
          instrument: 'MSFT',
          image_url: `${base}/demo/assets/chart.svg`,
          cta_url: `${base}/demo/landing?instrument=MSFT&action=BUY`,
          cta_text: 'Trade MSFT',
          display: 'both',
          priority: 'high',
        },
      });
      const toast = await shown;
      const elapsed = Date.now() - postedAt;
      check(elapsed <= POPUP_WITHIN_MS, `the popup took ${elapsed} ms`);
      check((await toast.getAttribute('data-id')) === popupId, 'the popup is not the posted message');
      const text = (await toast.textContent()) ?? '';
      for (const part of ['Important', 'Microsoft is raising', 'Best offer ever', 'Trade MSFT'])
        check(text.includes(part), `the popup lacks "${part}": ${text}`);
      check(await toast.evaluate((node: PageElement) => node.classList.contains('toast--high')), 'a high-priority popup is not marked so');
      await p().waitForFunction(() => {
        const image = document.querySelector('[data-testid=toast] img.media');
        return image !== null && image.complete === true && (image.naturalWidth ?? 0) > 0;
      });
      console.log(`      (popup on screen ${elapsed} ms after the POST was sent)`);
    });

    await step('the bell counts it', () => waitForBadge(p(), 1));

    let plainId = '';
    await step('an inbox-only message with no title and a broken image: no popup, a placeholder title and image', async () => {
      plainId = await postCustomIm(base, {
        ext_user_id: player,
        body: 'Your weekly statement is ready.',
        callback_url: fake.url('/cim/callback?label=7'),
        extension: { image_url: brokenImage, display: 'inbox' },
      });
      await waitForBadge(p(), 2);
      check((await p().$$('[data-testid=toast]')).length === 1, 'an inbox-only message popped up');
      await p().click('[data-testid=bell]');
      const item = await p().waitForSelector(`[data-testid=inbox-item][data-id="${plainId}"]`, { timeout: 5_000 });
      check(
        (await item.$eval('.title', (node: PageElement) => [node.textContent, node.className].join('|'))) === 'New message|title title--missing',
        'no placeholder title',
      );
      await item.waitForSelector('.media--broken', { timeout: 5_000 });
      check((await item.getAttribute('data-read')) === 'false', 'a new message is not styled unread');
      await p().waitForSelector(`[data-testid=inbox-item][data-id="${popupId}"]`);
    });

    await step('opening it in the inbox brings the badge down', async () => {
      await p().click(`[data-testid=inbox-item][data-id="${plainId}"]`);
      await waitForBadge(p(), 1);
      await p().waitForSelector(`[data-testid=inbox-item][data-id="${plainId}"][data-read=true]`);
    });

    await step("the popup's call to action goes through click tracking to its target", async () => {
      const [landing] = await Promise.all([
        p().context().waitForEvent('page', { timeout: 5_000 }),
        p().click(`[data-testid=toast][data-id="${popupId}"] [data-testid=cta]`),
      ]);
      await landing.waitForURL(`${base}/demo/landing?instrument=MSFT&action=BUY`, { timeout: 5_000 });
      await landing.waitForSelector('[data-testid=landing]');
      await landing.close();
    });

    await step('Smartico hears delivered, opened, clicked for the popup, in that order, with its api_key', async () => {
      const heard = await waitForCallbacks(fake, popupId, ['delivered', 'opened', 'clicked']);
      check(JSON.stringify(heard.map((r) => r.query.status)) === '["delivered","opened","clicked"]', `heard ${heard.map((r) => r.query.status).join(', ')}`);
      for (const request of heard) {
        check(request.method === 'GET' && request.path === '/cim/callback', `callback went to ${request.method} ${request.path}`);
        check(
          request.query.type === 'cim' && request.query.api_key === API_KEY && request.query.label === '7',
          `callback query ${JSON.stringify(request.query)}`,
        );
      }
      const plain = await waitForCallbacks(fake, plainId, ['delivered', 'opened']);
      check(
        JSON.stringify(plain.map((r) => r.query.status)) === '["delivered","opened"]',
        `heard ${plain.map((r) => r.query.status).join(', ')} for the inbox message`,
      );
    });

    await step('the badge goes down after the click opened it', () => waitForBadge(p(), 0));

    await step('after a reload the inbox still lists both, read', async () => {
      await p().reload();
      await p().waitForSelector('[data-testid=status][data-status=connected]', { timeout: 10_000 });
      await p().click('[data-testid=bell]');
      await p().waitForSelector(`[data-testid=inbox-item][data-id="${popupId}"][data-read=true]`, { timeout: 5_000 });
      await p().waitForSelector(`[data-testid=inbox-item][data-id="${plainId}"][data-read=true]`);
      check((await p().$$('[data-testid=toast]')).length === 0, 'a delivered message popped up again after the reload');
      check((await badge(p())) === '0', 'the badge is not 0 after the reload');
    });

    const simulator = runSimulator(['--user', player, '--url', base, '--authorization', AUTHORIZATION, '--wait', '2']);
    await step('`npm run simulate` posts as Smartico: its message pops up and lands in the inbox', async () => {
      const toast = await p().waitForSelector('[data-testid=toast]', { state: 'visible', timeout: 10_000 });
      const id = await toast.getAttribute('data-id');
      await p().waitForSelector(`[data-testid=inbox-item][data-id="${id}"][data-read=false]`, { timeout: 5_000 });
      await waitForBadge(p(), 1);
      await p().waitForFunction(() => [...document.querySelectorAll('img.media')].every((image) => image.complete === true));
      await p().waitForTimeout(400); // the drawer's and the popup's slide-in
      await p().screenshot({ path: join(ARTIFACTS, 'demo.png') });
    });

    await step("the simulator's callback receiver prints the delivered callback", async () => {
      const code = await simulator.exited;
      const output = simulator.output();
      check(code === 0, `the simulator exited with ${code}:\n${output}`);
      check(/posted #1 .*→ error_code 0, ext_message_id=/.test(output), `no accepted post in:\n${output}`);
      check(/callback\s+delivered\s+ext_message_id=\S+\s+#1\s+\+\d+\.\d+ s since post/.test(output), `no delivered callback in:\n${output}`);
    });

    await step('no console errors', () => {
      check(consoleErrors.length === 0, `console errors:\n${consoleErrors.join('\n')}`);
      console.log(`      (allowed: ${brokenImageReports} report(s) by the browser itself of the deliberately broken image URL)`);
      return Promise.resolve();
    });
  } catch {
    if (page !== undefined) await page.screenshot({ path: join(ARTIFACTS, 'demo-failure.png') }).catch(() => undefined);
    if (app.stderr.trim() !== '') console.log(`\napp stderr:\n${app.stderr.slice(-4_000)}`);
  } finally {
    await browser?.close().catch(() => undefined);
    app.kill('SIGTERM');
    await Promise.race([app.exited, new Promise((resolve) => setTimeout(resolve, 12_000))]);
    await fake.close();
    await db.drop().catch((error: Error) => console.log(`could not drop the test database: ${error.message}`));
    rmSync(dataDir, { recursive: true, force: true });
  }

  const passed = results.filter((result) => result.ok).length;
  const failed = results.length - passed;
  console.log(`\nscreenshot: ${join('test-artifacts', 'demo.png')}${failed > 0 ? ' (on failure: test-artifacts/demo-failure.png)' : ''}`);
  console.log(`browser demo test ${failed === 0 ? 'PASSED' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((error: Error) => {
  console.log(`browser test could not run: ${error.stack ?? error.message}`);
  console.log('browser: 0 passed, 1 failed');
  process.exit(1);
});
