import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import type { InboxList } from '../../src/inbox/inbox.service';
import { createTestApp, GATEWAY_A, OPERATOR_KEY, SUPPORT_KEY, TestApp } from '../utils/create-test-app';
import { expectQuietFor } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

/** SPEC v2 §7: the operator takes messages back, live, for good. */
describe('operator API: void', () => {
  let sut: TestApp;
  let smartico: FakeSmarticoServer;
  let db: Client;
  const sockets: SocketPlayer[] = [];

  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    sut = await createTestApp({ callbackAllowedHosts: ['127.0.0.1'] });
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
    await smartico.close();
  });

  const newPlayer = (): string => `player-${randomUUID()}`;
  const post = async (playerId: string, extension: Record<string, unknown> = {}, imUid = `im-${randomUUID()}`): Promise<string> => {
    const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, im_uid: imUid, callback_url: smartico.url(), extension }));
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  const voidCall = async (body: unknown, key: string | null = OPERATOR_KEY): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${sut.url}/operator/messages/void`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const tab = async (playerId: string): Promise<SocketPlayer> => {
    const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId));
    sockets.push(socket);
    return socket;
  };
  const listed = async (playerId: string): Promise<string[]> => {
    const response = await fetch(`${sut.url}/inbox/messages`, { headers: { authorization: `Bearer ${await playerToken(playerId)}` } });
    return ((await response.json()) as InboxList).items.map((item) => item.id);
  };
  const statusesOf = (id: string): string[] =>
    smartico.requests.filter((request) => request.query.ext_message_id === id).map((request) => String(request.query.status));
  const eventsOf = async (id: string): Promise<string[]> =>
    (await db.query<{ event: string }>(`SELECT event FROM message_events WHERE message_id = $1 ORDER BY id`, [id])).rows.map((row) => row.event);

  it('takes a message out of every open tab at once, and out of lists, counts and catch-up for good', async () => {
    const player = newPlayer();
    const kept = await post(player);
    const offer = await post(player, { title: 'Claim 50 free spins' });
    const tabA = await tab(player);
    const tabB = await tab(player);
    await tabA.waitForMessages(2);
    await tabA.waitForUnread(2);
    await tabB.waitForUnread(2);
    await tabA.waitFor(() => statusesOf(offer).includes('delivered'), 'the delivered callback');

    expect(await voidCall({ id: offer, reason: 'claimed on another device' })).toEqual({ status: 200, body: { voided: 1 } });
    for (const socket of [tabA, tabB]) {
      await socket.waitFor(() => socket.voids.length === 1, 'the void event');
      expect(socket.voids).toEqual([{ id: offer, reason: 'claimed on another device' }]);
      await socket.waitForUnread(1);
      // the view of a voided message is not sent as an update: the tab just drops it
      expect(socket.updates.map((update) => update.id)).not.toContain(offer);
    }
    expect(await listed(player)).toEqual([kept]);

    // a reconnect brings nothing back
    const later = await tab(player);
    await later.waitForUnread(1);
    await expectQuietFor(200, 'catch-up after the void', () => later.messages.length);
    expect(later.messages).toEqual([]);

    // delivered before the void: Smartico heard delivered and hears nothing more
    await expectQuietFor(300, 'callbacks after the void', () => statusesOf(offer).length);
    expect(statusesOf(offer)).toEqual(['delivered']);
    expect(await eventsOf(offer)).toEqual(['delivered', 'voided']);

    // the player can no longer act on it
    const opened = await tabA.emit('opened', { id: offer });
    expect(opened).toEqual({ ok: false, error: 'message not found' });
  });

  it('takes it out of tabs on another instance too (one database, PostgreSQL fan-out)', async () => {
    const other = await createTestApp({ callbackAllowedHosts: ['127.0.0.1'] }, { database: sut.database });
    try {
      const player = newPlayer();
      const here = await tab(player);
      const there = await SocketPlayer.connect(other.url, await playerToken(player));
      sockets.push(there);
      const offer = await post(player);
      await here.waitForMessages(1);
      await there.waitForMessages(1);
      expect((await voidCall({ id: offer, reason: 'claimed' })).body).toEqual({ voided: 1 });
      for (const socket of [here, there]) await socket.waitFor(() => socket.voids.some((notice) => notice.id === offer), 'the void on both instances');
      await there.waitForUnread(0);
    } finally {
      await other.close();
    }
  });

  it('fails a message never delivered (Smartico hears failed once), and voiding again is a no-op', async () => {
    const player = newPlayer();
    const offer = await post(player);

    expect((await voidCall({ id: offer, reason: 'bonus expired early' })).body).toEqual({ voided: 1 });
    expect((await voidCall({ id: offer, reason: 'again' })).body).toEqual({ voided: 0 });
    const socket = await tab(player);
    await socket.waitForUnread(0);
    await socket.waitFor(() => statusesOf(offer).includes('failed'), 'the failed callback');
    await expectQuietFor(300, 'callbacks after failed', () => statusesOf(offer).length);
    expect(statusesOf(offer)).toEqual(['failed']);
    expect(socket.messages).toEqual([]);
    expect(await eventsOf(offer)).toEqual(['voided', 'failed']);
    // support staff see it, with its timeline
    const response = await fetch(`${sut.url}/support/messages/${offer}`, { headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
    const detail = (await response.json()) as { message: Record<string, unknown>; timeline: Array<{ event: string }> };
    expect(detail.message).toMatchObject({ void_reason: 'bonus expired early', status: 'failed' });
    expect(Date.parse(String(detail.message.voided_at))).not.toBeNaN();
    expect(detail.timeline.map((entry) => entry.event)).toEqual(['accepted', 'voided', 'failed']);
  });

  it('voids by (gateway_id, im_uid), and by group narrowed to one player', async () => {
    const alice = newPlayer();
    const bob = newPlayer();
    const imUid = `im-${randomUUID()}`;
    const byImUid = await post(alice, {}, imUid);
    const aliceGroup = [await post(alice, { group: 'tournament-7' }), await post(alice, { group: 'tournament-7' })];
    const bobGroup = await post(bob, { group: 'tournament-7' });
    const otherGroup = await post(alice, { group: 'tournament-8' });

    expect((await voidCall({ gateway_id: GATEWAY_A.id, im_uid: imUid, reason: 'r' })).body).toEqual({ voided: 1 });
    expect((await voidCall({ group: 'tournament-7', ext_user_id: alice, reason: 'tournament cancelled' })).body).toEqual({ voided: 2 });
    expect(await listed(alice)).toEqual([otherGroup]);
    expect(await listed(bob)).toEqual([bobGroup]);
    expect((await voidCall({ group: 'tournament-7', reason: 'tournament cancelled' })).body).toEqual({ voided: 1 });
    expect(await listed(bob)).toEqual([]);
    expect(byImUid).not.toBe(aliceGroup[0]);
  });

  it('answers 400 naming the problem, and 401 without an operator key', async () => {
    const id = randomUUID();
    expect((await voidCall({ id, reason: 'x' }, null)).status).toBe(401);
    expect((await voidCall({ id, reason: 'x' }, SUPPORT_KEY)).status).toBe(401);
    expect((await voidCall({ id, reason: 'x' }, `${OPERATOR_KEY}x`)).status).toBe(401);

    const problems = async (body: unknown): Promise<unknown> => {
      const reply = await voidCall(body);
      expect(reply.status).toBe(400);
      return reply.body.message;
    };
    expect(await problems({ reason: 'x' })).toEqual(['one of id, im_uid with gateway_id, or group is required']);
    expect(await problems({ im_uid: 'abc', reason: 'x' })).toEqual(['im_uid and gateway_id go together']);
    expect(await problems({ id: 'not-a-uuid', reason: 'x' })).toEqual(['id must be a message id (uuid)']);
    expect(await problems({ id })).toEqual(['reason must be a string']);
    expect(await problems({ id, reason: '' })).toEqual(['reason must be 1-200 characters']);
    expect(await problems({ id, reason: 'x', brand: 'nope' })).toEqual(['brand "nope" is not a configured brand']);
    expect((await voidCall({ id, reason: 'unknown id' })).body).toEqual({ voided: 0 });
  });
});
