// The support console in a real browser (Debian's Chromium driven by playwright-core), against the built app as
// `npm start` runs it, with two brands each with its own support key and a fake Smartico that refuses callbacks until
// told otherwise: sign in (a wrong key first), search by player with paging, a message whose callback died, re-queueing
// it, the player page (online, unread), and one brand's key not reaching the other brand's message.
// `npm run test:browser` (builds first, after the demo test). Leaves screenshots in test-artifacts/ (console-*.png).
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { Browser, Page } from 'playwright-core';

import { SocketPlayer } from '../utils/socket-player';
import { ARTIFACTS, check, couldNotRun, finish, launchChromium, startRun, step } from './browser-harness';

const CASINO = {
  brand: 'casino',
  gateway: 'casino-gw',
  authorization: `casino-${randomBytes(8).toString('hex')}`,
  supportKey: `casino-support-${randomBytes(8).toString('hex')}`,
};
const SPORTS = {
  brand: 'sports',
  gateway: 'sports-gw',
  authorization: `sports-${randomBytes(8).toString('hex')}`,
  supportKey: `sports-support-${randomBytes(8).toString('hex')}`,
};
const PLAYER_JWT_SECRET = randomBytes(32).toString('base64url');
const PLAYER = `p-${randomBytes(3).toString('hex')}`;
const TIME_ZONE = 'America/New_York';

// the functions passed to page.waitForFunction run in the page; this Node-side file declares only the bit of the DOM they touch
interface PageElement {
  getAttribute(name: string): string | null;
  textContent: string | null;
  complete?: boolean;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): Iterable<PageElement> };
declare const sessionStorage: { length: number };

interface OutboxEntry {
  status: string;
  state: string;
}

const screenshots: string[] = [];

async function screenshot(page: Page, name: string): Promise<void> {
  await page.waitForFunction(() => [...document.querySelectorAll('img')].every((image) => image.complete === true));
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
  screenshots.push(name);
}

async function postCustomIm(base: string, gateway: typeof CASINO, extension: Record<string, unknown>, body: string, callbackUrl: string): Promise<string> {
  const response = await fetch(`${base}/gateway/custom-im`, {
    method: 'POST',
    headers: { authorization: gateway.authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ ext_user_id: PLAYER, from_number: null, im_uid: `im-${randomUUID()}`, body, callback_url: callbackUrl, extension }),
  });
  const reply = (await response.json()) as { error_code: number; ext_message_id?: string };
  check(reply.error_code === 0 && reply.ext_message_id !== undefined, `gateway refused the message: ${JSON.stringify(reply)}`);
  return reply.ext_message_id;
}

async function outboxOf(base: string, id: string, key: string): Promise<OutboxEntry[]> {
  const response = await fetch(`${base}/support/messages/${id}`, { headers: { authorization: `Bearer ${key}` } });
  check(response.ok, `support detail of ${id} answered ${response.status}`);
  return ((await response.json()) as { outbox: OutboxEntry[] }).outbox;
}

