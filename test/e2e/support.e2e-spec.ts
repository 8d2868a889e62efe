import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import type { SupportMessageDetail, SupportMessageList, SupportPlayer } from '../../src/support/support.service';
import type { SupportMessageView } from '../../src/support/support.view';
import { createTestApp, GATEWAY_A, GATEWAY_B, SUPPORT_KEY, TestApp } from '../utils/create-test-app';
import { eventually, sleep } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { FAST_RETRY_CALLBACKS } from '../utils/fast-callbacks';
import { customIm, postGateway } from '../utils/gateway-client';
import { ErrorBody } from '../utils/http-json';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

const SECOND_KEY = 'support-key-two-9876543210';

type View = SupportMessageView;
type Page = SupportMessageList;
interface Reply<T = ErrorBody> {
  status: number;
  contentType: string | null;
  body: T;
}

async function call<T = ErrorBody>(
  baseUrl: string,
  path: string,
  options: { key?: string | null; method?: string; authorization?: string } = {},
): Promise<Reply<T>> {
  const key = options.key === undefined ? SUPPORT_KEY : options.key;
  const authorization = options.authorization ?? (key === null ? undefined : `Bearer ${key}`);
  const response = await fetch(`${baseUrl}${path}`, { method: options.method ?? 'GET', headers: authorization === undefined ? {} : { authorization } });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body: (text === '' ? null : JSON.parse(text)) as T };
}

/** Polls `read` until `ok` holds (the app works asynchronously: acks, sweeps, callbacks). */
async function readUntil<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const check = async (): Promise<T> => {
    const value = await read();
    if (!ok(value)) throw new Error(JSON.stringify(value).slice(0, 2000));
    return value;
  };
  return eventually(check, { what, timeoutMs, everyMs: 25 });
}

const ids = (page: Page): string[] => page.items.map((item) => item.id);
const newPlayer = (): string => `player-${randomUUID()}`;

