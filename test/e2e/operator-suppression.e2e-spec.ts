import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import type { InboxList } from '../../src/inbox/inbox.service';
import type { MessageView } from '../../src/messages/message.view';
import { createTestApp, OPERATOR_KEY, SUPPORT_KEY, TestApp } from '../utils/create-test-app';
import { expectQuietFor } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

/** SPEC v2 §7: a responsible-gambling suppression hides every non-exempt message at every point it could reach the player. */
describe('operator API: responsible-gambling suppression', () => {
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
  const post = async (playerId: string, extension: Record<string, unknown> = {}): Promise<string> => {
    const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, callback_url: smartico.url(), extension: { title: 'Offer', ...extension } }));
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  const operator = async (method: string, path: string, body?: unknown, key = OPERATOR_KEY): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${sut.url}/operator${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const suppress = (playerId: string, body: Record<string, unknown>): ReturnType<typeof operator> =>
    operator('PUT', `/players/${encodeURIComponent(playerId)}/suppression`, body);
  const asPlayer = async (playerId: string, method: string, path: string): Promise<Response> =>
    fetch(`${sut.url}${path}`, { method, headers: { authorization: `Bearer ${await playerToken(playerId)}` } });
  const listed = async (playerId: string): Promise<MessageView[]> => ((await (await asPlayer(playerId, 'GET', '/inbox/messages')).json()) as InboxList).items;
  const unread = async (playerId: string): Promise<number> =>
    ((await (await asPlayer(playerId, 'GET', '/inbox/unread-count')).json()) as { count: number }).count;
  const tab = async (playerId: string, autoAck = true): Promise<SocketPlayer> => {
    const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId), { autoAck });
    sockets.push(socket);
    return socket;
  };
  const statusesOf = (id: string): string[] =>
    smartico.requests.filter((request) => request.query.ext_message_id === id).map((request) => String(request.query.status));

  it('self-exclusion: the promos leave the open tab, the counts drop, Smartico hears rejected × 3, the service message stays', async () => {
    const player = newPlayer();
    const socket = await tab(player, false); // shown but never acked: undelivered
    const promos = [await post(player, { category: 'promo' }), await post(player, { category: 'promo' }), await post(player)];
    const service = await post(player, { category: 'service' });
    await socket.waitForMessages(4);
    await socket.waitForUnread(4);

    const reply = await suppress(player, { state: 'self_excluded' });
    expect(reply).toMatchObject({ status: 200, body: { brand: 'default', ext_user_id: player, state: 'self_excluded', until: null } });
    expect(Date.parse(String(reply.body.set_at))).not.toBeNaN();
    await socket.waitFor(() => socket.voids.length === 3, 'three voids');
    expect(socket.voids.map((notice) => notice.id).sort()).toEqual([...promos].sort());
    expect(socket.voids.every((notice) => notice.reason === 'suppressed')).toBe(true);
    await socket.waitForUnread(1);
    expect((await listed(player)).map((view) => view.id)).toEqual([service]);
    for (const id of promos) await socket.waitFor(() => statusesOf(id).includes('rejected'), `rejected for ${id}`);

    // the tab's late acks change nothing: a rejected message is never delivered
    for (const id of promos) socket.ack(id);
    socket.ack(service);
    await socket.waitFor(() => statusesOf(service).includes('delivered'), 'the service message delivered');
    await expectQuietFor(300, 'callbacks of the promos', () => promos.flatMap(statusesOf).length);
    for (const id of promos) expect(statusesOf(id)).toEqual(['rejected']);

    // a promo accepted while suppressed is stored (error_code 0), rejected and never pushed
    const during = await post(player, { category: 'promo' });
    await socket.waitFor(() => statusesOf(during).includes('rejected'), 'the new promo rejected');
    expect(socket.messages.map((message) => message.id)).not.toContain(during);
    const another = await tab(player);
    await another.waitForUnread(1); // the service message
    await expectQuietFor(200, 'catch-up while suppressed', () => another.messages.length);
    expect(another.messages).toEqual([]);

    // lifted: nothing suppressed comes back, new messages show again
    expect((await suppress(player, { state: 'none' })).body).toMatchObject({ state: 'none', until: null });
    const after = await post(player, { category: 'promo' });
    await another.waitForMessages(1);
    expect(another.messages.map((message) => message.id)).toEqual([after]);
    expect((await listed(player)).map((view) => view.id)).toEqual([after, service]);
    expect(await unread(player)).toBe(2);
  });

  it('a delivered message leaves the tab but is not rejected; its link redirects and records nothing; its buttons answer 404', async () => {
    const player = newPlayer();
    const socket = await tab(player);
    const id = await post(player, { cta_url: 'https://casino.example/offer', buttons: [{ id: 'go', text: 'Go', url: 'https://casino.example/go' }] });
    await socket.waitForMessages(1);
    await socket.waitFor(() => statusesOf(id).includes('delivered'), 'delivered');
    const view = socket.messages[0] as unknown as MessageView;

    await suppress(player, { state: 'cooling_off', until: new Date(Date.now() + 3_600_000).toISOString() });
    await socket.waitFor(() => socket.voids.length === 1, 'the void');
    const click = await fetch(`${sut.url}${view.cta_link}`, { redirect: 'manual' });
    expect(click.status).toBe(302);
    expect((await asPlayer(player, 'POST', `/inbox/messages/${id}/buttons/go`)).status).toBe(404);
    expect((await asPlayer(player, 'POST', `/inbox/messages/${id}/opened`)).status).toBe(404);
    await expectQuietFor(300, 'callbacks after the suppression', () => statusesOf(id).length);
    expect(statusesOf(id)).toEqual(['delivered']);
    const events = await db.query<{ event: string }>(`SELECT event FROM message_events WHERE message_id = $1 ORDER BY id`, [id]);
    expect(events.rows.map((row) => row.event)).toEqual(['delivered', 'suppressed']);
  });

  it('a suppression that has run out (until) hides nothing new; what it hid stays hidden', async () => {
    const player = newPlayer();
    const hidden = await post(player);
    const until = new Date(Date.now() + 1_500).toISOString();
    expect((await suppress(player, { state: 'cooling_off', until })).body).toMatchObject({ state: 'cooling_off', until });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(until) - Date.now() + 50)));
    expect((await operator('GET', `/players/${player}/suppression`)).body).toMatchObject({ state: 'none', until });
    const shown = await post(player);
    expect((await listed(player)).map((view) => view.id)).toEqual([shown]);
    expect(statusesOf(hidden)).not.toContain('delivered');
  });

  it('shows support staff the suppression, the suppressed flag and the rejected status (also as a search filter)', async () => {
    const player = newPlayer();
    const rejected = await post(player);
    await suppress(player, { state: 'self_excluded' });
    const support = async (path: string): Promise<Record<string, unknown>> =>
      (await (await fetch(`${sut.url}/support${path}`, { headers: { authorization: `Bearer ${SUPPORT_KEY}` } })).json()) as Record<string, unknown>;
    const detail = (await support(`/messages/${rejected}`)) as { message: Record<string, unknown>; timeline: Array<{ event: string }> };
    expect(detail.message).toMatchObject({ suppressed: true, status: 'rejected' });
    expect(detail.timeline.map((entry) => entry.event)).toEqual(['accepted', 'suppressed', 'rejected']);
    const profile = await support(`/players/${player}`);
    expect(profile.suppression).toMatchObject({ state: 'self_excluded', until: null });
    const found = (await support(`/messages?ext_user_id=${player}&status=rejected`)) as { items: Array<{ id: string }> };
    expect(found.items.map((item) => item.id)).toEqual([rejected]);
    expect(((await support(`/messages?ext_user_id=${player}&status=failed`)) as { items: unknown[] }).items).toEqual([]);
  });

  it('answers GET with none for a player never suppressed, 400 for a bad state or a past until, 401 without a key', async () => {
    const player = newPlayer();
    expect(await operator('GET', `/players/${player}/suppression`)).toEqual({
      status: 200,
      body: { brand: 'default', ext_user_id: player, state: 'none', until: null, set_at: null },
    });
    expect(await suppress(player, { state: 'banned' })).toMatchObject({
      status: 400,
      body: { message: ['state must be one of none, cooling_off, self_excluded'] },
    });
    expect(await suppress(player, { state: 'cooling_off', until: '2020-01-01T00:00:00Z' })).toMatchObject({
      status: 400,
      body: { message: ['until must be in the future'] },
    });
    expect(await suppress(player, { state: 'cooling_off', until: 'soon' })).toMatchObject({ status: 400 });
    expect((await operator('GET', `/players/${player}/suppression`, undefined, SUPPORT_KEY)).status).toBe(401);
  });
});
