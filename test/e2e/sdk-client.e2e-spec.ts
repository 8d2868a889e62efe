import { randomUUID } from 'node:crypto';
import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

import { createInbox, Inbox, InboxStatus, MessageView } from '../../client/src/cim-inbox';
import { createTestApp, OPERATOR_KEY, TestApp } from '../utils/create-test-app';
import { eventually, expectQuietFor } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';

/**
 * A loopback TCP proxy in front of the app, so a test can take the server away from the SDK
 * (cut: connections dropped, new ones refused) and bring it back, or swallow what the client
 * sends (hold) so an ack is lost on the way.
 */
class AppProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private holding = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.targetPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      const forget = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', forget).on('close', forget);
      upstream.on('error', forget).on('close', forget);
      client.on('data', (chunk) => {
        if (!this.holding) upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Client → server bytes are dropped from now on (server → client still flows). */
  hold(): void {
    this.holding = true;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.holding = false;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    if (!this.server) await this.start();
  }
}

/** What one SDK instance told the app. */
class Recorder {
  readonly messages: MessageView[] = [];
  readonly updates: MessageView[] = [];
  readonly unread: number[] = [];
  readonly statuses: InboxStatus[] = [];
  /** what the app was told to show as a popup, in order */
  readonly popups: MessageView[] = [];
  /** the waiting popups' ids, as last told */
  waiting: string[] = [];

  constructor(readonly inbox: Inbox) {
    inbox.onMessage((message) => this.messages.push(message));
    inbox.onPopup((message) => this.popups.push(message));
    inbox.onPopupQueue((queue) => (this.waiting = queue.map((message) => message.id)));
    inbox.onUpdate((message) => this.updates.push(message));
    inbox.onUnread((count) => this.unread.push(count));
    inbox.onStatus((status) => this.statuses.push(status));
  }

  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await eventually(condition, { what: () => `${what} (statuses: ${this.statuses.join(' → ')})`, timeoutMs, everyMs: 10 });
  }

  status(status: InboxStatus, timeoutMs?: number): Promise<void> {
    return this.until(() => this.inbox.status === status, `status ${status}`, timeoutMs);
  }
}

