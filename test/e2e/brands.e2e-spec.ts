import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import type { InboxList } from '../../src/inbox/inbox.service';
import type { SupportMessageDetail, SupportMessageList, SupportPlayer } from '../../src/support/support.service';
import { createTestApp, OPERATOR_KEY, PLAYER_JWT_SECRET, SUPPORT_KEY, TestApp } from '../utils/create-test-app';
import { eventually, expectQuietFor } from '../utils/eventually';
import { freePort } from '../utils/free-port';
import { customIm, postGateway } from '../utils/gateway-client';
import { ErrorBody } from '../utils/http-json';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

// alpha: two per-country gateways of one brand, with its own player key and support key; beta: the global keys
const ALPHA_DE = { id: 'alpha-de', authorization: 'Secret-Alpha-DE-0123456789', apiKey: 'api-key-alpha-de', brand: 'alpha' };
const ALPHA_MT = { id: 'alpha-mt', authorization: 'Secret-Alpha-MT-0123456789', apiKey: 'api-key-alpha-mt', brand: 'alpha' };
const BETA = { id: 'beta', authorization: 'Secret-Beta-0123456789', apiKey: 'api-key-beta', brand: 'beta' };
const ALPHA_SECRET = 'alpha-own-player-secret-at-least-32-bytes-long';
const ALPHA_SUPPORT = 'alpha-support-key-0123456789';
const ALPHA_OPERATOR = 'alpha-operator-key-0123456789';
const PLAYER_LIMIT = 40;

type Brand = 'alpha' | 'beta';
const tokenOf = (brand: Brand, playerId: string): Promise<string> =>
  playerToken(playerId, { secret: brand === 'alpha' ? ALPHA_SECRET : PLAYER_JWT_SECRET, claims: { brand } });

