import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import type { MessageRow } from '../../src/messages/message.view';
import { createTestApp, TestApp } from '../utils/create-test-app';
import { eventually, expectQuietFor, sleep } from '../utils/eventually';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken, unsignedToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

describe('socket.io /inbox (SPEC §3)', () => {
  let sut: TestApp;
  let db: Client;
  const open: SocketPlayer[] = [];

  beforeAll(async () => {
    sut = await createTestApp();
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterEach(() => {
    for (const player of open.splice(0)) player.close();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
  });

  const newPlayer = (): string => `player-${randomUUID()}`;
  const connect = async (playerId: string, autoAck = true): Promise<SocketPlayer> => {
    const player = await SocketPlayer.connect(sut.url, await playerToken(playerId), { autoAck });
    open.push(player);
    return player;
  };
  const post = async (playerId: string, extension: Record<string, unknown> = {}): Promise<string> => {
    const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, extension: { title: 'Hello', ...extension } }));
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  const row = async (id: string): Promise<MessageRow> => (await db.query<MessageRow>('SELECT * FROM messages WHERE id = $1', [id])).rows[0];
  const events = async (id: string): Promise<string[]> =>
    (await db.query<{ event: string }>('SELECT event FROM message_events WHERE message_id = $1 ORDER BY id', [id])).rows.map((r) => r.event);

  describe('authentication', () => {
    it.each([
      ['no token', () => Promise.resolve(undefined)],
      ['a garbage token', () => Promise.resolve('not.a.jwt')],
      ['a token signed with another secret', () => playerToken('p1', { secret: 'another-secret-that-is-at-least-32-bytes' })],
      ['an expired token', () => playerToken('p1', { expiresIn: Math.floor(Date.now() / 1000) - 60 })],
      ['an alg:none token', () => Promise.resolve(unsignedToken('p1'))],
      ['a token without sub', () => playerToken('p1', { withoutSub: true })],
      ['a token without exp', () => playerToken('p1', { withoutExp: true })],
    ])('refuses %s with connect_error "unauthorized"', async (_case, token) => {
      expect(await SocketPlayer.refusal(sut.url, await token())).toBe('unauthorized');
    });
  });

  describe('delivery', () => {
    it('pushes a message live with its view, and the ack marks it delivered once', async () => {
      const playerId = newPlayer();
      const player = await connect(playerId, false);
      await player.waitForUnread(0);
      const id = await post(playerId, { category: 'bonus', priority: 'high' });

      await player.waitForMessages(1);
      expect(player.messages[0]).toEqual({
        id,
        im_uid: expect.any(String),
        body: 'Best offer ever',
        extension: { title: 'Hello', category: 'bonus', priority: 'high' },
        display: 'both',
        priority: 'high',
        category: 'bonus',
        cta_link: null,
        created_at: expect.stringMatching(/Z$/),
        delivered_at: null,
        opened_at: null,
        clicked_at: null,
        read_at: null,
        expires_at: null,
        body_html: null,
        buttons: [],
        starred_at: null,
        popup: true,
        action_result: null,
      });
      await player.waitForUnread(1);
      expect((await row(id)).delivered_at).toBeNull();

      player.ack(id);
      await waitUntil(async () => (await row(id)).delivered_at !== null);
      expect(await events(id)).toEqual(['delivered']);
    });

    it('catches up on connect with every undelivered, unexpired message, oldest first, and the exact unread count', async () => {
      const playerId = newPlayer();
      const first = await post(playerId);
      const popup = await post(playerId, { display: 'popup' });
      await post(playerId, { expires_at: new Date(Date.now() - 1000).toISOString() });
      const third = await post(playerId, { display: 'inbox' });

      const player = await connect(playerId);
      await player.waitForMessages(3);
      await expectQuietFor(100, 'catch-up messages', () => player.messages.length);
      expect(player.messages.map((message) => message.id)).toEqual([first, popup, third]);
      // popup-only messages are shown but never counted in the inbox
      await player.waitForUnread(2);
    });

    it('does not send again what was acked, but does send again what was not', async () => {
      const playerId = newPlayer();
      const acked = await post(playerId);
      const unacked = await post(playerId);
      const tab = await connect(playerId, false);
      await tab.waitForMessages(2);
      tab.ack(acked);
      await waitUntil(async () => (await row(acked)).delivered_at !== null);
      tab.close();

      const again = await connect(playerId);
      await again.waitForMessages(1);
      await expectQuietFor(150, 'messages sent again', () => again.messages.length);
      expect(again.messages.map((message) => message.id)).toEqual([unacked]);
    });

    it('delivers to every tab of a player, and several acks record one delivery', async () => {
      const playerId = newPlayer();
      const tabs = await Promise.all([connect(playerId), connect(playerId)]);
      const id = await post(playerId);
      await Promise.all(tabs.map((tab) => tab.waitForMessages(1)));
      await waitUntil(async () => (await row(id)).delivered_at !== null);
      await expectQuietFor(100, 'delivery events', () => events(id));
      expect(await events(id)).toEqual(['delivered']);
    });

    it('keeps players apart: a message reaches only its own player', async () => {
      const [alice, bob] = [newPlayer(), newPlayer()];
      const aliceSocket = await connect(alice);
      const bobSocket = await connect(bob);
      await post(alice);
      await aliceSocket.waitForMessages(1);
      await expectQuietFor(150, "messages on the other player's socket", () => bobSocket.messages.length);
      expect(bobSocket.messages).toHaveLength(0);
    });
  });

  describe('player actions', () => {
    it('opened, clicked and archive update the message, the other tabs and the unread count', async () => {
      const playerId = newPlayer();
      const [tab, other] = [await connect(playerId), await connect(playerId)];
      const id = await post(playerId);
      await tab.waitForMessages(1);
      await other.waitForUnread(1);

      expect(await tab.emit('opened', { id })).toEqual({ ok: true });
      await other.waitForUnread(0);
      await other.waitFor(() => other.updates.some((view) => view.id === id && view.opened_at !== null), 'opened update');
      const opened = await row(id);
      expect(opened.opened_at).not.toBeNull();
      expect(opened.read_at).not.toBeNull();

      expect(await tab.emit('clicked', { id })).toEqual({ ok: true });
      expect((await row(id)).clicked_at).not.toBeNull();
      expect(await tab.emit('archive', { id })).toEqual({ ok: true });
      expect((await row(id)).archived_at).not.toBeNull();
      expect(await events(id)).toEqual(['delivered', 'opened', 'read', 'clicked', 'archived']);

      // repeating an action changes nothing more
      expect(await tab.emit('opened', { id })).toEqual({ ok: false, error: 'message not found' });
    });

    it('a click with no open first records delivered, opened, read, clicked in that order', async () => {
      const playerId = newPlayer();
      const tab = await connect(playerId, false);
      const id = await post(playerId);
      await tab.waitForMessages(1);
      expect(await tab.emit('clicked', { id })).toEqual({ ok: true });
      expect(await events(id)).toEqual(['delivered', 'opened', 'read', 'clicked']);
    });

    it("refuses another player's message as not found and changes nothing", async () => {
      const [alice, mallory] = [newPlayer(), newPlayer()];
      const id = await post(alice);
      const intruder = await connect(mallory);
      for (const event of ['opened', 'clicked', 'archive'] as const) {
        expect(await intruder.emit(event, { id })).toEqual({ ok: false, error: 'message not found' });
      }
      expect(await events(id)).toEqual([]);
      expect(await intruder.emit('opened', { id: randomUUID() })).toEqual({ ok: false, error: 'message not found' });
    });

    it.each([
      ['no payload', undefined],
      ['a string payload', 'abc'],
      ['no id', {}],
      ['an id that is not a uuid', { id: "1' OR '1'='1" }],
      ['a numeric id', { id: 5 }],
    ])('answers %s with a clear refusal', async (_case, payload) => {
      const tab = await connect(newPlayer());
      expect(await tab.emit('opened', payload)).toEqual({ ok: false, error: 'id must be a message id (uuid)' });
    });

    it('rate-limits a flood of events from one socket, keeping the socket', async () => {
      const playerId = newPlayer();
      const tab = await connect(playerId);
      const id = await post(playerId);
      await tab.waitForMessages(1);
      const replies = await Promise.all(Array.from({ length: 60 }, () => tab.emit('opened', { id })));
      expect(replies.filter((reply) => reply.error === 'rate limited').length).toBeGreaterThanOrEqual(30);
      expect(tab.connected).toBe(true);
      await sleep(1100);
      expect(await tab.emit('archive', { id })).toEqual({ ok: true });
    });
  });

  it('loses and duplicates nothing when connects race posts (200 iterations)', async () => {
    const iterations = 200;
    const perIteration = 8;
    let lost = 0;
    let duplicated = 0;
    // each iteration posts a stream of messages while its player connects somewhere in the middle,
    // so commits land before, during and after the connect's catch-up query
    const runOne = async (): Promise<void> => {
      const playerId = newPlayer();
      const posting = (async () => {
        const ids: string[] = [];
        for (let i = 0; i < perIteration; i += 1) ids.push(await post(playerId));
        return ids;
      })();
      await sleep(Math.floor(Math.random() * 25));
      const player = await SocketPlayer.connect(sut.url, await playerToken(playerId));
      const ids = await posting;
      try {
        await player.waitForMessages(perIteration, 3_000);
      } catch {
        // counted below
      }
      await sleep(50);
      const received = player.messages.map((message) => message.id);
      player.close();
      for (const id of ids) {
        const times = received.filter((receivedId) => receivedId === id).length;
        if (times === 0) lost += 1;
        if (times > 1) duplicated += 1;
      }
    };
    for (let batch = 0; batch < iterations / 10; batch += 1) {
      await Promise.all(Array.from({ length: 10 }, runOne));
    }
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  await eventually(condition, { what: 'the delivery to be recorded', timeoutMs });
}