describe('browser SDK (client/src/cim-inbox.ts) against a real server', () => {
  let sut: TestApp;
  let smartico: FakeSmarticoServer;
  const open: Inbox[] = [];
  const proxies: AppProxy[] = [];

  beforeAll(async () => {
    sut = await createTestApp();
    smartico = await FakeSmarticoServer.start();
  });

  afterEach(async () => {
    for (const inbox of open.splice(0)) inbox.close();
    for (const proxy of proxies.splice(0)) await proxy.cut();
  });

  afterAll(async () => {
    await smartico.close();
    await sut.close();
  });

  const newPlayer = (): string => `sdk-${randomUUID()}`;
  const connect = (options: Parameters<typeof createInbox>[0]): Recorder => {
    // the SDK's defaults (WebSocket only), as an operator's page would use them
    const inbox = createInbox(options);
    open.push(inbox);
    return new Recorder(inbox);
  };
  const proxy = async (): Promise<AppProxy> => {
    const created = new AppProxy(Number(new URL(sut.url).port));
    await created.start();
    proxies.push(created);
    return created;
  };
  const post = async (playerId: string, extension: Record<string, unknown> = {}): Promise<string> => {
    const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, callback_url: smartico.url(), extension: { title: 'Hello', ...extension } }));
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  // straight to the server over REST (not through the SDK or a proxy)
  const deliveredAt = async (playerId: string, id: string): Promise<string | null> => {
    const response = await fetch(`${sut.url}/inbox/messages`, { headers: { authorization: `Bearer ${await playerToken(playerId)}` } });
    const page = (await response.json()) as { items: MessageView[] };
    return page.items.find((item) => item.id === id)?.delivered_at ?? null;
  };

  it('hands each message to the app once, acks it (delivered), and keeps the unread count', async () => {
    const playerId = newPlayer();
    const sdk = connect({ url: sut.url, token: await playerToken(playerId) });
    await sdk.status('connected');
    const first = await post(playerId, { cta_url: 'https://casino.example/offer' });
    const second = await post(playerId);

    await sdk.until(() => sdk.messages.length === 2, 'two messages');
    expect(sdk.messages.map((message) => message.id)).toEqual([first, second]);
    // a relative click-tracking link is made to point at the server
    expect(sdk.messages[0].cta_link).toMatch(new RegExp(`^${sut.url}/t/`));
    await sdk.until(() => sdk.unread.at(-1) === 2, 'unread 2');
    await sdk.until(() => smartico.requests.filter((request) => request.query.status === 'delivered').length >= 2, 'two delivered callbacks');
    expect(await deliveredAt(playerId, first)).not.toBeNull();
    expect(sdk.statuses).toEqual(['connecting', 'connected']);
  });

  it('does not hand the app a message twice when the server re-sends it after a lost ack', async () => {
    const playerId = newPlayer();
    const lossy = await proxy();
    const sdk = connect({ url: lossy.url, token: await playerToken(playerId) });
    await sdk.status('connected');

    lossy.hold(); // the ack the SDK sends never reaches the server
    const id = await post(playerId);
    await sdk.until(() => sdk.messages.length === 1, 'the message');
    await expectQuietFor(200, 'delivery record while the ack is held', () => deliveredAt(playerId, id));
    expect(await deliveredAt(playerId, id)).toBeNull();

    await lossy.cut();
    await sdk.status('reconnecting');
    await lossy.restore();
    await sdk.status('connected');
    // the server re-sent it on connect (it never heard the ack); the SDK acked it again but kept it from the app
    await sdk.until(
      () => smartico.requests.some((request) => request.query.ext_message_id === id && request.query.status === 'delivered'),
      'delivered callback',
    );
    expect(await deliveredAt(playerId, id)).not.toBeNull();
    await expectQuietFor(300, 'messages handed to the app', () => sdk.messages.length);
    expect(sdk.messages.map((message) => message.id)).toEqual([id]);
  });

  it('reconnects after the server goes away and gets what was sent meanwhile, once, in order', async () => {
    const playerId = newPlayer();
    const flaky = await proxy();
    const sdk = connect({ url: flaky.url, token: await playerToken(playerId) });
    await sdk.status('connected');
    const before = await post(playerId);
    await sdk.until(() => sdk.messages.length === 1, 'the first message');

    await flaky.cut();
    await sdk.status('reconnecting');
    const during = [await post(playerId), await post(playerId)];
    await expectQuietFor(300, 'messages while disconnected', () => sdk.messages.length);
    expect(sdk.messages).toHaveLength(1);

    await flaky.restore();
    await sdk.status('connected', 15_000);
    await sdk.until(() => sdk.messages.length === 3, 'the messages sent while away');
    await expectQuietFor(300, 'messages handed to the app', () => sdk.messages.length);
    expect(sdk.messages.map((message) => message.id)).toEqual([before, ...during]);
    expect(sdk.statuses).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
  });

  it('gets a fresh token from getToken when the server disconnects it at token expiry, and carries on', async () => {
    const playerId = newPlayer();
    let refreshes = 0;
    const sdk = connect({
      url: sut.url,
      token: await playerToken(playerId, { expiresIn: '2s' }),
      getToken: async () => {
        refreshes++;
        return playerToken(playerId);
      },
    });
    await sdk.status('connected');
    await sdk.until(() => sdk.statuses.includes('reconnecting'), 'the disconnect at expiry', 8_000);
    await sdk.status('connected');
    expect(refreshes).toBe(1);

    const id = await post(playerId);
    await sdk.until(() => sdk.messages.some((message) => message.id === id), 'a message after the refresh');
    expect(sdk.statuses).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
  });

  it('refreshes a token refused at connect (connect_error "unauthorized") through getToken', async () => {
    const playerId = newPlayer();
    let refreshes = 0;
    const sdk = connect({
      url: sut.url,
      token: await playerToken(playerId, { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      getToken: async () => {
        refreshes++;
        return playerToken(playerId);
      },
    });
    await sdk.status('connected');
    expect(refreshes).toBe(1);
  });

  it('reports "unauthorized" when the token is refused and cannot be refreshed, and resumes after setToken', async () => {
    const playerId = newPlayer();
    const wrong = await playerToken(playerId, { secret: 'another-secret-that-is-at-least-32-bytes-long' });
    const stuck = connect({ url: sut.url, token: wrong });
    await stuck.status('unauthorized');

    // a hook that keeps handing out refused tokens is asked once, not in a loop
    let refreshes = 0;
    const refused = connect({
      url: sut.url,
      token: wrong,
      getToken: () => {
        refreshes++;
        return wrong;
      },
    });
    await refused.status('unauthorized');
    await expectQuietFor(500, 'token refreshes after the refusal', () => refreshes);
    expect(refreshes).toBe(1);

    stuck.inbox.setToken(await playerToken(playerId));
    await stuck.status('connected');
  });

  it('lists, counts and acts on messages (socket actions, REST reads), refreshing the token on a 401', async () => {
    const playerId = newPlayer();
    let refreshes = 0;
    const sdk = connect({
      url: sut.url,
      token: await playerToken(playerId),
      getToken: async () => {
        refreshes++;
        return playerToken(playerId);
      },
    });
    await sdk.status('connected');
    const [a, b, c] = [await post(playerId), await post(playerId), await post(playerId, { category: 'promo' })];
    await sdk.until(() => sdk.messages.length === 3, 'three messages');

    await sdk.inbox.opened(a);
    await sdk.inbox.clicked(b);
    await sdk.inbox.archive(c);
    await sdk.until(() => sdk.updates.some((update) => update.id === b && update.clicked_at !== null), 'the update for b');
    await expect(sdk.inbox.opened(randomUUID())).rejects.toThrow('message not found');

    // a stale token on the REST side: refreshed once through the hook, then the call goes through
    sdk.inbox.setToken(await playerToken(playerId, { secret: 'another-secret-that-is-at-least-32-bytes-long' }));
    const page = await sdk.inbox.list();
    expect(refreshes).toBe(1);
    expect(page.items.map((item) => item.id)).toEqual([b, a]);
    expect(page.items[0].clicked_at).not.toBeNull();
    expect(page.items[1].opened_at).not.toBeNull();
    expect(await sdk.inbox.unreadCount()).toBe(0);
    expect((await sdk.inbox.list({ category: 'promo' })).items).toEqual([]);

    const d = await post(playerId);
    await sdk.until(() => sdk.unread.at(-1) === 1, 'unread 1');
    expect((await sdk.inbox.list({ unread: true })).items.map((item) => item.id)).toEqual([d]);
    expect(await sdk.inbox.readAll()).toBe(1);
    await sdk.until(() => sdk.unread.at(-1) === 0, 'unread 0');
  });

  describe('popups', () => {
    const popupIds = (sdk: Recorder): string[] => sdk.popups.map((message) => message.id);

    it('holds popups but not messages, then shows them one at a time: high first, then the oldest', async () => {
      const playerId = newPlayer();
      const sdk = connect({ url: sut.url, token: await playerToken(playerId) });
      await sdk.status('connected');
      sdk.inbox.holdPopups();
      expect(sdk.inbox.popupsHeld).toBe(true);
      const older = await post(playerId, { display: 'both' });
      const popupOnly = await post(playerId, { display: 'popup' });
      const high = await post(playerId, { priority: 'high' });
      const inboxOnly = await post(playerId, { display: 'inbox' });

      // nothing is lost from onMessage while held, and each is delivered: the player's device has it
      await sdk.until(() => sdk.messages.length === 4, 'all four messages while popups are held');
      expect(sdk.messages.map((message) => message.id)).toEqual([older, popupOnly, high, inboxOnly]);
      for (const id of [older, popupOnly, high, inboxOnly]) {
        await sdk.until(
          () => smartico.requests.some((request) => request.query.ext_message_id === id && request.query.status === 'delivered'),
          `the delivered callback of ${id}`,
        );
      }
      expect(sdk.popups).toEqual([]);
      // an inbox-only message (popup: false) never waits for the popup slot
      expect(sdk.waiting).toEqual([high, older, popupOnly]);

      sdk.inbox.releasePopups();
      expect(popupIds(sdk)).toEqual([high]);
      await expectQuietFor(200, 'popups while one is on screen', () => sdk.popups.length);
      expect(sdk.waiting).toEqual([older, popupOnly]);

      sdk.inbox.closePopup(older); // not the one on screen: changes nothing
      expect(popupIds(sdk)).toEqual([high]);
      sdk.inbox.closePopup(high);
      expect(popupIds(sdk)).toEqual([high, older]);
      sdk.inbox.closePopup(older);
      expect(popupIds(sdk)).toEqual([high, older, popupOnly]);
      sdk.inbox.closePopup(popupOnly);
      expect(sdk.waiting).toEqual([]);
      await expectQuietFor(200, 'popups after the queue ran dry', () => sdk.popups.length);
      expect(popupIds(sdk)).toEqual([high, older, popupOnly]);
    });

    it('shows a popup at once when none is on screen; a later one waits its turn, high or not, and a hold keeps it waiting', async () => {
      const playerId = newPlayer();
      const sdk = connect({ url: sut.url, token: await playerToken(playerId) });
      await sdk.status('connected');
      const first = await post(playerId);
      await sdk.until(() => sdk.popups.length === 1, 'the first popup');
      const urgent = await post(playerId, { priority: 'high' });
      await sdk.until(() => sdk.waiting.length === 1, 'the high one waiting');
      expect(popupIds(sdk)).toEqual([first]);

      // a game round starts while the first is on screen: it stays, the next waits for the round to end
      sdk.inbox.holdPopups();
      sdk.inbox.closePopup(first);
      expect(popupIds(sdk)).toEqual([first]);
      expect(sdk.waiting).toEqual([urgent]);
      sdk.inbox.releasePopups();
      expect(popupIds(sdk)).toEqual([first, urgent]);
    });

    it('drops a popup that expired while it waited, one opened in another tab and one archived here', async () => {
      const playerId = newPlayer();
      const sdk = connect({ url: sut.url, token: await playerToken(playerId) });
      await sdk.status('connected');
      sdk.inbox.holdPopups();
      const expiresAt = new Date(Date.now() + 1_500).toISOString();
      const expiring = await post(playerId, { expires_at: expiresAt });
      const openedElsewhere = await post(playerId);
      const archived = await post(playerId);
      const kept = await post(playerId);
      await sdk.until(() => sdk.waiting.length === 4, 'four popups waiting');

      // another device opens one: the server tells every tab, and its popup is of no use any more
      const response = await fetch(`${sut.url}/inbox/messages/${openedElsewhere}/opened`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await playerToken(playerId)}` },
      });
      expect(response.status).toBe(200);
      await sdk.until(() => !sdk.waiting.includes(openedElsewhere), 'the popup opened elsewhere leaves the queue');
      await sdk.inbox.archive(archived);
      expect(sdk.waiting).not.toContain(archived);

      await sdk.until(() => Date.now() > Date.parse(expiresAt) + 50, 'the expiry to pass', 5_000);
      sdk.inbox.releasePopups();
      expect(popupIds(sdk)).toEqual([kept]);
      sdk.inbox.closePopup(kept);
      await expectQuietFor(200, 'popups after the only live one', () => sdk.popups.length);
      expect(popupIds(sdk)).toEqual([kept]);
      expect(sdk.messages.map((message) => message.id)).toEqual([expiring, openedElsewhere, archived, kept]);
    });
  });

  it('removes a voided message at once: onVoid, its popup closed and the next one shown, a waiting one dropped', async () => {
    const playerId = newPlayer();
    const sdk = connect({ url: sut.url, token: await playerToken(playerId) });
    const voids: Array<[string, string]> = [];
    sdk.inbox.onVoid((id, reason) => voids.push([id, reason]));
    await sdk.status('connected');
    const onScreen = await post(playerId);
    await sdk.until(() => sdk.popups.length === 1, 'the first popup');
    const waiting = await post(playerId);
    const next = await post(playerId);
    await sdk.until(() => sdk.waiting.length === 2, 'two popups waiting');

    const voidIt = async (id: string, reason: string): Promise<void> => {
      const response = await fetch(`${sut.url}/operator/messages/void`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, reason }),
      });
      expect(response.status).toBe(200);
    };
    await voidIt(waiting, 'claimed');
    await sdk.until(() => voids.length === 1, 'the void of the waiting one');
    expect(sdk.waiting).toEqual([next]);
    await voidIt(onScreen, 'expired early');
    await sdk.until(() => voids.length === 2, 'the void of the one on screen');
    expect(voids).toEqual([
      [waiting, 'claimed'],
      [onScreen, 'expired early'],
    ]);
    // the page was told to take it down; the next one comes without a closePopup
    expect(sdk.popups.map((message) => message.id)).toEqual([onScreen, next]);
  });

  it('drops the waiting popups of what archiveAll archived (of its category), and tells onPopupQueue of a hold', async () => {
    const playerId = newPlayer();
    const sdk = connect({ url: sut.url, token: await playerToken(playerId) });
    await sdk.status('connected');
    const queues: number[] = [];
    sdk.inbox.onPopupQueue((waiting) => queues.push(waiting.length));
    sdk.inbox.holdPopups();
    expect(queues).toEqual([0, 0]);
    await post(playerId, { category: 'promo' });
    const news = await post(playerId, { category: 'news' });
    const popupOnly = await post(playerId, { display: 'popup' });
    await sdk.until(() => sdk.waiting.length === 3, 'three popups waiting');

    expect(await sdk.inbox.archiveAll('promo')).toBe(1);
    expect(sdk.waiting).toEqual([news, popupOnly]);
    expect(await sdk.inbox.archiveAll()).toBe(1);
    // a popup-only message is not listed, so archive-all leaves it: it still pops up
    expect(sdk.waiting).toEqual([popupOnly]);
    sdk.inbox.releasePopups();
    expect(sdk.popups.map((message) => message.id)).toEqual([popupOnly]);
  });

  it('stars, presses buttons, archives all and keeps unread counts per category', async () => {
    const playerId = newPlayer();
    const sdk = connect({ url: sut.url, token: await playerToken(playerId) });
    const categories: Array<Record<string, number>> = [];
    sdk.inbox.onUnread((_count, perCategory) => categories.push({ ...perCategory }));
    await sdk.status('connected');
    const promo = await post(playerId, {
      category: 'promo',
      buttons: [
        { id: 'deposit', text: 'Deposit', url: 'https://casino.example/deposit' },
        { id: 'later', text: 'Later' },
      ],
    });
    const news = await post(playerId, { category: 'news' });
    await sdk.until(() => categories.some((counts) => counts.promo === 1 && counts.news === 1), 'counts per category');
    expect(sdk.inbox.unreadCategories).toEqual({ promo: 1, news: 1 });
    expect(await sdk.inbox.unreadCounts()).toEqual({ count: 2, categories: { promo: 1, news: 1 } });

    await sdk.inbox.star(news);
    expect((await sdk.inbox.list({ starred: true })).items.map((item) => item.id)).toEqual([news]);
    await sdk.inbox.unstar(news);
    expect((await sdk.inbox.list({ starred: true })).items).toEqual([]);

    const view = sdk.messages.find((message) => message.id === promo)!;
    expect(view.buttons.map((button) => [button.id, button.link === null ? null : new URL(button.link).origin])).toEqual([
      ['deposit', new URL(sut.url).origin],
      ['later', null],
    ]);
    expect(await sdk.inbox.pressButton(promo, 'deposit')).toEqual({ link: 'https://casino.example/deposit' });
    expect(await sdk.inbox.pressButton(promo, 'later')).toEqual({ link: null });
    await expect(sdk.inbox.pressButton(promo, 'nope')).rejects.toMatchObject({ status: 404 });
    await sdk.until(
      () => smartico.requests.some((request) => request.query.ext_message_id === promo && request.query.status === 'clicked'),
      'the clicked callback of the button press',
    );

    expect(await sdk.inbox.archiveAll('news')).toBe(1);
    await sdk.until(() => sdk.inbox.unreadCategories?.news === undefined, 'news gone from the counts');
    expect((await sdk.inbox.list()).items.map((item) => item.id)).toEqual([promo]);
    expect(await sdk.inbox.archiveAll()).toBe(1);
    expect((await sdk.inbox.list()).items).toEqual([]);
  });

  it('closes for good: status "closed", nothing more is handed to the app', async () => {
    const playerId = newPlayer();
    const sdk = connect({ url: sut.url, token: await playerToken(playerId) });
    await sdk.status('connected');
    sdk.inbox.close();
    expect(sdk.inbox.status).toBe('closed');
    await post(playerId);
    await expectQuietFor(300, 'messages after close', () => sdk.messages.length);
    expect(sdk.messages).toEqual([]);
  });
});