describe('brands: the same ext_user_id under two brands is two players (SPEC §3 "Brands")', () => {
  let database: TestDatabase;
  let one: TestApp;
  let two: TestApp;
  let db: Client;
  let callbackUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const overrides = {
      gateways: [ALPHA_DE, ALPHA_MT, BETA],
      brands: [{ id: 'alpha', playerJwtSecret: ALPHA_SECRET, supportApiKeys: [ALPHA_SUPPORT], operatorApiKeys: [ALPHA_OPERATOR] }],
      rateLimits: { playerPerMinute: PLAYER_LIMIT, supportPerMinute: 1200, gatewayBadAuthPerMinute: 20 },
      demo: true,
    };
    // two instances on one database: what one accepts reaches the other's sockets through the fan-out
    one = await createTestApp(overrides, { database });
    two = await createTestApp(overrides, { database });
    db = new Client({ connectionString: database.url });
    await db.connect();
    // nobody listens there: callbacks are refused and retried, which these tests do not look at
    callbackUrl = `http://127.0.0.1:${await freePort()}/cb`;
  });

  afterAll(async () => {
    await db.end();
    await one.close();
    await two.close();
    await database.drop();
  });

  const post = async (app: TestApp, gateway: { authorization: string }, extUserId: string, extension: Record<string, unknown> = {}): Promise<string> => {
    const reply = await postGateway(app.url, customIm({ ext_user_id: extUserId, callback_url: callbackUrl, extension }), {
      authorization: gateway.authorization,
    });
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  const call = async <T = ErrorBody>(app: TestApp, token: string, method: string, path: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${app.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };
  const listIds = async (app: TestApp, token: string, query = ''): Promise<string[]> =>
    (await call<InboxList>(app, token, 'GET', `/inbox/messages${query}`)).body.items.map((item) => item.id);
  const unreadCount = async (app: TestApp, token: string): Promise<number> =>
    (await call<{ count: number }>(app, token, 'GET', '/inbox/unread-count')).body.count;
  const support = async <T = ErrorBody>(key: string, path: string, method = 'GET'): Promise<{ status: number; body: T }> => call<T>(one, key, method, path);
  const brandOf = async (id: string): Promise<string> => (await db.query<{ brand: string }>('SELECT brand FROM messages WHERE id = $1', [id])).rows[0].brand;

  it('stores each message under its gateway’s brand, and gives a brand with two gateways one inbox', async () => {
    const playerId = `shared-${randomUUID()}`;
    const fromDe = await post(one, ALPHA_DE, playerId, { category: 'bonus' });
    const fromMt = await post(two, ALPHA_MT, playerId);
    const fromBeta = await post(one, BETA, playerId);
    expect([await brandOf(fromDe), await brandOf(fromMt), await brandOf(fromBeta)]).toEqual(['alpha', 'alpha', 'beta']);

    const alpha = await tokenOf('alpha', playerId);
    expect(await listIds(one, alpha)).toEqual([fromMt, fromDe]);
    expect(await listIds(two, alpha, '?category=bonus')).toEqual([fromDe]);
    expect(await unreadCount(one, alpha)).toBe(2);
    expect(await listIds(two, await tokenOf('beta', playerId))).toEqual([fromBeta]);
  });

  it("runs every player route with two brands sharing an id: each sees and changes only its own, the other's ids answer 404", async () => {
    const playerId = `shared-${randomUUID()}`;
    const [alpha, beta] = [await tokenOf('alpha', playerId), await tokenOf('beta', playerId)];
    const alphaIds = [await post(one, ALPHA_DE, playerId), await post(one, ALPHA_MT, playerId)];
    const betaIds = [await post(two, BETA, playerId), await post(two, BETA, playerId)];

    expect(await listIds(one, alpha, '?unread=true')).toEqual([...alphaIds].reverse());
    expect(await listIds(two, beta, '?unread=true')).toEqual([...betaIds].reverse());
    for (const [token, others] of [
      [alpha, betaIds],
      [beta, alphaIds],
    ] as const) {
      for (const [method, path] of [
        ['POST', `/inbox/messages/${others[0]}/opened`],
        ['POST', `/inbox/messages/${others[0]}/clicked`],
        ['DELETE', `/inbox/messages/${others[0]}`],
      ]) {
        expect({ route: `${method} ${path}`, status: (await call(one, token, method, path)).status }).toEqual({ route: `${method} ${path}`, status: 404 });
      }
    }
    // nothing of either brand changed through the other's token
    const untouched = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE ext_user_id = $1 AND opened_at IS NULL AND clicked_at IS NULL AND archived_at IS NULL`,
      [playerId],
    );
    expect(untouched.rows[0].n).toBe(4);

    expect((await call(one, alpha, 'POST', `/inbox/messages/${alphaIds[0]}/opened`)).status).toBe(200);
    expect((await call(one, beta, 'DELETE', `/inbox/messages/${betaIds[0]}`)).status).toBe(204);
    expect(await unreadCount(one, alpha)).toBe(1);
    expect(await unreadCount(two, beta)).toBe(1);

    expect((await call<{ read: number }>(one, alpha, 'POST', '/inbox/read-all')).body).toEqual({ read: 1 });
    expect(await unreadCount(one, alpha)).toBe(0);
    expect(await unreadCount(one, beta)).toBe(1);
    expect((await call(two, alpha, 'POST', `/inbox/messages/${alphaIds[1]}/clicked`)).status).toBe(200);
    const clicked = await db.query<{ id: string }>('SELECT id FROM messages WHERE ext_user_id = $1 AND clicked_at IS NOT NULL', [playerId]);
    expect(clicked.rows.map((row) => row.id)).toEqual([alphaIds[1]]);
    expect(await listIds(two, beta, '?unread=true')).toEqual([betaIds[1]]);
  });

  it('keeps sockets apart across two instances: catch-up, live pushes, update and unread reach only the brand’s own player', async () => {
    const playerId = `shared-${randomUUID()}`;
    const alphaWaiting = await post(one, ALPHA_DE, playerId);
    const betaWaiting = await post(two, BETA, playerId);

    // alpha's two tabs on different instances (the second opens once the first has the catch-up), beta's on a third socket
    const alphaOnOne = await SocketPlayer.connect(one.url, await tokenOf('alpha', playerId));
    const betaOnTwo = await SocketPlayer.connect(two.url, await tokenOf('beta', playerId));
    await alphaOnOne.waitForUnread(1);
    await betaOnTwo.waitForUnread(1);
    const alphaOnTwo = await SocketPlayer.connect(two.url, await tokenOf('alpha', playerId));
    try {
      await alphaOnTwo.waitForUnread(1);
      expect(alphaOnOne.messages.map((message) => message.id)).toEqual([alphaWaiting]);
      expect(betaOnTwo.messages.map((message) => message.id)).toEqual([betaWaiting]);

      // accepted on instance two, pushed to alpha's tab on instance one through the fan-out, and to the one on two
      const alphaLive = await post(two, ALPHA_MT, playerId);
      await alphaOnOne.waitForMessages(2);
      await alphaOnTwo.waitFor(() => alphaOnTwo.messages.some((message) => message.id === alphaLive), 'the live push in the second tab');
      expect(alphaOnOne.messages[1].id).toBe(alphaLive);
      await alphaOnOne.waitForUnread(2);
      const betaLive = await post(one, BETA, playerId);
      await betaOnTwo.waitForMessages(2);
      expect(betaOnTwo.messages[1].id).toBe(betaLive);
      await betaOnTwo.waitForUnread(2);

      // an open in one of alpha's tabs updates its other tab, on the other instance; beta hears nothing
      const betaSeen = (): unknown => [betaOnTwo.messages.length, betaOnTwo.updates.length, betaOnTwo.unread.length];
      const betaBefore = betaSeen();
      expect(await alphaOnOne.emit('opened', { id: alphaLive })).toEqual({ ok: true });
      await alphaOnTwo.waitFor(
        () => alphaOnTwo.updates.some((view) => view.id === alphaLive && view.opened_at !== null),
        'the update of the open in the other tab',
      );
      await alphaOnTwo.waitForUnread(1);
      expect(betaSeen()).toEqual(betaBefore);

      // socket actions on the other brand's ids are refused as unknown messages
      for (const event of ['opened', 'clicked', 'archive'] as const) {
        expect(await betaOnTwo.emit(event, { id: alphaWaiting })).toEqual({ ok: false, error: 'message not found' });
        expect(await alphaOnOne.emit(event, { id: betaWaiting })).toEqual({ ok: false, error: 'message not found' });
      }
      await expectQuietFor(300, 'pushes, updates or counts to the beta player', betaSeen);
      expect(betaOnTwo.unread[betaOnTwo.unread.length - 1]).toBe(2);

      // each ack delivered its own brand's message only
      const delivered = async (): Promise<void> => {
        const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE ext_user_id = $1 AND delivered_at IS NOT NULL`, [
          playerId,
        ]);
        expect(rows[0].n).toBe(4);
      };
      await eventually(delivered, { what: 'the four acks recorded' });
    } finally {
      alphaOnOne.close();
      alphaOnTwo.close();
      betaOnTwo.close();
    }
  });

  it('a click link records the click on its own message only', async () => {
    const playerId = `shared-${randomUUID()}`;
    const alphaId = await post(one, ALPHA_DE, playerId, { cta_url: 'https://alpha.example/offer' });
    const betaId = await post(one, BETA, playerId, { cta_url: 'https://beta.example/offer' });
    const [betaView] = (await call<InboxList>(one, await tokenOf('beta', playerId), 'GET', '/inbox/messages')).body.items;
    const response = await fetch(`${two.url}${betaView.cta_link}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://beta.example/offer');
    const clicked = await db.query<{ id: string }>('SELECT id FROM messages WHERE id = ANY($1::uuid[]) AND clicked_at IS NOT NULL', [[alphaId, betaId]]);
    expect(clicked.rows.map((row) => row.id)).toEqual([betaId]);
  });

  describe('tokens', () => {
    it.each([
      ["brand alpha's own key with beta's claim", () => playerToken('p1', { secret: ALPHA_SECRET, claims: { brand: 'beta' } })],
      ["the global key with alpha's claim (alpha has a key of its own)", () => playerToken('p1', { claims: { brand: 'alpha' } })],
      ['no brand claim while two brands exist', () => playerToken('p1', { secret: ALPHA_SECRET })],
      ['no brand claim, global key', () => playerToken('p1')],
      ['a brand that is not configured', () => playerToken('p1', { claims: { brand: 'gamma' } })],
      ['a brand claim that is not a string', () => playerToken('p1', { claims: { brand: ['alpha'] } })],
    ])('refuses %s, over REST and the socket', async (_case, mint) => {
      const token = await mint();
      expect((await call(one, token, 'GET', '/inbox/unread-count')).status).toBe(401);
      expect(await SocketPlayer.refusal(two.url, token)).toBe('unauthorized');
    });

    it('accepts each brand’s player with the brand’s key', async () => {
      expect((await call(one, await tokenOf('alpha', 'p1'), 'GET', '/inbox/unread-count')).status).toBe(200);
      expect((await call(one, await tokenOf('beta', 'p1'), 'GET', '/inbox/unread-count')).status).toBe(200);
    });
  });

  it("mints a demo token as the brand's backend would: its key, its claim; without a brand it asks for one", async () => {
    const mint = async (body: Record<string, unknown>): Promise<{ status: number; body: { token?: string; brand?: string; message?: string[] } }> => {
      const response = await fetch(`${one.url}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { token?: string; brand?: string; message?: string[] } };
    };
    const alpha = await mint({ ext_user_id: 'p1', brand: 'alpha' });
    expect(alpha.body.brand).toBe('alpha');
    const { jwtVerify } = await import('jose');
    const { payload } = await jwtVerify(alpha.body.token!, new TextEncoder().encode(ALPHA_SECRET));
    expect(payload).toMatchObject({ sub: 'p1', brand: 'alpha' });
    expect((await call(two, alpha.body.token!, 'GET', '/inbox/unread-count')).status).toBe(200);
    expect(await mint({ ext_user_id: 'p1' })).toEqual({
      status: 400,
      body: expect.objectContaining({ message: ['brand is required when more than one brand is configured'] }),
    });
  });

  it('limits request rates per player, so one brand’s player cannot use up the other’s', async () => {
    const playerId = `shared-${randomUUID()}`;
    const alpha = await tokenOf('alpha', playerId);
    const statuses: number[] = [];
    for (let i = 0; i <= PLAYER_LIMIT; i += 1) statuses.push((await call(one, alpha, 'GET', '/inbox/unread-count')).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(PLAYER_LIMIT);
    expect(statuses[PLAYER_LIMIT]).toBe(429);
    expect((await call(one, await tokenOf('beta', playerId), 'GET', '/inbox/unread-count')).status).toBe(200);
  });

  describe('support', () => {
    let playerId: string;
    let alphaId: string;
    let betaId: string;

    beforeAll(async () => {
      playerId = `shared-${randomUUID()}`;
      alphaId = await post(one, ALPHA_DE, playerId);
      betaId = await post(one, BETA, playerId);
    });

    it("shows a message's brand, and a brand's key only that brand: the other's ids and player page answer 404", async () => {
      const own = await support<SupportMessageDetail>(ALPHA_SUPPORT, `/support/messages/${alphaId}`);
      expect(own.status).toBe(200);
      expect(own.body.message).toMatchObject({ id: alphaId, brand: 'alpha', gateway_id: ALPHA_DE.id, ext_user_id: playerId });
      expect((await support(ALPHA_SUPPORT, `/support/messages/${betaId}`)).status).toBe(404);
      expect((await support(ALPHA_SUPPORT, `/support/messages/${betaId}/callbacks/retry`, 'POST')).status).toBe(404);
      expect((await support(ALPHA_SUPPORT, `/support/players/${playerId}?brand=beta`)).status).toBe(404);

      const page = await support<SupportPlayer>(ALPHA_SUPPORT, `/support/players/${playerId}`);
      expect(page.body).toMatchObject({ brand: 'alpha', ext_user_id: playerId, unread_count: 1 });
      expect(page.body.messages.items.map((item) => item.id)).toEqual([alphaId]);
      const search = await support<SupportMessageList>(ALPHA_SUPPORT, `/support/messages?ext_user_id=${playerId}`);
      expect(search.body.items.map((item) => item.id)).toEqual([alphaId]);
      expect((await support<SupportMessageList>(ALPHA_SUPPORT, `/support/messages?ext_user_id=${playerId}&brand=beta`)).body.items).toEqual([]);
    });

    it('lets a global key see both brands, filter by brand, and asks it which brand a player page means', async () => {
      expect((await support(SUPPORT_KEY, `/support/messages/${betaId}`)).status).toBe(200);
      expect((await support(SUPPORT_KEY, `/support/messages/${alphaId}`)).status).toBe(200);
      const all = await support<SupportMessageList>(SUPPORT_KEY, `/support/messages?ext_user_id=${playerId}`);
      expect(all.body.items.map((item) => [item.id, item.brand])).toEqual([
        [betaId, 'beta'],
        [alphaId, 'alpha'],
      ]);
      const onlyBeta = await support<SupportMessageList>(SUPPORT_KEY, `/support/messages?ext_user_id=${playerId}&brand=beta`);
      expect(onlyBeta.body.items.map((item) => item.id)).toEqual([betaId]);

      const noBrand = await support(SUPPORT_KEY, `/support/players/${playerId}`);
      expect(noBrand.status).toBe(400);
      expect(noBrand.body.message).toEqual(['brand is required when more than one brand is configured']);
      const unknown = await support(SUPPORT_KEY, `/support/players/${playerId}?brand=gamma`);
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toEqual(['brand "gamma" is not a configured brand']);
      const beta = await support<SupportPlayer>(SUPPORT_KEY, `/support/players/${playerId}?brand=beta`);
      expect(beta.body).toMatchObject({ brand: 'beta', ext_user_id: playerId, unread_count: 1, last_seen_at: null, connected: false });
      expect(beta.body.messages.items.map((item) => item.id)).toEqual([betaId]);
    });

    it("keeps presence per brand: alpha's open socket is not beta's", async () => {
      const socket = await SocketPlayer.connect(two.url, await tokenOf('alpha', playerId));
      try {
        await socket.waitForMessages(1);
        const alpha = await support<SupportPlayer>(SUPPORT_KEY, `/support/players/${playerId}?brand=alpha`);
        expect(alpha.body.connected).toBe(true);
        expect(alpha.body.last_seen_at).not.toBeNull();
        const beta = await support<SupportPlayer>(SUPPORT_KEY, `/support/players/${playerId}?brand=beta`);
        expect(beta.body).toMatchObject({ connected: false, last_seen_at: null });
      } finally {
        socket.close();
      }
    });
  });

  describe('operator API (SPEC v2 §7)', () => {
    const operator = async (key: string, method: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await fetch(`${one.url}/operator${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    it("limits a brand's operator key to its brand: another brand's messages and players are out of reach", async () => {
      const playerId = `shared-${randomUUID()}`;
      const alphaId = await post(one, ALPHA_DE, playerId, { group: 'offer-9' });
      const betaId = await post(one, BETA, playerId, { group: 'offer-9' });

      expect((await operator(ALPHA_OPERATOR, 'POST', '/messages/void', { id: betaId, reason: 'x' })).body).toEqual({ voided: 0 });
      expect((await operator(ALPHA_OPERATOR, 'POST', '/messages/void', { id: betaId, brand: 'beta', reason: 'x' })).body).toEqual({ voided: 0 });
      expect((await operator(ALPHA_OPERATOR, 'POST', '/messages/void', { group: 'offer-9', reason: 'x' })).body).toEqual({ voided: 1 });
      expect(await listIds(one, await tokenOf('alpha', playerId))).toEqual([]);
      expect(await listIds(one, await tokenOf('beta', playerId))).toEqual([betaId]);
      const voided = await db.query<{ id: string }>('SELECT id FROM messages WHERE id = ANY($1::uuid[]) AND voided_at IS NOT NULL', [[alphaId, betaId]]);
      expect(voided.rows.map((row) => row.id)).toEqual([alphaId]);

      const other = await operator(ALPHA_OPERATOR, 'PUT', `/players/${playerId}/suppression`, { brand: 'beta', state: 'self_excluded' });
      expect(other.status).toBe(404);
      expect((await operator(ALPHA_OPERATOR, 'GET', `/players/${playerId}/suppression?brand=beta`, undefined)).status).toBe(404);
      // the global key names the brand when there are several
      const noBrand = await operator(OPERATOR_KEY, 'PUT', `/players/${playerId}/suppression`, { state: 'self_excluded' });
      expect(noBrand).toMatchObject({ status: 400, body: { message: ['brand is required when more than one brand is configured'] } });
      expect((await operator(OPERATOR_KEY, 'POST', '/messages/void', { id: betaId, reason: 'x' })).status).toBe(400);
      expect((await operator(OPERATOR_KEY, 'POST', '/messages/void', { id: betaId, brand: 'beta', reason: 'x' })).body).toEqual({ voided: 1 });
    });
  });
});