async function waitForOutbox(base: string, id: string, state: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const outbox = await outboxOf(base, id, CASINO.supportKey);
    if (outbox.length > 0 && outbox.every((entry) => entry.state === state)) return;
    if (Date.now() > deadline) throw new Error(`the callbacks of ${id} are ${JSON.stringify(outbox)}, expected all ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function playerToken(brand: string): Promise<string> {
  const { SignJWT } = await import('jose');
  return new SignJWT({ brand })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(PLAYER)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(PLAYER_JWT_SECRET));
}

const texts = (page: Page, selector: string): Promise<string[]> =>
  page.$$eval(selector, (nodes: PageElement[]) => nodes.map((node) => (node.textContent ?? '').trim()));
const resultIds = (page: Page): Promise<Array<string | null>> =>
  page.$$eval('[data-testid=result]', (rows: PageElement[]) => rows.map((row) => row.getAttribute('data-id')));

async function waitForResults(page: Page, ids: string[]): Promise<void> {
  try {
    await page.waitForFunction(
      (expected) =>
        JSON.stringify([...document.querySelectorAll('[data-testid=result]')].map((row) => row.getAttribute('data-id'))) === JSON.stringify(expected),
      ids,
      { timeout: 5_000 },
    );
  } catch {
    throw new Error(`the results list ${JSON.stringify(await resultIds(page))}, expected ${JSON.stringify(ids)} (newest first)`);
  }
}

async function main(): Promise<void> {
  const run = await startRun({
    CIM_GATEWAYS: JSON.stringify(
      [CASINO, SPORTS].map((side) => ({ id: side.gateway, authorization: side.authorization, apiKey: `${side.brand}-api-key`, brand: side.brand })),
    ),
    CIM_BRANDS: JSON.stringify([CASINO, SPORTS].map((side) => ({ id: side.brand, supportApiKeys: [side.supportKey] }))),
    PLAYER_JWT_SECRET,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    // a refused callback is retried for 1.5 s, then dead
    CALLBACK_POLL_MS: '50',
    CALLBACK_RETRY_BASE_MS: '50',
    CALLBACK_RETRY_MAX_MS: '200',
    CALLBACK_RETRY_WINDOW_MS: '1500',
    CALLBACK_TIMEOUT_MS: '1000',
    // the bonus message's image
    DEMO: 'true',
  });
  const { app, base, fake } = run;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let socket: SocketPlayer | undefined;
  const consoleErrors: string[] = [];
  const expectedReports = { wrongKey: 0, otherBrand: 0 };
  const ids = { bonus: '', tournament: '', reminder: '', sports: '' };

  try {
    await step('the built app starts with two brands, each with its own support key', () => app.waitForHealthy(base, 60_000));

    await step("Smartico accepts the first two messages' callbacks, then refuses the third's until it is dead", async () => {
      socket = await SocketPlayer.connect(base, await playerToken(CASINO.brand));
      const callback = fake.url('/cim/callback?label=7');
      ids.tournament = await postCustomIm(
        base,
        CASINO,
        { title: 'Weekly tournament', category: 'promo' },
        'Join the €10,000 slots race before Sunday.',
        callback,
      );
      ids.reminder = await postCustomIm(
        base,
        CASINO,
        { title: 'Finish your sign-up', category: 'service' },
        'Verify your e-mail to unlock withdrawals.',
        callback,
      );
      await waitForOutbox(base, ids.tournament, 'sent');
      await waitForOutbox(base, ids.reminder, 'sent');
      fake.setMode({ status: 503 });
      ids.bonus = await postCustomIm(
        base,
        CASINO,
        {
          title: 'Your welcome bonus',
          display: 'both',
          priority: 'high',
          image_url: `${base}/demo/assets/chart.svg`,
          body_html: '<p>Deposit today and get <strong>100 free spins</strong>. <a href="https://example.com/terms">Terms apply</a>.</p>',
          buttons: [
            { id: 'deposit', text: 'Deposit now', url: 'https://example.com/deposit' },
            { id: 'later', text: 'Later' },
          ],
        },
        'Deposit today and get 100 free spins. Terms apply.',
        callback,
      );
      ids.sports = await postCustomIm(base, SPORTS, { title: 'Sports: free bet inside' }, 'A €5 free bet for the derby.', fake.url('/cim/callback?label=9'));
      await waitForOutbox(base, ids.bonus, 'dead');
    });

    await step('Chromium starts', async () => {
      browser = await launchChromium();
      const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, timezoneId: TIME_ZONE });
      context.setDefaultTimeout(10_000);
      context.on('console', (message) => {
        if (message.type() !== 'error') return;
        // the browser's own reports of the HTTP errors the test causes on purpose (the page shows each as a state)
        const url = message.location().url;
        if (url === `${base}/support/messages?limit=1` && message.text().includes('401')) expectedReports.wrongKey++;
        else if (url === `${base}/support/messages/${ids.sports}` && message.text().includes('404')) expectedReports.otherBrand++;
        else consoleErrors.push(`${message.text()} (${url})`);
      });
      context.on('weberror', (error) => consoleErrors.push(`uncaught: ${error.error().message}`));
      page = await context.newPage();
    });
    const p = (): Page => page!;

    await step('a wrong key is refused with a visible sign-in error', async () => {
      await p().goto(`${base}/console`);
      await p().waitForSelector('[data-testid=signin-form]', { state: 'visible' });
      await p().fill('#support-key', 'not-a-support-key');
      await p().click('[data-testid=signin-submit]');
      await p().waitForSelector('[data-testid=signin-error]', { state: 'visible' });
      const error = await p().textContent('[data-testid=signin-error]');
      check((error ?? '').includes('not accepted'), `the sign-in error says "${error}"`);
      check((await p().evaluate(() => sessionStorage.length)) === 0, 'the refused key was stored');
      await screenshot(p(), 'console-signin-error.png');
    });

    await step('the casino key signs in; a search by player lists the casino messages newest first, paged with More, never the sports one', async () => {
      await p().fill('#support-key', CASINO.supportKey);
      await p().click('[data-testid=signin-submit]');
      await p().waitForSelector('[data-testid=search-form]');
      await p().fill('[data-testid=filter-ext_user_id]', PLAYER);
      await p().click('[data-testid=search-submit]');
      await waitForResults(p(), [ids.bonus, ids.reminder, ids.tournament]);
      check(p().url().includes(`#/search?ext_user_id=${PLAYER}`), `the search is not in the link: ${p().url()}`);
      const statuses = await p().$$eval('[data-testid=result] [data-testid=status]', (nodes: PageElement[]) =>
        nodes.map((node) => node.getAttribute('data-status')),
      );
      check(JSON.stringify(statuses) === '["delivered","delivered","delivered"]', `statuses ${JSON.stringify(statuses)}`);
      const title = await p().getAttribute('[data-testid=result] time', 'title');
      check(title !== null && / UTC$/.test(title), `a time's tooltip is ${title}, expected the UTC instant`);
      check((await p().textContent('[data-testid=zone]'))?.includes(TIME_ZONE) === true, 'the page does not say which time zone it shows');
      await screenshot(p(), 'console-search.png');

      // a shorter page in the link: two rows, then More brings the third
      await p().goto(`${base}/console#/search?ext_user_id=${PLAYER}&limit=2`);
      await waitForResults(p(), [ids.bonus, ids.reminder]);
      await p().click('[data-testid=more]');
      await waitForResults(p(), [ids.bonus, ids.reminder, ids.tournament]);
      check((await p().$('[data-testid=more]')) === null, 'More is still offered after the last page');
    });

    await step('the bonus message shows as the player saw it, its timeline, its refused attempts and its dead callback', async () => {
      await p().click(`[data-testid=result][data-id="${ids.bonus}"] .row-link`);
      await p().waitForSelector('[data-testid=outbox-entry][data-status=delivered][data-state=dead]');
      check(p().url().endsWith(`#/message/${ids.bonus}`), `the detail is not linkable: ${p().url()}`);
      check((await p().textContent('[data-testid=preview] .preview__title')) === 'Your welcome bonus', 'the preview lacks the title');
      const rich = await p().$eval('[data-testid=rich-body]', (node: PageElement & { innerHTML?: string }) => node.innerHTML ?? '');
      check(rich.includes('<strong>100 free spins</strong>') && !rich.includes('href='), `the rich body is not shown inert: ${rich}`);
      const buttons = await texts(p(), '[data-testid=button]');
      check(buttons.length === 2 && buttons[0].startsWith('Deposit now') && buttons[1].startsWith('Later'), `buttons ${JSON.stringify(buttons)}`);
      const events = await p().$$eval('[data-testid=timeline-step]', (nodes: PageElement[]) => nodes.map((node) => node.getAttribute('data-event')));
      check(JSON.stringify(events) === '["accepted","delivered"]', `timeline ${JSON.stringify(events)}`);
      const gaps = await texts(p(), '.timeline__gap');
      check(gaps[0] === 'start' && /^\+\d/.test(gaps[1] ?? ''), `the timeline's durations are ${JSON.stringify(gaps)}`);
      const attempts = await texts(p(), '[data-testid=attempt]');
      check(attempts.length >= 2 && attempts.every((row) => row.includes('503')), `attempts ${JSON.stringify(attempts)}`);
      check(await p().isEnabled('[data-testid=requeue]'), 'the re-queue button is disabled with a dead callback');
      await screenshot(p(), 'console-message-dead.png');
    });

    await step('re-queueing asks first, then the detail shows the new attempt Smartico accepted', async () => {
      fake.setMode('ok');
      const attemptsBefore = (await p().$$('[data-testid=attempt]')).length;
      await p().click('[data-testid=requeue]');
      await p().waitForSelector('[data-testid=confirm][open]');
      check(
        ((await p().textContent('[data-testid=confirm-text]')) ?? '').includes('1 dead status callback'),
        'the confirmation does not say what it re-queues',
      );
      await p().click('[data-testid=confirm-cancel]');
      await p().waitForSelector('[data-testid=confirm]:not([open])', { state: 'attached' });
      check((await outboxOf(base, ids.bonus, CASINO.supportKey))[0]?.state === 'dead', 'cancelling re-queued the callback');

      await p().click('[data-testid=requeue]');
      await p().click('[data-testid=confirm-ok]');
      await p().waitForSelector('[data-testid=snackbar]:has-text("Re-queued 1 callback")', { state: 'visible' });
      await p().waitForSelector('[data-testid=outbox-entry][data-status=delivered][data-state=sent]');
      await p().waitForSelector('[data-testid=attempt][data-ok=true]');
      const attemptsAfter = (await p().$$('[data-testid=attempt]')).length;
      check(attemptsAfter === attemptsBefore + 1, `${attemptsAfter} attempts after the re-queue, expected ${attemptsBefore + 1}`);
      check(!(await p().isEnabled('[data-testid=requeue]')), 'the re-queue button stays enabled with nothing dead');
      await screenshot(p(), 'console-message.png');
    });

    await step('the player page shows them online, their unread count, last seen and suppression, and their messages', async () => {
      await p().click('[data-testid=detail-player]');
      await p().waitForSelector('[data-testid=player-stats]');
      check(p().url().endsWith(`#/player/${PLAYER}?brand=${CASINO.brand}`), `the player page is not linkable: ${p().url()}`);
      check((await p().textContent('[data-testid=stat-connected]'))?.includes('online now') === true, 'the player does not show as online');
      const unread = await p().textContent('[data-testid=stat-unread] .stat__number');
      check(unread === '3', `unread shows ${unread}, expected 3`);
      check((await p().$('[data-testid=stat-last-seen] time')) !== null, 'last seen shows no time');
      check((await p().textContent('[data-testid=stat-suppression]'))?.includes('none') === true, 'suppression is not shown');
      await waitForResults(p(), [ids.bonus, ids.reminder, ids.tournament]);
      await screenshot(p(), 'console-player.png');
    });

    await step('the casino key cannot reach the sports message: a search does not list it, its link shows not found', async () => {
      await p().goto(`${base}/console#/search?brand=${SPORTS.brand}`);
      await p().waitForSelector('[data-testid=empty]');
      check(((await p().textContent('[data-testid=empty]')) ?? '').includes('No message matches'), 'the empty state says nothing');
      await screenshot(p(), 'console-empty.png');
      await p().goto(`${base}/console#/message/${ids.sports}`);
      await p().waitForSelector('[data-testid=not-found]');
      check(expectedReports.otherBrand === 1, `the browser reported ${expectedReports.otherBrand} 404s for the sports message, expected 1`);
      await screenshot(p(), 'console-not-found.png');
    });

    await step('sign out forgets the key; the sports key then opens the sports message', async () => {
      await p().click('[data-testid=sign-out]');
      await p().waitForSelector('[data-testid=signin-form]', { state: 'visible' });
      check((await p().evaluate(() => sessionStorage.length)) === 0, 'the key is still in session storage');
      await p().fill('#support-key', SPORTS.supportKey);
      await p().click('[data-testid=signin-submit]');
      await p().waitForSelector('[data-testid=message-head]');
      check((await p().textContent('[data-testid=message-id]')) === ids.sports, 'the sports key does not see its own message');
    });

    await step('no console errors', () => {
      check(consoleErrors.length === 0, `console errors:\n${consoleErrors.join('\n')}`);
      check(expectedReports.wrongKey === 1, `the browser reported ${expectedReports.wrongKey} 401s for the wrong key, expected 1`);
      console.log("      (allowed, reported by the browser itself: the wrong key's HTTP 401 and the other brand's HTTP 404)");
      return Promise.resolve();
    });
  } catch {
    await run.failed(page, 'console-failure.png');
  } finally {
    socket?.close();
    await run.stop(browser);
  }
  finish('browser console test', run.started, screenshots, 'console-failure.png');
}

main().catch(couldNotRun);
