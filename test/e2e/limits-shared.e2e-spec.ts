import { randomBytes, randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { AppConfig } from '../../src/config/app.config';
import { createTestApp, GATEWAY_A, TestApp } from '../utils/create-test-app';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

const LIMITS = { playerPerMinute: 5, supportPerMinute: 1200, gatewayBadAuthPerMinute: 20 };

// a client address of its own per test (the apps trust X-Forwarded-For), so runs sharing one Redis never share a counter
function uniqueAddress(): string {
  return `10.${[...randomBytes(3)].join('.')}`;
}

async function badAttempt(instance: TestApp, address: string): Promise<unknown> {
  const reply = await postGateway(instance.url, customIm(), { authorization: `wrong-${randomUUID()}`, headers: { 'x-forwarded-for': address } });
  expect(reply.status).toBe(200);
  return reply.json.error_code;
}

async function startInstances(database: TestDatabase, overrides: Partial<AppConfig>, count: number): Promise<TestApp[]> {
  const instances: TestApp[] = [];
  for (let index = 0; index < count; index += 1) instances.push(await createTestApp({ rateLimits: LIMITS, ...overrides }, { database }));
  return instances;
}

function describeShared(store: string, overrides: Partial<AppConfig>): void {
  describe(`rate limits of three instances on one database, shared through ${store}`, () => {
    let database: TestDatabase;
    let instances: TestApp[];

    beforeAll(async () => {
      database = await createTestDatabase();
      instances = await startInstances(database, overrides, 3);
    });

    afterAll(async () => {
      for (const instance of instances ?? []) await instance.close();
      await database?.drop();
    });

    it('counts bad Authorization attempts from one address across instances: 20 answered error_code 1, then error_code 6', async () => {
      const address = uniqueAddress();
      const codes: unknown[] = [];
      for (let attempt = 0; attempt < 25; attempt += 1) codes.push(await badAttempt(instances[attempt % 3], address));
      expect(codes).toEqual([...Array<number>(20).fill(1), ...Array<number>(5).fill(6)]);

      // a valid Authorization from the limited address is still accepted, on every instance
      for (const instance of instances) {
        const reply = await postGateway(instance.url, customIm(), { authorization: GATEWAY_A.authorization, headers: { 'x-forwarded-for': address } });
        expect(reply.json.error_code).toBe(0);
      }
      // the limit is per address
      expect(await badAttempt(instances[0], uniqueAddress())).toBe(1);
    });

    if (overrides.redisUrl !== undefined) {
      it("counts a player's REST requests across instances: 5 a minute in total, then 429", async () => {
        const token = await playerToken(`player-${randomUUID()}`);
        const statuses: number[] = [];
        for (let request = 0; request < 7; request += 1) {
          const response = await fetch(`${instances[request % 2].url}/inbox/unread-count`, { headers: { authorization: `Bearer ${token}` } });
          statuses.push(response.status);
        }
        expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
        // another player is not limited
        const calm = await fetch(`${instances[2].url}/inbox/unread-count`, {
          headers: { authorization: `Bearer ${await playerToken(`player-${randomUUID()}`)}` },
        });
        expect(calm.status).toBe(200);
      });
    }
  });
}

describeShared('PostgreSQL', {});

// .ci/run sets CIM_TEST_REDIS_URL when a Redis answers on 127.0.0.1:6379
const redisUrl = process.env.CIM_TEST_REDIS_URL;
if (redisUrl !== undefined && redisUrl !== '') describeShared('Redis', { redisUrl });

describe('rate limits when the shared store fails', () => {
  let database: TestDatabase;
  let db: Client;
  let instances: TestApp[];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    instances = await startInstances(database, {}, 2);
  });

  afterAll(async () => {
    for (const instance of instances ?? []) await instance.close();
    await db?.end();
    await database?.drop();
  });

  it('keeps limiting bad Authorization attempts, per instance, while the rate_limits table cannot be written', async () => {
    await db.query('ALTER TABLE rate_limits RENAME TO rate_limits_away');
    try {
      const address = uniqueAddress();
      const onFirst: unknown[] = [];
      for (let attempt = 0; attempt < 21; attempt += 1) onFirst.push(await badAttempt(instances[0], address));
      expect(onFirst).toEqual([...Array<number>(20).fill(1), 6]);
      // the other instance counts in its own memory meanwhile
      expect(await badAttempt(instances[1], address)).toBe(1);
      expect((await postGateway(instances[0].url, customIm(), { headers: { 'x-forwarded-for': address } })).json.error_code).toBe(0);
    } finally {
      await db.query('ALTER TABLE rate_limits_away RENAME TO rate_limits');
    }
    // shared again once the store answers
    const address = uniqueAddress();
    const codes: unknown[] = [];
    for (let attempt = 0; attempt < 21; attempt += 1) codes.push(await badAttempt(instances[attempt % 2], address));
    expect(codes).toEqual([...Array<number>(20).fill(1), 6]);
  });
});
