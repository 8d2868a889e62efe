import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import type { InboxList } from '../../src/inbox/inbox.service';
import { createTestApp, TestApp } from '../utils/create-test-app';
import { customIm, postGateway } from '../utils/gateway-client';
import { ErrorBody } from '../utils/http-json';
import { playerToken, unsignedToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

describe('player REST /inbox (SPEC §3)', () => {
  let sut: TestApp;
  let db: Client;

  beforeAll(async () => {
    sut = await createTestApp();
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
  });

  const newPlayer = (): string => `player-${randomUUID()}`;
  const post = async (playerId: string, extension: Record<string, unknown> = {}): Promise<string> => {
    const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, extension }));
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  const call = async <T = ErrorBody>(playerId: string | null, method: string, path: string, token?: string): Promise<{ status: number; body: T }> => {
    const auth = token ?? (playerId === null ? undefined : await playerToken(playerId));
    const response = await fetch(`${sut.url}${path}`, { method, headers: auth === undefined ? {} : { authorization: `Bearer ${auth}` } });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };
  const list = async (playerId: string, query = ''): Promise<InboxList> => (await call<InboxList>(playerId, 'GET', `/inbox/messages${query}`)).body;
  const events = async (id: string): Promise<string[]> =>
    (await db.query<{ event: string }>('SELECT event FROM message_events WHERE message_id = $1 ORDER BY id', [id])).rows.map((r) => r.event);

  describe('authentication', () => {
    it.each([
      ['no token', undefined],
      ['a garbage token', 'garbage'],
      ['an alg:none token', unsignedToken('p1')],
    ])('answers 401 JSON for %s', async (_case, token) => {
      const response = await fetch(`${sut.url}/inbox/messages`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ statusCode: 401 });
    });

    it('answers 401 for an expired token and for a token of another secret', async () => {
      expect((await call(null, 'GET', '/inbox/unread-count', await playerToken('p1', { expiresIn: Math.floor(Date.now() / 1000) - 60 }))).status).toBe(401);
      expect((await call(null, 'GET', '/inbox/unread-count', await playerToken('p1', { secret: 'x'.repeat(40) }))).status).toBe(401);
    });
  });

  describe('GET /inbox/messages', () => {
    it('lists newest first, leaving out archived, popup-only and expired messages', async () => {
      const playerId = newPlayer();
      const a = await post(playerId);
      await post(playerId, { display: 'popup' });
      const b = await post(playerId, { display: 'inbox' });
      await post(playerId, { expires_at: new Date(Date.now() - 1000).toISOString() });
      const archived = await post(playerId);
      expect((await call(playerId, 'DELETE', `/inbox/messages/${archived}`)).status).toBe(204);
      const later = await post(playerId, { expires_at: new Date(Date.now() + 3_600_000).toISOString() });

      const page = await list(playerId);
      expect(page.items.map((item) => item.id)).toEqual([later, b, a]);
      expect(page.next_cursor).toBeNull();
      expect(page.items[0]).toMatchObject({ id: later, display: 'both', priority: 'normal', cta_link: null, read_at: null });
    });

    it('pages through with an opaque cursor that stays correct while new messages arrive', async () => {
      const playerId = newPlayer();
      const ids: string[] = [];
      for (let i = 0; i < 25; i += 1) ids.push(await post(playerId));
      const newestFirst = [...ids].reverse();

      const first = await list(playerId, '?limit=10');
      expect(first.items.map((item) => item.id)).toEqual(newestFirst.slice(0, 10));
      // a new message arrives between pages: it is newer than the cursor, so it appears on no later page
      await post(playerId);
      const second = await list(playerId, `?limit=10&cursor=${first.next_cursor}`);
      const third = await list(playerId, `?limit=10&cursor=${second.next_cursor}`);
      expect(second.items.map((item) => item.id)).toEqual(newestFirst.slice(10, 20));
      expect(third.items.map((item) => item.id)).toEqual(newestFirst.slice(20));
      expect(third.next_cursor).toBeNull();
    });

    it('filters by unread and by category', async () => {
      const playerId = newPlayer();
      const bonus = await post(playerId, { category: 'bonus' });
      const news = await post(playerId, { category: 'news' });
      await call(playerId, 'POST', `/inbox/messages/${news}/opened`);
      expect((await list(playerId, '?unread=true')).items.map((item) => item.id)).toEqual([bonus]);
      expect((await list(playerId, '?category=news')).items.map((item) => item.id)).toEqual([news]);
      expect((await list(playerId, '?category=news&unread=true')).items).toEqual([]);
      expect((await list(playerId, "?category=' OR 1=1 --")).items).toEqual([]);
    });

    it.each([
      ['?limit=0', 'limit must be at least 1'],
      ['?limit=101', 'limit must be at most 100'],
      ['?limit=ten', 'limit must be an integer'],
      ['?unread=maybe', 'unread must be true or false'],
      ['?cursor=not-a-cursor!', 'cursor is not valid'],
      [`?cursor=${Buffer.from("1.x' OR 1=1").toString('base64url')}`, 'cursor is not valid'],
    ])('answers 400 naming the problem for %s', async (query, message) => {
      const response = await call(newPlayer(), 'GET', `/inbox/messages${query}`);
      expect(response.status).toBe(400);
      expect(response.body.message).toContain(message);
    });
  });

  describe('actions', () => {
    it('opened marks opened, read and delivered, returns the view, and lowers the unread count', async () => {
      const playerId = newPlayer();
      const id = await post(playerId);
      await post(playerId);
      expect((await call(playerId, 'GET', '/inbox/unread-count')).body).toEqual({ count: 2, categories: {} });

      const response = await call(playerId, 'POST', `/inbox/messages/${id}/opened`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id, opened_at: expect.any(String), read_at: expect.any(String), delivered_at: expect.any(String) });
      expect((await call(playerId, 'GET', '/inbox/unread-count')).body).toEqual({ count: 1, categories: {} });
      expect(await events(id)).toEqual(['delivered', 'opened', 'read']);
    });

    it('clicked marks clicked with the implied steps, once', async () => {
      const playerId = newPlayer();
      const id = await post(playerId);
      expect((await call(playerId, 'POST', `/inbox/messages/${id}/clicked`)).body).toMatchObject({ clicked_at: expect.any(String) });
      expect((await call(playerId, 'POST', `/inbox/messages/${id}/clicked`)).status).toBe(200);
      expect(await events(id)).toEqual(['delivered', 'opened', 'read', 'clicked']);
    });

    it('read-all marks everything read and records no delivery, open or click', async () => {
      const playerId = newPlayer();
      const ids = [await post(playerId), await post(playerId), await post(playerId)];
      const response = await call(playerId, 'POST', '/inbox/read-all');
      expect(response.body).toEqual({ read: 3 });
      expect((await call(playerId, 'GET', '/inbox/unread-count')).body).toEqual({ count: 0, categories: {} });
      for (const id of ids) expect(await events(id)).toEqual(['read']);
      expect((await call(playerId, 'POST', '/inbox/read-all')).body).toEqual({ read: 0 });
    });

    it("answers 404 for another player's message and for an unknown id, and 400 for a malformed id", async () => {
      const [alice, mallory] = [newPlayer(), newPlayer()];
      const id = await post(alice);
      for (const [method, path] of [
        ['POST', `/inbox/messages/${id}/opened`],
        ['POST', `/inbox/messages/${id}/clicked`],
        ['DELETE', `/inbox/messages/${id}`],
        ['POST', `/inbox/messages/${randomUUID()}/opened`],
      ]) {
        const response = await call(mallory, method, path);
        expect(response.status).toBe(404);
        expect(response.body).toEqual({ statusCode: 404, message: 'message not found', error: 'Not Found' });
      }
      expect(await events(id)).toEqual([]);
      const malformed = await call(mallory, 'POST', '/inbox/messages/not-a-uuid/opened');
      expect(malformed.status).toBe(400);
      expect(malformed.body.message).toEqual(['id must be a message id (uuid)']);
    });

    it("keeps the player's open sockets in sync with what the REST API changes", async () => {
      const playerId = newPlayer();
      const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId));
      try {
        const id = await post(playerId);
        await socket.waitForUnread(1);
        await call(playerId, 'POST', `/inbox/messages/${id}/opened`);
        await socket.waitForUnread(0);
        await socket.waitFor(() => socket.updates.some((view) => view.id === id && view.read_at !== null), 'an update with read_at');
      } finally {
        socket.close();
      }
    });
  });
});
