import { Client } from 'pg';

import type { MessageRow } from '../../src/messages/message.view';
import { createTestApp, GATEWAY_A, GATEWAY_B, TestApp } from '../utils/create-test-app';
import { customIm, postGateway } from '../utils/gateway-client';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('POST /gateway/custom-im (SPEC §2)', () => {
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

  const rowsFor = async (imUid: string): Promise<MessageRow[]> =>
    (await db.query<MessageRow>('SELECT * FROM messages WHERE im_uid = $1 ORDER BY gateway_id', [imUid])).rows;

  /** Every refusal is HTTP 200 JSON with exactly these two keys. */
  async function expectRefused(body: unknown, code: number, mentions: RegExp, options = {}): Promise<void> {
    const reply = await postGateway(sut.url, body, options);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(Object.keys(reply.json).sort()).toEqual(['error_code', 'error_message']);
    expect(reply.json.error_code).toBe(code);
    expect(reply.json.error_message).toMatch(mentions);
    expect(String(reply.json.error_message)).not.toMatch(/\bat .+\.(js|ts):\d+/);
  }

  describe('accepting', () => {
    it('stores the message and answers error_code 0 with a uuid ext_message_id, after the row is committed', async () => {
      const request = customIm({ extension: { title: 'Hi', display: 'popup', priority: 'high', category: 'bonus', expires_at: '2030-01-01T00:00:00Z' } });
      const reply = await postGateway(sut.url, request);

      expect(reply.status).toBe(200);
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(Object.keys(reply.json).sort()).toEqual(['error_code', 'ext_message_id']);
      expect(reply.json.error_code).toBe(0);
      expect(reply.json.ext_message_id).toMatch(UUID);
      // read through another connection: the commit happened before the reply
      const [row] = await rowsFor(String(request.im_uid));
      expect(row).toMatchObject({
        id: reply.json.ext_message_id,
        gateway_id: GATEWAY_A.id,
        ext_user_id: 'player-1',
        body: 'Best offer ever',
        callback_url: 'https://api.smartico.ai/cim/callback?label=7',
        extension: { title: 'Hi', display: 'popup', priority: 'high', category: 'bonus', expires_at: '2030-01-01T00:00:00Z' },
        display: 'popup',
        priority: 'high',
        category: 'bonus',
        delivered_at: null,
      });
      expect(row.expires_at?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    });

    it('keeps an integer ext_user_id as its decimal string', async () => {
      const request = customIm({ ext_user_id: 1234567 });
      expect((await postGateway(sut.url, request)).json.error_code).toBe(0);
      expect((await rowsFor(String(request.im_uid)))[0].ext_user_id).toBe('1234567');
    });

    it('accepts an empty body, no extension and ignores unknown fields and from_number', async () => {
      const request = customIm({ body: '', extension: undefined, from_number: 'Amazing', surprise: { nested: true } });
      delete request.extension;
      expect((await postGateway(sut.url, request)).json.error_code).toBe(0);
      const [row] = await rowsFor(String(request.im_uid));
      expect(row).toMatchObject({ body: '', extension: null, display: 'both', priority: 'normal', category: null });
    });

    it('falls back to defaults for well-known extension keys of the wrong shape, keeping the extension whole', async () => {
      const extension = { display: 'sideways', priority: 7, expires_at: 'next tuesday', category: 42 };
      const request = customIm({ extension });
      expect((await postGateway(sut.url, request)).json.error_code).toBe(0);
      const [row] = await rowsFor(String(request.im_uid));
      expect(row).toMatchObject({ extension, display: 'both', priority: 'normal', category: null, expires_at: null });
    });

    it('accepts a body of exactly 64 KiB', async () => {
      const request = customIm({ body: 'é'.repeat(32 * 1024) });
      expect((await postGateway(sut.url, request)).json.error_code).toBe(0);
    });
  });

  describe('replays and conflicts', () => {
    it('answers a replay with the same ext_message_id and stores nothing new, whatever the key order', async () => {
      const request = customIm({ extension: { a: 1, b: { c: [1, 2], d: 'x' } } });
      const first = await postGateway(sut.url, request);
      const replay = await postGateway(
        sut.url,
        `{"callback_url":${JSON.stringify(request.callback_url)},"im_uid":${JSON.stringify(request.im_uid)},` +
          `"extension":{"b":{"d":"x","c":[1,2]},"a":1},"body":${JSON.stringify(request.body)},"ext_user_id":"player-1","extra":1}`,
      );
      expect(first.json.error_code).toBe(0);
      expect(replay.json).toEqual({ error_code: 0, ext_message_id: first.json.ext_message_id });
      expect(await rowsFor(String(request.im_uid))).toHaveLength(1);
    });

    it.each([
      ['body', { body: 'changed' }],
      ['ext_user_id', { ext_user_id: 'player-2' }],
      ['callback_url', { callback_url: 'https://api.smartico.ai/other' }],
      ['extension', { extension: { title: 'changed' } }],
    ])('answers error_code 4 when a replay changes %s, keeping the first message', async (_field, change) => {
      const request = customIm();
      const first = await postGateway(sut.url, request);
      await expectRefused({ ...request, ...change }, 4, new RegExp(String(request.im_uid)));
      const rows = await rowsFor(String(request.im_uid));
      expect(rows).toHaveLength(1);
      expect(rows[0].id).toBe(first.json.ext_message_id);
      expect(rows[0].body).toBe(request.body);
    });

    it('stores one row when 50 identical posts race, and all 50 answer the same ext_message_id', async () => {
      const request = customIm();
      const replies = await Promise.all(Array.from({ length: 50 }, () => postGateway(sut.url, request)));
      const ids = new Set(replies.map((reply) => reply.json.ext_message_id));
      expect(replies.every((reply) => reply.json.error_code === 0)).toBe(true);
      expect(ids.size).toBe(1);
      const rows = await rowsFor(String(request.im_uid));
      expect(rows).toHaveLength(1);
      expect(rows[0].id).toBe([...ids][0]);
    });
    it('answers each of many concurrent posts on its own: new ones 0, a changed replay 4, a refused one 2', async () => {
      const fresh = Array.from({ length: 30 }, () => customIm());
      const original = customIm();
      await postGateway(sut.url, original);
      const replies = await Promise.all([
        ...fresh.map((request) => postGateway(sut.url, request)),
        postGateway(sut.url, { ...original, body: 'changed' }),
        postGateway(sut.url, original),
        postGateway(sut.url, customIm({ body: 'nul\u0000' })),
      ]);
      expect(replies.slice(0, 30).every((reply) => reply.json.error_code === 0)).toBe(true);
      expect(replies[30].json.error_code).toBe(4);
      expect(replies[31].json.error_code).toBe(0);
      expect(replies[32].json.error_code).toBe(2);
      for (const [index, request] of fresh.entries()) {
        const rows = await rowsFor(String(request.im_uid));
        expect(rows.map((row) => row.id)).toEqual([replies[index].json.ext_message_id]);
      }
    });
  });

  describe('gateways and authorization', () => {
    it('keeps the same im_uid under two gateways as two messages, each under its own gateway id', async () => {
      const request = customIm();
      const a = await postGateway(sut.url, request, { authorization: GATEWAY_A.authorization });
      const b = await postGateway(sut.url, request, { authorization: GATEWAY_B.authorization });
      expect(a.json.error_code).toBe(0);
      expect(b.json.error_code).toBe(0);
      expect(a.json.ext_message_id).not.toBe(b.json.ext_message_id);
      const rows = await rowsFor(String(request.im_uid));
      expect(rows.map((row) => [row.gateway_id, row.id])).toEqual([
        [GATEWAY_A.id, a.json.ext_message_id],
        [GATEWAY_B.id, b.json.ext_message_id],
      ]);
    });

    it.each([
      ['missing', null],
      ['empty', ''],
      ['unknown', 'not-a-configured-secret'],
      ['differently cased', GATEWAY_A.authorization.toUpperCase()],
      ['padded', ` ${GATEWAY_A.authorization}x`],
      ['a prefix of a real one', GATEWAY_A.authorization.slice(0, -1)],
      ['Bearer-prefixed', `Bearer ${GATEWAY_A.authorization}`],
    ])('refuses a %s Authorization with error_code 1, saying nothing more, and stores nothing', async (_case, authorization) => {
      const request = customIm();
      await expectRefused(request, 1, /^unauthorized$/, { authorization });
      expect(await rowsFor(String(request.im_uid))).toHaveLength(0);
    });

    it('treats the header name case-insensitively, as HTTP does', async () => {
      const request = customIm();
      const reply = await postGateway(sut.url, request, { authorization: null, headers: { AUTHORIZATION: GATEWAY_B.authorization } });
      expect(reply.json.error_code).toBe(0);
      expect((await rowsFor(String(request.im_uid)))[0].gateway_id).toBe(GATEWAY_B.id);
    });
  });

  describe('bad input gets HTTP 200 JSON with its error_code', () => {
    it('unparsable JSON → 2', () => expectRefused('{"ext_user_id": "p1", body: }', 2, /not valid JSON/));
    it('a text/plain body → 2 naming the Content-Type', () => expectRefused(JSON.stringify(customIm()), 2, /Content-Type/, { contentType: 'text/plain' }));
    it('a form body → 2 naming the Content-Type', () =>
      expectRefused('ext_user_id=1&body=x', 2, /Content-Type/, { contentType: 'application/x-www-form-urlencoded' }));
    it('no Content-Type with a body → 2 naming the Content-Type', () => expectRefused(JSON.stringify(customIm()), 2, /Content-Type/, { contentType: null }));
    it('an empty body → 2', () => expectRefused('', 2, /empty/));
    it.each([
      ['an array', '[1,2]'],
      ['a string', '"hello"'],
      ['a number', '42'],
      ['null', 'null'],
    ])('JSON that is %s → 2', (_case, body) => expectRefused(body, 2, /must be a JSON object/));

    it.each(['ext_user_id', 'body', 'im_uid', 'callback_url'])('a missing %s → 2 naming it', async (field) => {
      const request = customIm();
      delete request[field];
      await expectRefused(request, 2, new RegExp(`^${field} is required$`));
      expect(await rowsFor(String(request.im_uid))).toHaveLength(0);
    });

    it.each([
      ['body a number', { body: 42 }, /^body must be a string$/],
      ['body null', { body: null }, /^body is required$/],
      ['ext_user_id an object', { ext_user_id: { id: 1 } }, /^ext_user_id must be a string or an integer$/],
      ['ext_user_id a fraction', { ext_user_id: 1.5 }, /^ext_user_id must be a string or an integer$/],
      ['ext_user_id beyond 2^53', { ext_user_id: 2 ** 60 }, /^ext_user_id must be a string or an integer$/],
      ['ext_user_id empty', { ext_user_id: '' }, /^ext_user_id must not be empty$/],
      ['im_uid a number', { im_uid: 12 }, /^im_uid must be a string$/],
      ['im_uid empty', { im_uid: '' }, /^im_uid must not be empty$/],
      ['extension an array', { extension: [1, 2] }, /^extension must be a JSON object$/],
      ['extension a string', { extension: 'title=x' }, /^extension must be a JSON object$/],
      ['callback_url not a URL', { callback_url: 'not a url' }, /^callback_url must be an absolute http or https URL$/],
      ['callback_url relative', { callback_url: '/callback' }, /^callback_url must be an absolute http or https URL$/],
      ['callback_url with an ftp: scheme', { callback_url: 'ftp://api.smartico.ai/x' }, /^callback_url must be an absolute http or https URL$/],
      ['callback_url a number', { callback_url: 7 }, /^callback_url must be a string$/],
      [
        'callback_url on a host not allowed',
        { callback_url: 'https://evil.example.com/cb' },
        /callback_url host evil\.example\.com is not in CALLBACK_ALLOWED_HOSTS/,
      ],
      ['callback_url on the apex of a wildcard', { callback_url: 'https://smartico.ai/cb' }, /not in CALLBACK_ALLOWED_HOSTS/],
      ['callback_url on a look-alike host', { callback_url: 'https://api.smartico.ai.evil.com/cb' }, /not in CALLBACK_ALLOWED_HOSTS/],
      ['callback_url with a userinfo trick', { callback_url: 'https://api.smartico.ai@169.254.169.254/cb' }, /host 169\.254\.169\.254 is not/],
    ])('%s → 2 naming the field', async (_case, change, message) => {
      const request = { ...customIm(), ...change };
      await expectRefused(request, 2, message);
      expect(await rowsFor(String(customIm().im_uid))).toHaveLength(0);
    });

    it('body over 64 KiB → 3', () => expectRefused(customIm({ body: 'x'.repeat(64 * 1024 + 1) }), 3, /^body must be at most 64 KiB$/));
    it('body over 64 KiB in UTF-8 bytes though under 64 Ki characters → 3', () =>
      expectRefused(customIm({ body: 'é'.repeat(32 * 1024 + 1) }), 3, /^body must be at most 64 KiB$/));
    it('extension over 64 KiB serialized → 3', () =>
      expectRefused(customIm({ extension: { description: 'x'.repeat(64 * 1024) } }), 3, /^extension must serialize to at most 64 KiB$/));
    it('im_uid over 255 characters → 3', () => expectRefused(customIm({ im_uid: 'u'.repeat(256) }), 3, /^im_uid must be at most 255 characters$/));
    it('ext_user_id over 255 characters → 3', () =>
      expectRefused(customIm({ ext_user_id: 'p'.repeat(256) }), 3, /^ext_user_id must be at most 255 characters$/));
    it('a request over 256 KiB → 3', () => expectRefused(customIm({ body: 'x'.repeat(256 * 1024) }), 3, /over 256 KiB/));
    it('a request of several MiB → 3', () => expectRefused(customIm({ body: 'x'.repeat(4 * 1024 * 1024) }), 3, /over 256 KiB/));

    it('a NUL character in body → 2, not a database error reported as 5', () =>
      expectRefused(customIm({ body: 'a\u0000b' }), 2, /^body must not contain NUL characters or unpaired surrogates$/));
    it('a NUL character in an extension key or value → 2', async () => {
      await expectRefused(customIm({ extension: { title: 'x\u0000' } }), 2, /^extension must not contain NUL/);
      await expectRefused(customIm({ extension: { ['k\u0000']: 1 } }), 2, /^extension must not contain NUL/);
    });
    it('an unpaired surrogate escape in the extension → 2', () =>
      expectRefused(
        `{"ext_user_id":"p1","body":"b","im_uid":"u-${Date.now()}","callback_url":"https://api.smartico.ai/cb","extension":{"t":"\\ud800"}}`,
        2,
        /^extension must not contain NUL/,
      ));

    it('a GET on the gateway route → 2 saying to POST', async () => {
      const response = await fetch(`${sut.url}/gateway/custom-im`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ error_code: 2, error_message: 'use POST /gateway/custom-im' });
    });

    it('keeps serving after all of the above', async () => {
      expect((await postGateway(sut.url, customIm())).json.error_code).toBe(0);
    });
  });
});
