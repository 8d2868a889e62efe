import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import { AppProcess } from '../utils/app-process';
import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET, SUPPORT_KEY } from '../utils/create-test-app';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { sleep, SocketPlayer } from '../utils/socket-player';
import { createTestDatabase, TestDatabase } from '../utils/test-database';
import { forgedGatewaySecrets, forgedSupportAuthorizations, forgedTokens, logLines, RecordingSocket } from './lib/auth-attacks';
import { API_KEYS } from './lib/harness';
import { Ledger } from './lib/ledger';

jest.setTimeout(120_000);

const ALICE = `alice-${randomUUID()}`;
const BOB = `bob-${randomUUID()}`;

describe('authentication attacks (issue 8, scenario 8)', () => {
  let database: TestDatabase;
  let app: AppProcess;
  let url: string;
  let db: Client;
  let bobMessage: string;
  const secretsSeen: string[] = [];
  // every message accepted and every push any socket heard, reconciled with the database at the end
  const ledger = new Ledger();
  const post = async (gateway: typeof GATEWAY_A, playerId: string): Promise<Record<string, unknown>> => {
    const request = customIm({ ext_user_id: playerId });
    const reply = await postGateway(url, request, { authorization: gateway.authorization });
    ledger.recordReply({ gatewayId: gateway.id, im_uid: request.im_uid, ext_user_id: playerId }, reply.json);
    return reply.json;
  };
  const recordPushes = (player: string, connection: string, ids: string[]): void => ids.forEach((id) => ledger.recordPush(player, connection, id));
  const heardMessages = (socket: RecordingSocket): string[] =>
    socket.events.filter(({ event }) => event === 'message').map(({ args }) => String((args[0] as { id?: unknown }).id));

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ app, url } = await AppProcess.startHealthy({
      DATABASE_URL: database.url,
      CIM_GATEWAYS: JSON.stringify([GATEWAY_A, GATEWAY_B]),
      PLAYER_JWT_SECRET,
      SUPPORT_API_KEYS: SUPPORT_KEY,
      CALLBACK_ALLOWED_HOSTS: '*.smartico.ai',
      // every request is logged, so the logs can be searched for secrets and errors
      LOG_LEVEL: 'info',
      PLAYER_RATE_LIMIT_PER_MIN: '100000',
      SUPPORT_RATE_LIMIT_PER_MIN: '100000',
      GATEWAY_BAD_AUTH_PER_MIN: '100000',
    }));
    db = new Client({ connectionString: database.url });
    await db.connect();
    const reply = await post(GATEWAY_A, BOB);
    expect(reply.error_code).toBe(0);
    bobMessage = String(reply.ext_message_id);
  });

  afterAll(async () => {
    await db.end();
    app.kill('SIGTERM');
    await app.exited;
    await database.drop();
  });

  const bobRow = async () =>
    (
      await db.query<Record<'delivered_at' | 'opened_at' | 'clicked_at' | 'read_at' | 'archived_at', Date | null>>(
        'SELECT delivered_at, opened_at, clicked_at, read_at, archived_at FROM messages WHERE id = $1',
        [bobMessage],
      )
    ).rows[0];
  const untouched = { delivered_at: null, opened_at: null, clicked_at: null, read_at: null, archived_at: null };
  const sideEffects = async () => ({
    events: (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM message_events WHERE message_id = $1', [bobMessage])).rows[0].n,
    callbacks: (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM callbacks WHERE message_id = $1', [bobMessage])).rows[0].n,
  });

  async function rest(method: string, path: string, authorization: string | undefined): Promise<{ status: number; body: string }> {
    const response = await fetch(`${url}${path}`, { method, headers: authorization === undefined ? {} : { authorization } });
    return { status: response.status, body: await response.text() };
  }

  const playerRoutes = (id: string): Array<[string, string]> => [
    ['GET', '/inbox/messages'],
    ['GET', '/inbox/unread-count'],
    ['POST', `/inbox/messages/${id}/opened`],
    ['POST', `/inbox/messages/${id}/clicked`],
    ['POST', '/inbox/read-all'],
    ['DELETE', `/inbox/messages/${id}`],
  ];

  it('REST: refuses every forged, expired or unsigned player token with one identical 401, whether the id exists or not', async () => {
    const answers = new Set<string>();
    for (const [why, token] of await forgedTokens(ALICE, BOB)) {
      if (token) secretsSeen.push(token);
      for (const authorization of token === undefined ? [undefined] : [`Bearer ${token}`]) {
        for (const id of [bobMessage, randomUUID()]) {
          for (const [method, path] of playerRoutes(id)) {
            const answer = await rest(method, path, authorization);
            expect({ why, method, path, status: answer.status }).toEqual({ why, method, path, status: 401 });
            answers.add(answer.body);
          }
        }
      }
    }
    expect([...answers]).toHaveLength(1);
    expect(JSON.parse([...answers][0])).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'a valid player token is required' });
    expect(await bobRow()).toEqual(untouched);
    expect(await sideEffects()).toEqual({ events: 0, callbacks: 0 });
  });

  it("REST: Alice's valid token on Bob's message answers exactly what an unknown id answers, and changes nothing", async () => {
    const alice = `Bearer ${await playerToken(ALICE)}`;
    secretsSeen.push(alice.slice(7));
    for (const [method, path] of playerRoutes(bobMessage)) {
      if (!path.includes(bobMessage)) continue;
      const theirs = await rest(method, path, alice);
      const unknown = await rest(method, path.replace(bobMessage, randomUUID()), alice);
      expect({ method, path, status: theirs.status }).toEqual({ method, path, status: 404 });
      expect(theirs).toEqual(unknown);
    }
    const list = JSON.parse((await rest('GET', '/inbox/messages', alice)).body) as { items: Array<{ id: string }> };
    expect(list.items.map((item) => item.id)).not.toContain(bobMessage);
    expect(JSON.parse((await rest('GET', '/inbox/unread-count', alice)).body)).toEqual({ count: 0, categories: {} });
    expect(await bobRow()).toEqual(untouched);
    expect(await sideEffects()).toEqual({ events: 0, callbacks: 0 });
  });

  it('socket: refuses every forged token, in auth or smuggled in the query, with connect_error "unauthorized"', async () => {
    for (const [why, token] of await forgedTokens(ALICE, BOB)) {
      expect({ why, refusal: await SocketPlayer.refusal(url, token) }).toEqual({ why, refusal: 'unauthorized' });
    }
    // a valid token anywhere but auth.token does not count
    const valid = await playerToken(BOB);
    for (const options of [{ query: { token: valid } }, { auth: { Authorization: `Bearer ${valid}` } }, { auth: { token: [valid] } }]) {
      await expect(RecordingSocket.connect(url, options)).rejects.toThrow('unauthorized');
    }
  });

  it("socket: Alice cannot act on Bob's message (same reply as an unknown id), join Bob's room, or hear anything of Bob's", async () => {
    const bob = await SocketPlayer.connect(url, await playerToken(BOB), { autoAck: false });
    await bob.waitForMessages(1);
    const aliceToken = await playerToken(ALICE);
    // extra fields naming Bob's room or id are ignored: the room comes from the verified token alone
    const alice = await RecordingSocket.connect(url, {
      auth: { token: aliceToken, player: BOB, sub: BOB, room: `player:${BOB}` },
      query: { player: BOB, room: `player:${BOB}` },
    });
    // the root namespace has no middleware and no handlers; nothing is ever sent there
    const root = await RecordingSocket.connect(url, { namespace: '/', auth: { token: aliceToken } });
    try {
      for (const event of ['opened', 'clicked', 'archive'] as const) {
        const theirs: unknown = await alice.socket.timeout(5_000).emitWithAck(event, { id: bobMessage });
        const unknown: unknown = await alice.socket.timeout(5_000).emitWithAck(event, { id: randomUUID() });
        expect({ event, theirs }).toEqual({ event, theirs: { ok: false, error: 'message not found' } });
        expect(theirs).toEqual(unknown);
        expect(await alice.socket.timeout(5_000).emitWithAck(event, { id: bobMessage.toUpperCase() })).toEqual(unknown);
      }
      for (const event of ['join', 'subscribe', 'joinRoom', 'join-room', 'room', 'rooms', 'leave', 'message', 'update', 'unread']) {
        for (const target of [`player:${BOB}`, BOB, { room: `player:${BOB}` }, { player: BOB }, [`player:${BOB}`]]) {
          alice.socket.emit(event, target);
          root.socket.emit(event, target);
        }
      }
      await sleep(200);
      expect(alice.socket.connected).toBe(true);

      // a new message and a change for Bob, after the attempts
      const second = await post(GATEWAY_A, BOB);
      expect(second.error_code).toBe(0);
      await bob.waitForMessages(2);
      const bobToken = `Bearer ${await playerToken(BOB)}`;
      expect((await rest('POST', `/inbox/messages/${String(second.ext_message_id)}/opened`, bobToken)).status).toBe(200);
      await bob.waitFor(() => bob.updates.length > 0, 'update for Bob');
      await sleep(300);

      const aliceHeard = alice.events.map(({ event, args }) => ({ event, args }));
      // Alice hears her own connect-time unread count (0) and nothing else
      expect(aliceHeard).toEqual([{ event: 'unread', args: [{ count: 0, categories: {}, as_of: expect.any(Number) }] }]);
      expect(root.events).toEqual([]);
      expect(await bobRow()).toEqual(untouched);
      expect(await sideEffects()).toEqual({ events: 0, callbacks: 0 });
      recordPushes(
        BOB,
        'bob#1',
        bob.messages.map((message) => message.id),
      );
      recordPushes(ALICE, 'alice#1', heardMessages(alice));
      recordPushes(ALICE, 'alice-root#1', heardMessages(root));
    } finally {
      alice.close();
      root.close();
      bob.close();
    }
  });

  it('socket: a token that expires ends the connection, and nothing is pushed to it afterwards', async () => {
    const player = `carol-${randomUUID()}`;
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const carol = await RecordingSocket.connect(url, { auth: { token: await playerToken(player, { expiresIn: expiresAt }) } });
    const reason = await new Promise<string>((resolve) => carol.socket.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt * 1000 - 50);
    const reply = await post(GATEWAY_A, player);
    expect(reply.error_code).toBe(0);
    await sleep(300);
    expect(carol.events.filter((entry) => entry.event === 'message')).toEqual([]);
    recordPushes(player, 'carol#1', heardMessages(carol));
  });

  it('gateway: secrets of another length, padded, in another case or byte form get HTTP 200 {error_code 1}, identical each time, and store nothing', async () => {
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0].n;
    for (const [why, authorization] of forgedGatewaySecrets()) {
      if (authorization) secretsSeen.push(authorization);
      const request = customIm({ ext_user_id: BOB });
      const reply = await postGateway(url, request, { authorization: authorization ?? null });
      ledger.recordReply({ gatewayId: GATEWAY_A.id, im_uid: request.im_uid, ext_user_id: BOB }, reply.json);
      expect({ why, status: reply.status, type: reply.contentType, json: reply.json }).toEqual({
        why,
        status: 200,
        type: 'application/json; charset=utf-8',
        json: { error_code: 1, error_message: 'unauthorized' },
      });
    }
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(before);
    // and the real secrets still work
    expect((await post(GATEWAY_B, `dave-${randomUUID()}`)).error_code).toBe(0);
  });

  it('support: every wrong key answers one identical 401, whether the message id exists or not', async () => {
    const answers = new Set<string>();
    for (const [why, authorization] of await forgedSupportAuthorizations()) {
      if (authorization) secretsSeen.push(authorization);
      for (const [method, path] of [
        ['GET', '/support/messages'],
        ['GET', `/support/messages/${bobMessage}`],
        ['GET', `/support/messages/${randomUUID()}`],
        ['GET', `/support/players/${BOB}`],
        ['GET', `/support/players/nobody-${randomUUID()}`],
        ['POST', `/support/messages/${bobMessage}/callbacks/retry`],
        ['POST', `/support/messages/${randomUUID()}/callbacks/retry`],
      ]) {
        const answer = await rest(method, path, authorization);
        expect({ why, path, status: answer.status }).toEqual({ why, path, status: 401 });
        answers.add(answer.body);
      }
    }
    expect([...answers]).toHaveLength(1);
    // the right key does get in (so the 401s above are about the key, not the route)
    expect((await rest('GET', `/support/messages/${bobMessage}`, `Bearer ${SUPPORT_KEY}`)).status).toBe(200);
  });

  it("the ledger: every accepted message is stored as told, and every push any socket heard was its own player's, once", async () => {
    const report = await ledger.reconcile(db, { apiKeys: API_KEYS });
    expect(report.problems).toEqual({});
    // Bob's two, Carol's, and one through the second gateway; none of the forged secrets'
    expect(report.figures.accepted).toBe(4);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(4);
    expect(report.figures.pushes).toBe(2);
  });

  it('logged no error and no secret or token through all of the above, and is still up', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const lines = logLines(app.stdout);
    expect(lines.length).toBeGreaterThan(100);
    expect(lines.filter((line) => 'unparsable' in line)).toEqual([]);
    expect(lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    expect(app.stderr).toBe('');
    const logs = app.stdout;
    for (const secret of [GATEWAY_A.authorization, GATEWAY_B.authorization, SUPPORT_KEY, ...secretsSeen.filter((value) => value.length >= 12)]) {
      expect(logs.includes(secret.replace(/^Bearer /, ''))).toBe(false);
    }
  });
});
