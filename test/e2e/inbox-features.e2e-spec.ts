import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import type { InboxList } from '../../src/inbox/inbox.service';
import type { MessageView } from '../../src/messages/message.view';
import { createTestApp, TestApp } from '../utils/create-test-app';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

/** SPEC v2 §2–§3: favourites, counts per category, archive-all, rich bodies, buttons and the popup cap. */
describe('inbox features (issue 16)', () => {
  let sut: TestApp;
  let db: Client;
  const sockets: SocketPlayer[] = [];

  beforeAll(async () => {
    sut = await createTestApp({ popups: { maxPerHour: 2, maxAgeSeconds: 3_600 } });
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
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
  const call = async <T>(playerId: string, method: string, path: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${sut.url}${path}`, { method, headers: { authorization: `Bearer ${await playerToken(playerId)}` } });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };
  const list = async (playerId: string, query = ''): Promise<MessageView[]> => (await call<InboxList>(playerId, 'GET', `/inbox/messages${query}`)).body.items;
  const tab = async (playerId: string): Promise<SocketPlayer> => {
    const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId));
    sockets.push(socket);
    return socket;
  };
  const unreadCount = async (playerId: string): Promise<{ count: number; categories: Record<string, number> }> =>
    (await call<{ count: number; categories: Record<string, number> }>(playerId, 'GET', '/inbox/unread-count')).body;

  describe('favourites', () => {
    it('a star in one tab reaches the other through update; REST star/unstar are idempotent; starred=true filters', async () => {
      const player = newPlayer();
      const [first, second] = [await post(player), await post(player)];
      // the first tab's acks deliver them: the second, connected after, has nothing to catch up
      const tabA = await tab(player);
      await tabA.waitForMessages(2);
      const tabB = await tab(player);

      expect(await tabA.emit('star', { id: first })).toEqual({ ok: true });
      await tabB.waitFor(() => tabB.updates.some((view) => view.id === first && view.starred_at !== null), 'starred update in the other tab');
      expect((await list(player, '?starred=true')).map((view) => view.id)).toEqual([first]);

      const starred = await call<MessageView>(player, 'POST', `/inbox/messages/${second}/star`);
      const again = await call<MessageView>(player, 'POST', `/inbox/messages/${second}/star`);
      expect(starred.status).toBe(200);
      expect(again.body.starred_at).toBe(starred.body.starred_at);
      expect((await list(player, '?starred=true')).map((view) => view.id).sort()).toEqual([first, second].sort());

      const unstarred = await call<MessageView>(player, 'DELETE', `/inbox/messages/${first}/star`);
      expect(unstarred.body.starred_at).toBeNull();
      expect((await call<MessageView>(player, 'DELETE', `/inbox/messages/${first}/star`)).body.starred_at).toBeNull();
      expect((await list(player, '?starred=true')).map((view) => view.id)).toEqual([second]);
      expect(await tabA.emit('unstar', { id: second })).toEqual({ ok: true });
      await tabB.waitFor(() => tabB.updates.some((view) => view.id === second && view.starred_at === null), 'unstarred update');
      // no status callback: a star is not one of Smartico's statuses
      const callbacks = await db.query(`SELECT status FROM callbacks WHERE message_id = ANY($1::uuid[]) AND status <> 'delivered'`, [[first, second]]);
      expect(callbacks.rows).toEqual([]);
    });

    it("another player's message cannot be starred: 404 over REST, an error over the socket", async () => {
      const [owner, other] = [newPlayer(), newPlayer()];
      const id = await post(owner);
      expect((await call(other, 'POST', `/inbox/messages/${id}/star`)).status).toBe(404);
      const socket = await tab(other);
      expect(await socket.emit('star', { id })).toEqual({ ok: false, error: 'message not found' });
      expect((await list(owner))[0].starred_at).toBeNull();
    });
  });

  describe('unread counts per category', () => {
    it('are exact over REST and the socket through open, archive, archive-all and read-all', async () => {
      const player = newPlayer();
      const bonusA = await post(player, { category: 'bonus' });
      await post(player, { category: 'bonus' });
      const news = await post(player, { category: 'news' });
      await post(player);
      const socket = await tab(player);
      await socket.waitForMessages(4);
      await socket.waitForUnread(4);
      expect(socket.unreadPayloads.at(-1)?.categories).toEqual({ bonus: 2, news: 1 });
      expect(await unreadCount(player)).toEqual({ count: 4, categories: { bonus: 2, news: 1 } });

      await call(player, 'POST', `/inbox/messages/${bonusA}/opened`);
      await socket.waitForUnread(3);
      expect(socket.unreadPayloads.at(-1)?.categories).toEqual({ bonus: 1, news: 1 });

      await call(player, 'DELETE', `/inbox/messages/${news}`);
      await socket.waitForUnread(2);
      expect(await unreadCount(player)).toEqual({ count: 2, categories: { bonus: 1 } });

      const archived = await call<{ archived: number }>(player, 'POST', '/inbox/archive-all?category=bonus');
      // the opened bonus message is archived too: archive-all takes every listed message of the category
      expect(archived.body).toEqual({ archived: 2 });
      await socket.waitForUnread(1);
      expect(socket.unreadPayloads.at(-1)?.categories).toEqual({});

      await call(player, 'POST', '/inbox/read-all');
      await socket.waitForUnread(0);
      expect(await unreadCount(player)).toEqual({ count: 0, categories: {} });
    });
  });

  describe('archive-all', () => {
    it('archives every listed message in one call, tells every tab, records the events and sends no callbacks', async () => {
      const player = newPlayer();
      const ids = [await post(player), await post(player, { category: 'x' }), await post(player)];
      const popupOnly = await post(player, { display: 'popup' });
      const tabA = await tab(player);
      await tabA.waitForMessages(4);
      const tabB = await tab(player);
      await tabB.waitForUnread(3);

      const reply = await call<{ archived: number }>(player, 'POST', '/inbox/archive-all');
      expect(reply).toEqual({ status: 200, body: { archived: 3 } });
      expect(await list(player)).toEqual([]);
      for (const socket of [tabA, tabB]) {
        await socket.waitFor(() => ids.every((id) => socket.updates.some((view) => view.id === id)), 'an update per archived message');
        await socket.waitForUnread(0);
      }
      const events = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_events WHERE message_id = ANY($1::uuid[]) AND event = 'archived'`, [
        ids,
      ]);
      expect(events.rows[0].n).toBe(3);
      const popup = await db.query<{ archived_at: Date | null }>(`SELECT archived_at FROM messages WHERE id = $1`, [popupOnly]);
      expect(popup.rows[0].archived_at).toBeNull();
      const callbacks = await db.query(`SELECT status FROM callbacks WHERE message_id = ANY($1::uuid[]) AND status <> 'delivered'`, [ids]);
      expect(callbacks.rows).toEqual([]);
      expect((await call<{ archived: number }>(player, 'POST', '/inbox/archive-all')).body).toEqual({ archived: 0 });
    });

    it('answers 400 naming a malformed category', async () => {
      const reply = await call<{ message: string }>(newPlayer(), 'POST', `/inbox/archive-all?category=${'c'.repeat(300)}`);
      expect(reply.status).toBe(400);
      expect(JSON.stringify(reply.body)).toContain('category');
    });
  });

  describe('rich body', () => {
    it('is sanitized at ingest: the view carries the safe HTML, never the raw value', async () => {
      const player = newPlayer();
      const raw =
        '<p onclick="steal()">Hi <b>there</b><script>alert(1)</script> <a href="javascript:alert(1)">x</a> <a href="https://casino.example/p">go</a></p>';
      const id = await post(player, { body_html: raw });
      const [view] = await list(player);
      expect(view.id).toBe(id);
      expect(view.body_html).toBe(
        '<p>Hi <b>there</b> <a target="_blank" rel="noopener noreferrer">x</a> <a href="https://casino.example/p" target="_blank" rel="noopener noreferrer">go</a></p>',
      );
      expect(view.extension).not.toHaveProperty('body_html');
      expect(JSON.stringify(view)).not.toContain('script');
      const socket = await tab(player);
      await socket.waitForMessages(1);
      expect(socket.messages[0].body_html).toBe(view.body_html);
      expect(socket.messages[0].extension).not.toHaveProperty('body_html');
    });
  });

  describe('buttons', () => {
    it('keep at most three well-formed ones, each url button with a tracked link whose click records clicked with its button id', async () => {
      const player = newPlayer();
      const id = await post(player, {
        buttons: [
          { text: 'Claim', url: 'https://casino.example/claim' },
          { id: 'later', text: 'Later' },
          { text: 'bad link', url: 'javascript:alert(1)' },
          { id: 'join', text: 'Join', action: 'join_tournament' },
        ],
      });
      const [view] = await list(player);
      expect(view.buttons.map(({ id: buttonId, text, action }) => ({ buttonId, text, action }))).toEqual([
        { buttonId: '0', text: 'Claim', action: null },
        { buttonId: 'later', text: 'Later', action: null },
      ]);
      expect(view.buttons[0].link).toMatch(/\/t\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(view.buttons[1].link).toBeNull();
      expect(view.buttons[0].link).not.toBe(view.cta_link);

      const followed = await fetch(`${sut.url}${view.buttons[0].link}`, { redirect: 'manual' });
      expect(followed.status).toBe(302);
      expect(followed.headers.get('location')).toBe('https://casino.example/claim');
      const events = await db.query<{ event: string; button_id: string | null }>(
        `SELECT event, button_id FROM message_events WHERE message_id = $1 AND event = 'clicked'`,
        [id],
      );
      expect(events.rows).toEqual([{ event: 'clicked', button_id: '0' }]);
      // support staff see which button it was
      const detail = await fetch(`${sut.url}/support/messages/${id}`, { headers: { authorization: `Bearer ${sut.config.supportApiKeys[0]}` } });
      const body = (await detail.json()) as { timeline: Array<{ event: string; button_id?: string }> };
      expect(body.timeline.find((entry) => entry.event === 'clicked')).toMatchObject({ button_id: '0' });
    });
  });

  describe('button presses', () => {
    const buttons = [
      { id: 'claim', text: 'Claim', url: 'https://casino.example/claim' },
      { id: 'close', text: 'Close' },
      { id: 'join', text: 'Join', action: 'join_tournament' },
    ];
    const clicks = async (id: string): Promise<Array<{ button_id: string | null }>> =>
      (await db.query<{ button_id: string | null }>(`SELECT button_id FROM message_events WHERE message_id = $1 AND event = 'clicked'`, [id])).rows;

    it('a url button records clicked once with its id and answers its target; a close button records nothing', async () => {
      const player = newPlayer();
      const id = await post(player, { buttons });
      const closed = await call<{ link: string | null }>(player, 'POST', `/inbox/messages/${id}/buttons/close`);
      expect(closed).toEqual({ status: 200, body: { link: null } });
      expect(await clicks(id)).toEqual([]);
      const pressed = await call<{ link: string | null }>(player, 'POST', `/inbox/messages/${id}/buttons/claim`);
      expect(pressed).toEqual({ status: 200, body: { link: 'https://casino.example/claim' } });
      expect((await call(player, 'POST', `/inbox/messages/${id}/buttons/claim`)).status).toBe(200);
      expect(await clicks(id)).toEqual([{ button_id: 'claim' }]);
      expect((await list(player))[0].clicked_at).not.toBeNull();
    });

    it('an action button answers 409 (no action handler configured) and records nothing; unknown buttons and other players 404', async () => {
      const [player, other] = [newPlayer(), newPlayer()];
      const id = await post(player, { buttons });
      const action = await call<{ message: string }>(player, 'POST', `/inbox/messages/${id}/buttons/join`);
      expect(action.status).toBe(409);
      expect(action.body.message).toBe('no action handler configured');
      expect((await call(player, 'POST', `/inbox/messages/${id}/buttons/nope`)).status).toBe(404);
      expect((await call(other, 'POST', `/inbox/messages/${id}/buttons/claim`)).status).toBe(404);
      expect((await call(player, 'POST', `/inbox/messages/${id}/buttons/${'b'.repeat(65)}`)).status).toBe(400);
      expect(await clicks(id)).toEqual([]);
    });

    it('the socket clicked event may carry button_id, kept on the clicked event', async () => {
      const player = newPlayer();
      const id = await post(player, { buttons });
      const socket = await tab(player);
      await socket.waitForMessages(1);
      expect(await socket.emit('clicked', { id, button_id: 'claim' })).toEqual({ ok: true });
      expect(await clicks(id)).toEqual([{ button_id: 'claim' }]);
    });
  });

  describe('popup arbitration', () => {
    it('with POPUP_MAX_PER_HOUR=2 the third normal message of the hour is not a popup, a high one still is, an inbox one never', async () => {
      const player = newPlayer();
      const ids = [
        await post(player),
        await post(player),
        await post(player),
        await post(player, { priority: 'high' }),
        await post(player, { display: 'inbox' }),
      ];
      const socket = await tab(player);
      await socket.waitForMessages(5);
      const popupOf = new Map(socket.messages.map((view) => [view.id, view.popup]));
      expect(ids.map((id) => popupOf.get(id))).toEqual([true, true, false, true, false]);
    });

    it('a message older than POPUP_MAX_AGE_S on catch-up arrives with popup false', async () => {
      const player = newPlayer();
      const [fresh, old] = [await post(player, { priority: 'high' }), await post(player, { priority: 'high' })];
      await db.query(`UPDATE messages SET created_at = now() - interval '2 hours' WHERE id = $1`, [old]);
      const socket = await tab(player);
      await socket.waitForMessages(2);
      const popupOf = new Map(socket.messages.map((view) => [view.id, view.popup]));
      expect([popupOf.get(fresh), popupOf.get(old)]).toEqual([true, false]);
    });
  });
});