describe('support API (SPEC §5)', () => {
  let sut: TestApp;
  let smartico: FakeSmarticoServer;
  let db: Client;

  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    // callbacks really go out, to the fake receiver on loopback
    sut = await createTestApp({ callbackAllowedHosts: ['127.0.0.1'], supportApiKeys: [SUPPORT_KEY, SECOND_KEY] });
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
    await smartico.close();
  });

  const api = <T = ErrorBody>(path: string, options: { key?: string | null; method?: string; authorization?: string } = {}): Promise<Reply<T>> =>
    call<T>(sut.url, path, options);
  const search = async (query: Record<string, string>): Promise<Page> => {
    const reply = await api<Page>(`/support/messages?${new URLSearchParams(query).toString()}`);
    expect(reply.status).toBe(200);
    return reply.body;
  };
  const searchError = async (query: string): Promise<Reply> => {
    const reply = await api(`/support/messages?${query}`);
    expect(reply.status).toBe(400);
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(reply.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    return reply;
  };
  const detail = async (id: string): Promise<SupportMessageDetail> => {
    const reply = await api<SupportMessageDetail>(`/support/messages/${id}`);
    expect(reply.status).toBe(200);
    return reply.body;
  };
  const post = async (
    playerId: string,
    options: { extension?: Record<string, unknown>; imUid?: string; authorization?: string; callbackUrl?: string } = {},
  ): Promise<string> => {
    const reply = await postGateway(
      sut.url,
      customIm({
        ext_user_id: playerId,
        callback_url: options.callbackUrl ?? smartico.url('/cb?label=7'),
        extension: options.extension ?? {},
        ...(options.imUid === undefined ? {} : { im_uid: options.imUid }),
      }),
      { authorization: options.authorization },
    );
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  const player = async (playerId: string, method: string, path: string): Promise<number> =>
    (await fetch(`${sut.url}${path}`, { method, headers: { authorization: `Bearer ${await playerToken(playerId)}` } })).status;
  const statusOf = async (id: string): Promise<string> => (await detail(id)).message.status;
  const waitForStatus = (id: string, status: string): Promise<string> =>
    readUntil(
      () => statusOf(id),
      (value) => value === status,
      `${id} to be ${status}`,
    );
  /** A message the player's socket received and acked. */
  const postDelivered = async (playerId: string, extension: Record<string, unknown> = {}): Promise<string> => {
    const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId));
    try {
      const id = await post(playerId, { extension });
      await socket.waitFor(() => socket.messages.some((message) => message.id === id), `push of ${id}`);
      await waitForStatus(id, 'delivered');
      return id;
    } finally {
      socket.close();
    }
  };
  /** A message that expired before any client acked it: the sweep fails it. */
  const postFailed = async (playerId: string, extension: Record<string, unknown> = {}): Promise<string> => {
    const id = await post(playerId, { extension: { ...extension, expires_at: new Date(Date.now() + 200).toISOString() } });
    await waitForStatus(id, 'failed');
    return id;
  };

  describe('authentication', () => {
    it('answers 401 JSON without an Authorization header', async () => {
      const reply = await api('/support/messages', { key: null });
      expect(reply.status).toBe(401);
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(reply.body).toMatchObject({ statusCode: 401, message: 'a valid support API key is required' });
    });

    it.each([
      ['an unknown key', 'Bearer not-a-support-key'],
      ['a key differing in case', `Bearer ${SUPPORT_KEY.toUpperCase()}`],
      ['a key with a suffix', `Bearer ${SUPPORT_KEY}x`],
      ['the key without the Bearer scheme', SUPPORT_KEY],
      ['an empty bearer', 'Bearer '],
      ["a gateway's secret", `Bearer ${GATEWAY_A.authorization}`],
    ])('answers 401 JSON for %s', async (_case, authorization) => {
      const reply = await api('/support/messages', { authorization });
      expect(reply.status).toBe(401);
      expect(reply.body).toMatchObject({ statusCode: 401 });
    });

    it('answers 401 for a player token', async () => {
      const reply = await api('/support/messages', { authorization: `Bearer ${await playerToken('p1')}` });
      expect(reply.status).toBe(401);
    });

    it('accepts each configured key', async () => {
      expect((await api('/support/messages?limit=1', { key: SUPPORT_KEY })).status).toBe(200);
      expect((await api('/support/messages?limit=1', { key: SECOND_KEY })).status).toBe(200);
    });

    it('guards every support route, before looking at the input', async () => {
      const id = randomUUID();
      for (const [method, path] of [
        ['GET', '/support/messages?status=bogus'],
        ['GET', `/support/messages/${id}`],
        ['GET', '/support/messages/not-a-uuid'],
        ['GET', '/support/players/p1'],
        ['POST', `/support/messages/${id}/callbacks/retry`],
      ]) {
        const reply = await api(path, { method, key: 'wrong-key' });
        expect([method, path, reply.status]).toEqual([method, path, 401]);
      }
    });
  });

  describe('GET /support/messages', () => {
    it("finds a player's messages by ext_user_id, newest first, in every state, as support views", async () => {
      const playerId = newPlayer();
      const plain = await post(playerId, { extension: { title: 'Offer', cta_url: 'https://casino.example/promo', category: 'bonus' } });
      const popup = await post(playerId, { extension: { display: 'popup' } });
      const archived = await post(playerId);
      expect(await player(playerId, 'DELETE', `/inbox/messages/${archived}`)).toBe(204);
      await post(newPlayer());

      const page = await search({ ext_user_id: playerId });
      expect(ids(page)).toEqual([archived, popup, plain]);
      expect(page.next_cursor).toBeNull();
      const view = page.items[2];
      expect(view).toEqual({
        id: plain,
        im_uid: expect.any(String),
        body: 'Best offer ever',
        extension: { title: 'Offer', cta_url: 'https://casino.example/promo', category: 'bonus' },
        display: 'both',
        priority: 'normal',
        category: 'bonus',
        cta_link: expect.stringMatching(/^\/t\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/),
        created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
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
        ext_user_id: playerId,
        brand: 'default',
        gateway_id: GATEWAY_A.id,
        status: 'accepted',
        archived_at: null,
        callback_url: smartico.url('/cb?label=7'),
        voided_at: null,
        void_reason: null,
        group: null,
        suppressed: false,
      });
      expect(page.items[1]).toMatchObject({ display: 'popup', archived_at: null });
      expect(page.items[0].archived_at).toEqual(expect.any(String));
    });

    it('finds by im_uid, exactly, across gateways', async () => {
      const imUid = `shared-${randomUUID()}`;
      const [alice, bob] = [newPlayer(), newPlayer()];
      const viaA = await post(alice, { imUid });
      const viaB = await post(bob, { imUid, authorization: GATEWAY_B.authorization });
      await post(alice, { imUid: `${imUid}-other` });

      const page = await search({ im_uid: imUid });
      expect(ids(page)).toEqual([viaB, viaA]);
      expect(page.items.map((item) => [item.gateway_id, item.ext_user_id])).toEqual([
        [GATEWAY_B.id, bob],
        [GATEWAY_A.id, alice],
      ]);
      expect(ids(await search({ im_uid: imUid, ext_user_id: alice }))).toEqual([viaA]);
      expect(ids(await search({ im_uid: imUid.slice(0, -1) }))).toEqual([]);
    });

    it('filters by the furthest status: delivered, accepted, opened, clicked, failed', async () => {
      const playerId = newPlayer();
      const delivered = await postDelivered(playerId);
      const accepted = await post(playerId);
      const opened = await post(playerId);
      expect(await player(playerId, 'POST', `/inbox/messages/${opened}/opened`)).toBe(200);
      const clicked = await post(playerId);
      expect(await player(playerId, 'POST', `/inbox/messages/${clicked}/clicked`)).toBe(200);
      const failed = await postFailed(playerId);
      // archiving or reading changes no status
      const openedArchived = await post(playerId);
      expect(await player(playerId, 'POST', `/inbox/messages/${openedArchived}/opened`)).toBe(200);
      expect(await player(playerId, 'DELETE', `/inbox/messages/${openedArchived}`)).toBe(204);

      const expected: Record<string, string[]> = {
        accepted: [accepted],
        delivered: [delivered],
        opened: [openedArchived, opened],
        clicked: [clicked],
        failed: [failed],
      };
      for (const [status, wanted] of Object.entries(expected)) {
        const mine = await search({ ext_user_id: playerId, status });
        expect([status, ids(mine)]).toEqual([status, wanted]);
        // alone, the filter spans every player: each item has the status, the newest ones are this test's
        const everyone = await search({ status });
        expect(everyone.items.every((item) => item.status === status)).toBe(true);
        expect(ids(everyone).slice(0, wanted.length)).toEqual(wanted);
      }
      expect((await search({ ext_user_id: playerId })).items.map((item) => item.status)).toEqual([
        'opened',
        'failed',
        'clicked',
        'opened',
        'accepted',
        'delivered',
      ]);
    });

    it('ranks clicked above failed: a tracked click on a message that expired undelivered', async () => {
      const playerId = newPlayer();
      const id = await postFailed(playerId, { cta_url: 'https://casino.example/late' });
      const { message } = await detail(id);
      expect((await fetch(`${sut.url}${message.cta_link}`, { redirect: 'manual' })).status).toBe(302);
      expect(await statusOf(id)).toBe('clicked');
      expect(ids(await search({ ext_user_id: playerId, status: 'clicked' }))).toEqual([id]);
      expect(ids(await search({ ext_user_id: playerId, status: 'failed' }))).toEqual([]);
    });

    it('filters by a created_at range, both ends inclusive to the millisecond', async () => {
      const playerId = newPlayer();
      const created: View[] = [];
      for (let i = 0; i < 3; i += 1) {
        const id = await post(playerId);
        created.push((await detail(id)).message);
        await sleep(15);
      }
      const [first, second, third] = created;

      // the range alone spans every player; nothing else was created in this window
      expect(ids(await search({ from: first.created_at, to: third.created_at }))).toEqual([third.id, second.id, first.id]);
      expect(ids(await search({ from: second.created_at, to: second.created_at }))).toEqual([second.id]);
      expect(ids(await search({ ext_user_id: playerId, from: second.created_at }))).toEqual([third.id, second.id]);
      expect(ids(await search({ ext_user_id: playerId, to: second.created_at }))).toEqual([second.id, first.id]);
      // the same instant written with an offset
      const shifted = new Date(Date.parse(second.created_at) + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      expect(ids(await search({ ext_user_id: playerId, from: shifted, to: shifted }))).toEqual([second.id]);
      expect(ids(await search({ ext_user_id: playerId, to: '2000-01-01' }))).toEqual([]);
      expect(ids(await search({ ext_user_id: playerId, from: '2000-01-01', to: '9999-12-31' }))).toEqual([third.id, second.id, first.id]);
    });

    it('combines every filter (AND)', async () => {
      const playerId = newPlayer();
      const before = new Date(Date.now() - 1).toISOString();
      const opened = await post(playerId, { imUid: `combo-${randomUUID()}` });
      expect(await player(playerId, 'POST', `/inbox/messages/${opened}/opened`)).toBe(200);
      const accepted = await post(playerId);
      const other = newPlayer();
      const otherOpened = await post(other);
      expect(await player(other, 'POST', `/inbox/messages/${otherOpened}/opened`)).toBe(200);
      const openedView = (await detail(opened)).message;

      expect(ids(await search({ ext_user_id: playerId, status: 'opened', from: before }))).toEqual([opened]);
      expect(ids(await search({ status: 'opened', from: before }))).toEqual([otherOpened, opened]);
      expect(ids(await search({ status: 'accepted', from: before }))).toEqual([accepted]);
      expect(ids(await search({ ext_user_id: playerId, status: 'opened', to: before }))).toEqual([]);
      expect(ids(await search({ im_uid: openedView.im_uid, status: 'opened' }))).toEqual([opened]);
      expect(ids(await search({ im_uid: openedView.im_uid, status: 'accepted' }))).toEqual([]);
      expect(
        ids(
          await search({
            ext_user_id: playerId,
            im_uid: openedView.im_uid,
            status: 'opened',
            from: openedView.created_at,
            to: openedView.created_at,
            limit: '1',
          }),
        ),
      ).toEqual([opened]);
    });

    it('pages through with a cursor, newest first, alone and under filters', async () => {
      const playerId = newPlayer();
      const created: string[] = [];
      for (let i = 0; i < 7; i += 1) created.push(await post(playerId));
      const newestFirst = [...created].reverse();

      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: Page = await search({ ext_user_id: playerId, status: 'accepted', limit: '3', ...(cursor === null ? {} : { cursor }) });
        pages.push(ids(page));
        cursor = page.next_cursor;
      } while (cursor !== null);
      expect(pages).toEqual([newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);

      // exactly a page's worth: no empty page after it
      const exact = await search({ ext_user_id: playerId, limit: '7' });
      expect(ids(exact)).toEqual(newestFirst);
      expect(exact.next_cursor).toBeNull();
      expect(ids(await search({ ext_user_id: playerId }))).toEqual(newestFirst);

      // without filters the cursor walks every message
      const first = await search({ limit: '2' });
      const second = await search({ limit: '2', cursor: first.next_cursor! });
      expect(ids(first)).toEqual(newestFirst.slice(0, 2));
      expect(ids(second)).toEqual(newestFirst.slice(2, 4));
    });

    it('answers 400 for a malformed cursor', async () => {
      for (const cursor of ['not-a-cursor!', Buffer.from("1.x' OR 1=1 --").toString('base64url'), 'x'.repeat(300)]) {
        const reply = await searchError(`cursor=${encodeURIComponent(cursor)}`);
        expect(reply.body.message).toEqual(['cursor is not valid']);
      }
    });

    it('answers 400 for an unparsable date', async () => {
      expect((await searchError('from=yesterday')).body.message).toEqual([
        'from must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z (send + as %2B)',
      ]);
      expect((await searchError('to=2026-02-30')).body.message).toEqual([expect.stringMatching(/^to must be an ISO 8601 date/)]);
      // a "+" left unencoded arrives as a space
      expect((await searchError('from=2026-01-01T00:00:00+02:00')).body.message).toEqual([expect.stringMatching(/^from must be/)]);
      expect((await searchError('from=1769860800000')).body.message).toEqual([expect.stringMatching(/^from must be/)]);
    });

    it('answers 400 for an impossible range (from after to)', async () => {
      const reply = await searchError('from=2026-02-01T00:00:00Z&to=2026-01-31T23:59:59Z');
      expect(reply.body.message).toEqual(['from (2026-02-01T00:00:00Z) is after to (2026-01-31T23:59:59Z): the range is empty']);
    });

    it('answers 400 for an unknown status', async () => {
      for (const status of ['read', 'CLICKED', 'pending', '']) {
        const reply = await searchError(`status=${status}`);
        expect(reply.body.message).toEqual(['status must be one of accepted, delivered, opened, clicked, failed, rejected']);
      }
    });

    it('answers 400 for a huge limit (over 200 is refused, not shortened) and for a limit that is not a positive integer', async () => {
      for (const limit of ['201', '1000000', '99999999999999999999']) {
        expect((await searchError(`limit=${limit}`)).body.message).toEqual(['limit must be at most 200']);
      }
      expect((await searchError('limit=0')).body.message).toEqual(['limit must be at least 1']);
      expect((await searchError('limit=ten')).body.message).toEqual(['limit must be an integer']);
      expect((await search({ limit: '200' })).items.length).toBeGreaterThan(0);
    });

    it('answers 400 for over-long or empty strings', async () => {
      expect((await searchError(`ext_user_id=${'x'.repeat(256)}`)).body.message).toEqual(['ext_user_id must be at most 255 characters']);
      expect((await searchError(`im_uid=${'x'.repeat(256)}`)).body.message).toEqual(['im_uid must be at most 255 characters']);
      expect((await searchError(`from=${'2'.repeat(100)}`)).body.message).toEqual([expect.stringMatching(/^from must be an ISO 8601/)]);
      expect((await searchError('ext_user_id=')).body.message).toEqual(['ext_user_id must not be empty']);
      // a string of the longest allowed length is fine
      expect((await search({ ext_user_id: 'x'.repeat(255) })).items).toEqual([]);
    });

    it('lets SQL-ish strings in filters match nothing', async () => {
      const playerId = newPlayer();
      await post(playerId);
      const { rows: before } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
      for (const value of ["' OR 1=1 --", "x' OR 'a'='a", `${playerId}'; DROP TABLE messages; --`, '%', '*', `${playerId}\\`]) {
        expect([value, ids(await search({ ext_user_id: value }))]).toEqual([value, []]);
        expect([value, ids(await search({ im_uid: value }))]).toEqual([value, []]);
      }
      const { rows: after } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
      expect(after[0].n).toBe(before[0].n);
      expect(ids(await search({ ext_user_id: playerId }))).toHaveLength(1);
    });
  });

  describe('GET /support/messages/:id', () => {
    it('gives the timeline in order: accepted, delivered, opened, read, clicked, archived', async () => {
      const playerId = newPlayer();
      const id = await postDelivered(playerId);
      expect(await player(playerId, 'POST', `/inbox/messages/${id}/opened`)).toBe(200);
      expect(await player(playerId, 'POST', `/inbox/messages/${id}/clicked`)).toBe(200);
      expect(await player(playerId, 'DELETE', `/inbox/messages/${id}`)).toBe(204);

      const body = await detail(id);
      expect(body.message).toMatchObject({ id, ext_user_id: playerId, status: 'clicked', archived_at: expect.any(String) });
      const timeline = body.timeline;
      expect(timeline.map((entry) => entry.event)).toEqual(['accepted', 'delivered', 'opened', 'read', 'clicked', 'archived']);
      expect(timeline[0].at).toBe(body.message.created_at);
      expect(timeline[1].at).toBe(body.message.delivered_at);
      expect(timeline.find((entry) => entry.event === 'archived')!.at).toBe(body.message.archived_at);
      const times = timeline.map((entry) => Date.parse(entry.at));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    it('lists every callback attempt, the failed ones included, and the state of each callback', async () => {
      // a receiver of its own, so no other test's callback takes its failures
      const flaky = await FakeSmarticoServer.start();
      try {
        flaky.failNext(2, { status: 500 });
        const playerId = newPlayer();
        const id = await post(playerId, { callbackUrl: flaky.url('/cb') });
        expect(await player(playerId, 'POST', `/inbox/messages/${id}/clicked`)).toBe(200);
        const body = await readUntil(
          () => detail(id),
          (value) => value.outbox.length === 3 && value.outbox.every((entry) => entry.state === 'sent'),
          'all callbacks sent',
        );

        expect(body.callbacks).toEqual([
          { status: 'delivered', attempted_at: expect.any(String), http_status: 500, error: 'http 500', duration_ms: expect.any(Number) },
          { status: 'delivered', attempted_at: expect.any(String), http_status: 500, error: 'http 500', duration_ms: expect.any(Number) },
          { status: 'delivered', attempted_at: expect.any(String), http_status: 200, error: null, duration_ms: expect.any(Number) },
          { status: 'opened', attempted_at: expect.any(String), http_status: 200, error: null, duration_ms: expect.any(Number) },
          { status: 'clicked', attempted_at: expect.any(String), http_status: 200, error: null, duration_ms: expect.any(Number) },
        ]);
        const times = body.callbacks.map((attempt) => Date.parse(attempt.attempted_at));
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(body.outbox).toEqual([
          { status: 'delivered', state: 'sent', attempts: 3, next_attempt_at: null, sent_at: expect.any(String), last_error: null },
          { status: 'opened', state: 'sent', attempts: 1, next_attempt_at: null, sent_at: expect.any(String), last_error: null },
          { status: 'clicked', state: 'sent', attempts: 1, next_attempt_at: null, sent_at: expect.any(String), last_error: null },
        ]);
        expect(flaky.requests.map((request) => request.query.status)).toEqual(['delivered', 'delivered', 'delivered', 'opened', 'clicked']);
      } finally {
        await flaky.close();
      }
    });

    it('shows a pending callback with its next attempt while the receiver keeps failing', async () => {
      const down = await FakeSmarticoServer.start();
      try {
        down.setMode({ status: 503 });
        const playerId = newPlayer();
        const id = await post(playerId, { callbackUrl: down.url('/cb') });
        expect(await player(playerId, 'POST', `/inbox/messages/${id}/opened`)).toBe(200);
        const body = await readUntil(
          () => detail(id),
          (value) => value.callbacks.length >= 2,
          'two failed attempts',
        );
        expect(body.outbox[0]).toMatchObject({ status: 'delivered', state: 'pending', next_attempt_at: expect.any(String), last_error: 'http 503' });
        expect(body.callbacks[0]).toMatchObject({ status: 'delivered', http_status: 503, error: 'http 503' });
      } finally {
        await down.close();
      }
    });

    it('shows expired at expires_at, before the failed it caused, and no callbacks for an untouched message', async () => {
      const playerId = newPlayer();
      const untouched = await post(playerId);
      expect(await detail(untouched)).toMatchObject({
        timeline: [{ event: 'accepted', at: expect.any(String) }],
        callbacks: [],
        outbox: [],
      });

      const id = await postFailed(playerId);
      const body = await readUntil(
        () => detail(id),
        (value) => value.outbox[0]?.state === 'sent',
        'failed callback sent',
      );
      expect(body.message).toMatchObject({ status: 'failed', delivered_at: null });
      expect(body.timeline).toEqual([
        { event: 'accepted', at: body.message.created_at },
        { event: 'expired', at: body.message.expires_at },
        { event: 'failed', at: expect.any(String) },
      ]);
      expect(Date.parse(body.timeline[2].at)).toBeGreaterThanOrEqual(Date.parse(body.timeline[1].at));
      expect(body.callbacks).toEqual([{ status: 'failed', attempted_at: expect.any(String), http_status: 200, error: null, duration_ms: expect.any(Number) }]);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      const unknown = await api(`/support/messages/${randomUUID()}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ statusCode: 404, message: 'message not found' });
      for (const bad of ['not-a-uuid', "1' OR '1'='1", '123']) {
        const reply = await api(`/support/messages/${encodeURIComponent(bad)}`);
        expect(reply.status).toBe(400);
        expect(reply.body.message).toEqual(['id must be a message id (uuid)']);
      }
    });
  });

  describe('GET /support/players/:ext_user_id', () => {
    it('shows the unread count, last seen and connected, following a socket', async () => {
      const playerId = newPlayer();
      const first = await post(playerId);
      await post(playerId, { extension: { display: 'popup' } });
      const third = await post(playerId);
      expect(await player(playerId, 'POST', `/inbox/messages/${first}/opened`)).toBe(200);
      const page = async (): Promise<SupportPlayer> => (await api<SupportPlayer>(`/support/players/${encodeURIComponent(playerId)}`)).body;

      const offline = await page();
      expect(offline).toMatchObject({ ext_user_id: playerId, unread_count: 1, last_seen_at: null, connected: false });
      expect(offline.messages.items.map((item) => item.id)).toEqual([third, expect.any(String), first]);
      expect(offline.messages.next_cursor).toBeNull();
      expect(offline.messages.items[0]).toMatchObject({ ext_user_id: playerId, gateway_id: GATEWAY_A.id, status: 'accepted' });

      const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId));
      let online: SupportPlayer;
      try {
        online = await readUntil(page, (value) => value.connected === true && value.last_seen_at !== null, 'connected and seen');
        // the socket's ack delivered the unread message; delivery does not read it
        expect(online.unread_count).toBe(1);
      } finally {
        socket.close();
      }
      const gone = await readUntil(page, (value) => value.connected === false, 'disconnected');
      expect(Date.parse(gone.last_seen_at!)).toBeGreaterThanOrEqual(Date.parse(online.last_seen_at!));
      expect(Date.parse(gone.last_seen_at!)).toBeLessThanOrEqual(Date.now());
    });

    it("gives the first 50 of a player's messages, and the search pages on from its cursor", async () => {
      const playerId = newPlayer();
      const created: string[] = [];
      for (let i = 0; i < 53; i += 1) created.push(await post(playerId));
      const newestFirst = [...created].reverse();
      const reply = await api<SupportPlayer>(`/support/players/${playerId}`);
      expect(reply.status).toBe(200);
      expect(reply.body.unread_count).toBe(53);
      expect(reply.body.messages.items.map((item) => item.id)).toEqual(newestFirst.slice(0, 50));
      const rest = await search({ ext_user_id: playerId, cursor: reply.body.messages.next_cursor! });
      expect(ids(rest)).toEqual(newestFirst.slice(50));
      expect(rest.next_cursor).toBeNull();
    });

    it('answers a player it never heard of with nothing, not an error', async () => {
      const playerId = newPlayer();
      expect((await api(`/support/players/${playerId}`)).body).toEqual({
        brand: 'default',
        ext_user_id: playerId,
        unread_count: 0,
        last_seen_at: null,
        connected: false,
        suppression: { brand: 'default', ext_user_id: playerId, state: 'none', until: null, set_at: null },
        messages: { items: [], next_cursor: null },
      });
    });

    it('takes any ext_user_id, URL-encoded', async () => {
      const playerId = `odd id/${randomUUID()}?&' OR 1=1`;
      const id = await post(playerId);
      const reply = await api<SupportPlayer>(`/support/players/${encodeURIComponent(playerId)}`);
      expect(reply.status).toBe(200);
      expect(reply.body.ext_user_id).toBe(playerId);
      expect(reply.body.messages.items.map((item) => item.id)).toEqual([id]);
    });

    it('refuses an over-long ext_user_id with a JSON error', async () => {
      const reply = await api(`/support/players/${'x'.repeat(256)}`);
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(reply.status).toBe(400);
      expect(reply.body.message).toEqual(['ext_user_id must be at most 255 characters']);
    });
  });

  describe('POST /support/messages/:id/callbacks/retry', () => {
    it('answers requeued 0 for a message with no dead callback', async () => {
      const playerId = newPlayer();
      const id = await post(playerId);
      const reply = await api(`/support/messages/${id}/callbacks/retry`, { method: 'POST' });
      expect(reply).toMatchObject({ status: 200, body: { requeued: 0 } });
    });

    it('answers 404 for an unknown message and 400 for a malformed id', async () => {
      expect((await api(`/support/messages/${randomUUID()}/callbacks/retry`, { method: 'POST' })).status).toBe(404);
      expect((await api('/support/messages/nope/callbacks/retry', { method: 'POST' })).status).toBe(400);
    });
  });

  describe('OpenAPI', () => {
    it('documents the support routes under the support tag and bearer scheme, with the support view', async () => {
      const document = (await (await fetch(`${sut.url}/docs/json`)).json()) as {
        paths: Record<string, Record<string, { tags: string[]; security: unknown[] }>>;
        components: { schemas: Record<string, { properties: Record<string, unknown> }> };
      };
      for (const [path, method] of [
        ['/support/messages', 'get'],
        ['/support/messages/{id}', 'get'],
        ['/support/players/{ext_user_id}', 'get'],
        ['/support/messages/{id}/callbacks/retry', 'post'],
      ]) {
        expect(document.paths[path][method]).toMatchObject({ tags: ['support'], security: [{ support: [] }] });
      }
      const view = document.components.schemas.SupportMessageViewDto.properties;
      for (const field of ['id', 'im_uid', 'cta_link', 'read_at', 'ext_user_id', 'gateway_id', 'status', 'archived_at', 'callback_url']) {
        expect([field, view[field]]).toEqual([field, expect.anything()]);
      }
      expect(document.components.schemas.SupportMessageDetailDto.properties).toHaveProperty('outbox');
    });
  });
});

describe('support API: re-queueing dead callbacks (short retry window)', () => {
  let sut: TestApp;
  let smartico: FakeSmarticoServer;

  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    sut = await createTestApp({
      callbackAllowedHosts: ['127.0.0.1'],
      callbacks: FAST_RETRY_CALLBACKS,
    });
  });

  afterAll(async () => {
    await sut.close();
    await smartico.close();
  });

  it('re-queues the dead callbacks of a message, which are then sent; a second retry finds none', async () => {
    smartico.setMode({ status: 503 });
    const playerId = newPlayer();
    const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, callback_url: smartico.url('/cb') }));
    const id = String(reply.json.ext_message_id);
    await fetch(`${sut.url}/inbox/messages/${id}/opened`, { method: 'POST', headers: { authorization: `Bearer ${await playerToken(playerId)}` } });
    const detail = async (): Promise<SupportMessageDetail> => (await call<SupportMessageDetail>(sut.url, `/support/messages/${id}`)).body;

    const dead = await readUntil(detail, (value) => value.outbox.length === 2 && value.outbox.every((entry) => entry.state === 'dead'), 'dead');
    expect(dead.outbox.map((entry) => entry.status)).toEqual(['delivered', 'opened']);
    expect(dead.outbox[0]).toMatchObject({ next_attempt_at: null, last_error: 'http 503' });
    expect(dead.callbacks.length).toBeGreaterThan(2);

    smartico.setMode('ok');
    const retried = await call(sut.url, `/support/messages/${id}/callbacks/retry`, { method: 'POST' });
    expect(retried).toMatchObject({ status: 200, body: { requeued: 2 } });
    const sent = await readUntil(detail, (value) => value.outbox.every((entry) => entry.state === 'sent'), 'sent after retry');
    const last = sent.callbacks.slice(-2);
    expect(last.map((attempt) => [attempt.status, attempt.http_status])).toEqual([
      ['delivered', 200],
      ['opened', 200],
    ]);
    expect((await call(sut.url, `/support/messages/${id}/callbacks/retry`, { method: 'POST' })).body).toEqual({ requeued: 0 });
  });
});

describe('support API with no SUPPORT_API_KEYS configured', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp({ supportApiKeys: [] });
  });

  afterAll(async () => {
    await sut.close();
  });

  it('answers 401 JSON to every request, an empty bearer included', async () => {
    for (const authorization of [undefined, 'Bearer ', `Bearer ${SUPPORT_KEY}`, 'Bearer undefined']) {
      const reply = await call(sut.url, '/support/messages', { key: null, authorization });
      expect([authorization, reply.status]).toEqual([authorization, 401]);
      expect(reply.body).toMatchObject({ statusCode: 401 });
    }
  });
});
