import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { createTestApp, GATEWAY_A, TestApp } from '../utils/create-test-app';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';

describe('rate limits', () => {
  let sut: TestApp;
  let db: Client;

  beforeAll(async () => {
    sut = await createTestApp({
      rateLimits: { playerPerMinute: 5, supportPerMinute: 3, gatewayBadAuthPerMinute: 3 },
      supportApiKeys: ['support-key-one-0123456789', 'support-key-two-0123456789'],
    });
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
  });

  it('answers error_code 6 (HTTP 200 JSON) past the bad-Authorization limit of an address, while valid requests still pass', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await postGateway(sut.url, customIm(), { authorization: 'wrong' })).json.error_code).toBe(1);
    }
    const limited = await postGateway(sut.url, customIm(), { authorization: 'wrong' });
    expect(limited.status).toBe(200);
    expect(limited.json).toEqual({ error_code: 6, error_message: 'too many unauthorized attempts from this address; retry in a minute' });
    // still limited, whatever the bad secret
    expect((await postGateway(sut.url, customIm(), { authorization: null })).json.error_code).toBe(6);

    const valid = customIm();
    const accepted = await postGateway(sut.url, valid, { authorization: GATEWAY_A.authorization });
    expect(accepted.json.error_code).toBe(0);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE im_uid = $1', [valid.im_uid])).rows[0].n).toBe(1);
  });

  it('limits player REST per player with 429 JSON, leaving other players alone', async () => {
    const [busy, calm] = [`player-${randomUUID()}`, `player-${randomUUID()}`];
    const get = async (playerId: string) => fetch(`${sut.url}/inbox/unread-count`, { headers: { authorization: `Bearer ${await playerToken(playerId)}` } });
    const statuses: number[] = [];
    for (let request = 0; request < 7; request += 1) statuses.push((await get(busy)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await get(busy);
    expect(await limited.json()).toMatchObject({ statusCode: 429 });
    expect((await get(calm)).status).toBe(200);
  });

  it('limits the support API per key with 429 JSON, leaving other keys alone', async () => {
    const get = (key: string) => fetch(`${sut.url}/support/messages?limit=1`, { headers: { authorization: `Bearer ${key}` } });
    const statuses: number[] = [];
    for (let request = 0; request < 5; request += 1) statuses.push((await get('support-key-one-0123456789')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await get('support-key-two-0123456789')).status).toBe(200);
  });
});
