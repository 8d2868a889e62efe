import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import type { MessageRow } from '../../src/messages/message.view';
import { TrackingService } from '../../src/tracking/tracking.service';
import { createTestApp, GATEWAY_A, GATEWAY_B, TestApp, testConfig } from '../utils/create-test-app';
import { eventually, expectQuietFor } from '../utils/eventually';
import { FakeSmarticoServer, RecordedRequest } from '../utils/fake-smartico.server';
import { FAST_RETRY_CALLBACKS } from '../utils/fast-callbacks';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

interface OutboxEntry {
  status: string;
  state: string;
  attempts: number;
  last_error: string | null;
}

describe('status callbacks to Smartico (SPEC §4)', () => {
  let sut: TestApp;
  let smartico: FakeSmarticoServer;
  let db: Client;

  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    // the fake receiver is on loopback, which only an exact allowlist entry may reach
    sut = await createTestApp({ callbackAllowedHosts: ['*.smartico.ai', '127.0.0.1'] });
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterEach(() => smartico.setMode('ok'));

  afterAll(async () => {
    await db.end();
    await sut.close();
    await smartico.close();
  });

  const newPlayer = (): string => `player-${randomUUID()}`;
  const post = async (playerId: string, options: { authorization?: string; extension?: Record<string, unknown>; path?: string } = {}) => {
    const reply = await postGateway(
      sut.url,
      customIm({ ext_user_id: playerId, callback_url: smartico.url(options.path ?? '/cb?label=7&brand=a%20b'), extension: options.extension ?? {} }),
      { authorization: options.authorization },
    );
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  const rest = async (playerId: string, method: string, path: string) =>
    fetch(`${sut.url}${path}`, { method, headers: { authorization: `Bearer ${await playerToken(playerId)}` }, redirect: 'manual' });
  const callbacksFor = (id: string): RecordedRequest[] => smartico.requests.filter((request) => request.query.ext_message_id === id);
  const statusesFor = (id: string): string[] => callbacksFor(id).map((request) => request.query.status);
  const waitForStatuses = async (id: string, count: number, timeoutMs = 10_000): Promise<void> => {
    const arrived = (): boolean => callbacksFor(id).filter((request) => request.query.status !== undefined).length >= count;
    await eventually(arrived, { what: () => `${count} callbacks for ${id}, got ${statusesFor(id).join(',')}`, timeoutMs });
  };
  const outbox = async (id: string): Promise<OutboxEntry[]> =>
    (await db.query<OutboxEntry>('SELECT status, state, attempts, last_error FROM callbacks WHERE message_id = $1 ORDER BY funnel_rank', [id])).rows;
  const waitForState = async (id: string, status: string, state: string, timeoutMs = 10_000): Promise<void> => {
    const inState = async (): Promise<void> => {
      const row = (await outbox(id)).find((callback) => callback.status === status);
      if (row?.state !== state) throw new Error(`it is ${row?.state}`);
    };
    await eventually(inState, { what: `${status} of ${id} to be ${state}`, timeoutMs });
  };

  it('reports ack → open → click as exactly delivered, opened, clicked, with the four parameters and the URL’s own query kept', async () => {
    const playerId = newPlayer();
    const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId));
    try {
      const id = await post(playerId);
      await socket.waitForMessages(1);
      await waitForStatuses(id, 1);
      expect(await socket.emit('opened', { id })).toEqual({ ok: true });
      await waitForStatuses(id, 2);
      expect(await socket.emit('clicked', { id })).toEqual({ ok: true });
      await waitForStatuses(id, 3);
      await expectQuietFor(200, `callbacks for ${id}`, () => callbacksFor(id).length);

      expect(statusesFor(id)).toEqual(['delivered', 'opened', 'clicked']);
      for (const request of callbacksFor(id)) {
        expect(request.method).toBe('GET');
        expect(request.path).toBe('/cb');
        expect(request.query).toEqual({ label: '7', brand: 'a b', type: 'cim', ext_message_id: id, status: expect.any(String), api_key: GATEWAY_A.apiKey });
      }
      expect(await outbox(id)).toEqual([
        { status: 'delivered', state: 'sent', attempts: 1, last_error: null },
        { status: 'opened', state: 'sent', attempts: 1, last_error: null },
        { status: 'clicked', state: 'sent', attempts: 1, last_error: null },
      ]);
    } finally {
      socket.close();
    }
  });

  it("uses the accepting gateway's api_key", async () => {
    const playerId = newPlayer();
    const id = await post(playerId, { authorization: GATEWAY_B.authorization });
    await rest(playerId, 'POST', `/inbox/messages/${id}/opened`);
    await waitForStatuses(id, 2);
    expect(callbacksFor(id).map((request) => request.query.api_key)).toEqual([GATEWAY_B.apiKey, GATEWAY_B.apiKey]);
  });

  it('sends delivered, opened, clicked in order for a click with no open, and nothing more for repeats', async () => {
    const playerId = newPlayer();
    const id = await post(playerId);
    expect((await rest(playerId, 'POST', `/inbox/messages/${id}/clicked`)).status).toBe(200);
    await waitForStatuses(id, 3);
    await rest(playerId, 'POST', `/inbox/messages/${id}/opened`);
    await rest(playerId, 'POST', `/inbox/messages/${id}/clicked`);
    await rest(playerId, 'POST', '/inbox/read-all');
    await expectQuietFor(400, `callbacks for ${id}`, () => callbacksFor(id).length);
    expect(statusesFor(id)).toEqual(['delivered', 'opened', 'clicked']);
    const [delivered, opened, clicked] = callbacksFor(id).map((request) => request.at.getTime());
    expect(delivered).toBeLessThanOrEqual(opened);
    expect(opened).toBeLessThanOrEqual(clicked);
  });

  it('sends no callback for read-all', async () => {
    const playerId = newPlayer();
    const id = await post(playerId);
    await rest(playerId, 'POST', '/inbox/read-all');
    await expectQuietFor(400, `callbacks for ${id}`, () => callbacksFor(id).length);
    expect(statusesFor(id)).toEqual([]);
    expect(await outbox(id)).toEqual([]);
  });

  it('keeps retrying through a receiver that fails its first 3 answers, then delivers each status once', async () => {
    const playerId = newPlayer();
    smartico.failNext(3, { status: 500 });
    const id = await post(playerId);
    await rest(playerId, 'POST', `/inbox/messages/${id}/opened`);
    await waitForState(id, 'opened', 'sent');
    const answered = callbacksFor(id);
    expect(answered.map((request) => request.query.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered', 'opened']);
    expect((await outbox(id))[0]).toMatchObject({ status: 'delivered', state: 'sent', attempts: 4 });
    const attempts = await db.query<{ http_status: number | null; error: string | null }>(
      `SELECT a.http_status, a.error FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id WHERE c.message_id = $1 AND c.status = 'delivered' ORDER BY a.id`,
      [id],
    );
    expect(attempts.rows).toEqual([
      { http_status: 500, error: 'http 500' },
      { http_status: 500, error: 'http 500' },
      { http_status: 500, error: 'http 500' },
      { http_status: 200, error: null },
    ]);
  });

  it.each([
    ['a 404', { status: 404 }, 'http 404'],
    ['an HTML page', 'html' as const, 'invalid json'],
    ['invalid JSON', 'invalid-json' as const, 'invalid json'],
    ['error_code 1', { errorCode: 1, errorMessage: 'email was not found' }, 'error_code 1: email was not found'],
    ['a reset connection', 'reset' as const, 'connection reset'],
    ['a hang past the timeout', 'hang' as const, 'timeout'],
  ])('retries after %s', async (_case, mode, error) => {
    const playerId = newPlayer();
    smartico.failNext(1, mode);
    const id = await post(playerId);
    await rest(playerId, 'POST', `/inbox/messages/${id}/opened`);
    await waitForState(id, 'opened', 'sent');
    const attempts = await db.query<{ http_status: number | null; error: string | null }>(
      `SELECT a.error FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id WHERE c.message_id = $1 AND c.status = 'delivered' ORDER BY a.id`,
      [id],
    );
    expect(attempts.rows.map((row) => row.error)).toEqual([error, null]);
  });

  it('does not follow a redirect, retries instead, and the redirect target is never called', async () => {
    const decoy = await FakeSmarticoServer.start();
    try {
      const playerId = newPlayer();
      smartico.failNext(1, { redirectTo: decoy.url('/stolen') });
      const id = await post(playerId);
      await rest(playerId, 'POST', `/inbox/messages/${id}/opened`);
      await waitForState(id, 'opened', 'sent');
      expect(decoy.requests).toHaveLength(0);
      const attempts = await db.query<{ http_status: number | null; error: string | null }>(
        `SELECT a.http_status, a.error FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id WHERE c.message_id = $1 AND c.status = 'delivered' ORDER BY a.id`,
        [id],
      );
      expect(attempts.rows[0]).toEqual({ http_status: 302, error: 'http 302 (redirect not followed)' });
    } finally {
      await decoy.close();
    }
  });

  it('keeps other callbacks flowing while a receiver hangs', async () => {
    const playerId = newPlayer();
    smartico.failNext(1, 'hang');
    const slow = await post(playerId);
    await rest(playerId, 'POST', `/inbox/messages/${slow}/opened`);
    await eventually(() => callbacksFor(slow).length > 0, { what: `the hanging callback for ${slow}` });
    const fast = await post(playerId);
    await rest(playerId, 'POST', `/inbox/messages/${fast}/opened`);
    await waitForState(fast, 'opened', 'sent');
    // order, not time: both of fast's callbacks were sent while the hanging request was still open
    const timedOut = `SELECT count(*)::int AS n FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id WHERE c.message_id = $1 AND a.error = 'timeout'`;
    expect((await db.query<{ n: number }>(timedOut, [slow])).rows[0].n).toBe(0);
    await waitForState(slow, 'opened', 'sent');
    expect((await db.query<{ n: number }>(timedOut, [slow])).rows[0].n).toBe(1);
  });

  it('reports failed for a message that expired before any client acked it', async () => {
    const playerId = newPlayer();
    const id = await post(playerId, { extension: { expires_at: new Date(Date.now() + 300).toISOString() } });
    await waitForStatuses(id, 1);
    expect(statusesFor(id)).toEqual(['failed']);
    const row = (await db.query<Pick<MessageRow, 'failed_at' | 'delivered_at'>>('SELECT failed_at, delivered_at FROM messages WHERE id = $1', [id])).rows[0];
    expect(row.failed_at).not.toBeNull();
    expect(row.delivered_at).toBeNull();
    // a failed message can no longer be delivered
    expect((await rest(playerId, 'POST', `/inbox/messages/${id}/opened`)).status).toBe(404);
  });

  it('redirects a tracked cta link with 302, recording clicked with the implied statuses; a tampered link is 404', async () => {
    const playerId = newPlayer();
    const id = await post(playerId, { extension: { title: 'Offer', cta_url: 'https://casino.example/promo?x=1', cta_text: 'Claim' } });
    const list = (await (await rest(playerId, 'GET', '/inbox/messages')).json()) as { items: Array<{ cta_link: string }> };
    const link: string = list.items[0].cta_link;
    expect(link).toMatch(/^\/t\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

    const followed = await fetch(`${sut.url}${link}`, { redirect: 'manual' });
    expect(followed.status).toBe(302);
    expect(followed.headers.get('location')).toBe('https://casino.example/promo?x=1');
    await waitForStatuses(id, 3);
    expect(statusesFor(id)).toEqual(['delivered', 'opened', 'clicked']);

    const tampered = link.slice(0, -2) + (link.endsWith('AA') ? 'BB' : 'AA');
    expect((await fetch(`${sut.url}${tampered}`, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${sut.url}/t/garbage`, { redirect: 'manual' })).status).toBe(404);
  });

  it('gives a view no cta_link without an http(s) cta_url', async () => {
    const playerId = newPlayer();
    await post(playerId, { extension: { cta_url: 'javascript:alert(1)' } });
    const list = (await (await rest(playerId, 'GET', '/inbox/messages')).json()) as { items: Array<{ cta_link: string }> };
    expect(list.items[0].cta_link).toBeNull();
  });
});

describe('status callbacks with a short retry window', () => {
  let sut: TestApp;
  let smartico: FakeSmarticoServer;
  let db: Client;

  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    sut = await createTestApp({
      callbackAllowedHosts: ['127.0.0.1'],
      callbacks: FAST_RETRY_CALLBACKS,
    });
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
    await smartico.close();
  });

  it('leaves a callback dead when the receiver never recovers, and a re-queue sends it once it does', async () => {
    smartico.setMode({ status: 503 });
    const playerId = `player-${randomUUID()}`;
    const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, callback_url: smartico.url('/cb') }));
    const id = String(reply.json.ext_message_id);
    await fetch(`${sut.url}/inbox/messages/${id}/opened`, { method: 'POST', headers: { authorization: `Bearer ${await playerToken(playerId)}` } });

    const allDead = async (): Promise<Array<{ status: string; state: string; attempts: number }>> => {
      const { rows } = await db.query<{ status: string; state: string; attempts: number }>(
        'SELECT status, state, attempts FROM callbacks WHERE message_id = $1 ORDER BY funnel_rank',
        [id],
      );
      expect(rows.map((row) => [row.status, row.state])).toEqual([
        ['delivered', 'dead'],
        ['opened', 'dead'],
      ]);
      return rows;
    };
    const rows = await eventually(allDead, { what: `both callbacks of ${id} to be dead`, everyMs: 50 });
    expect(rows[0].attempts).toBeGreaterThan(2);

    smartico.setMode('ok');
    const tracking = sut.app.get(TrackingService);
    expect(await tracking.requeueDeadCallbacks(id)).toBe(2);
    const bothSent = async (): Promise<void> => {
      const { rows: sent } = await db.query<{ status: string }>(`SELECT status FROM callbacks WHERE message_id = $1 AND state = 'sent' ORDER BY funnel_rank`, [
        id,
      ]);
      expect(sent.map((row) => row.status)).toEqual(['delivered', 'opened']);
    };
    await eventually(bothSent, { what: `both callbacks of ${id} to be sent again`, timeoutMs: 5_000 });
    const afterRequeue = smartico.requests.filter((request) => request.query.ext_message_id === id).slice(-2);
    expect(afterRequeue.map((request) => [request.query.status, request.query.api_key])).toEqual([
      ['delivered', GATEWAY_A.apiKey],
      ['opened', GATEWAY_A.apiKey],
    ]);
  });
});

describe('callback_url checked again at send time', () => {
  let sut: TestApp;
  let decoy: FakeSmarticoServer;
  let db: Client;

  beforeAll(async () => {
    decoy = await FakeSmarticoServer.start();
    // '*' lets the gateway accept any host, but never unlocks a private address at send time. The attempt's timeout
    // covers the name lookup: under a loaded machine a 1 s attempt timed out in it every time, so this one has 8 s
    sut = await createTestApp({ callbackAllowedHosts: ['*'], callbacks: { ...testConfig('unused').callbacks, timeoutMs: 8_000, leaseMs: 20_000 } });
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
    await decoy.close();
  });

  it('refuses and records a callback_url whose name resolves to a loopback address; the listener sees nothing', async () => {
    const playerId = `player-${randomUUID()}`;
    const port = new URL(decoy.url()).port;
    const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, callback_url: `http://localhost:${port}/cb` }));
    expect(reply.json.error_code).toBe(0);
    const id = String(reply.json.ext_message_id);
    await fetch(`${sut.url}/inbox/messages/${id}/opened`, { method: 'POST', headers: { authorization: `Bearer ${await playerToken(playerId)}` } });
    // (under a loaded machine an attempt may first time out in the DNS lookup; the refusal follows)
    const refusal = /^refused by address guard: localhost resolves to (127\.0\.0\.1|::1) \(loopback\)$/;
    const refused = async (): Promise<void> => {
      const attempts = await db.query<{ error: string }>(
        `SELECT a.error FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id WHERE c.message_id = $1`,
        [id],
      );
      expect(attempts.rows.map((attempt) => attempt.error)).toContainEqual(expect.stringMatching(refusal));
    };
    await eventually(refused, { what: `the address guard's refusal for ${id}`, timeoutMs: 30_000 });
    expect(decoy.requests).toHaveLength(0);
  });
});
