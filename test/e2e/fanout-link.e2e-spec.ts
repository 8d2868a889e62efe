import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import { createTestApp, TestApp } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { freePort } from '../utils/free-port';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';
import { TcpProxy } from '../utils/tcp-proxy';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

interface Readiness {
  status: number;
  body: { status: string; error?: Record<string, { status: string; message?: string }> };
}

async function readiness(app: TestApp): Promise<Readiness> {
  const response = await fetch(`${app.url}/health/ready`);
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}

interface HalfOpenSetUp {
  proxy: TcpProxy;
  /** the listening instance's: its fan-out link goes through the proxy */
  overrides: Record<string, string>;
  /** the posting instance's */
  posterOverrides?: Record<string, string>;
}

function describeHalfOpenLink(transport: string, setUp: (database: TestDatabase) => Promise<HalfOpenSetUp>): void {
  describe(`a half-open fan-out link (${transport})`, () => {
    let database: TestDatabase;
    let poster: TestApp;
    let listener: TestApp;
    let proxy: TcpProxy;
    let callbackUrl: string;

    beforeAll(async () => {
      database = await createTestDatabase();
      const link = await setUp(database);
      proxy = link.proxy;
      poster = await createTestApp(link.posterOverrides ?? {}, { database });
      // only this instance's fan-out link goes through the proxy; its database pool does not
      listener = await createTestApp(link.overrides, { database });
      callbackUrl = `http://127.0.0.1:${await freePort()}/cb`;
    });

    afterAll(async () => {
      proxy.resume();
      await listener.close();
      await poster.close();
      await proxy.stop();
      await database.drop();
    });

    it('makes readiness 503 naming the link while it is silent, and once it is back brings every message posted meanwhile without a reconnect', async () => {
      const playerId = `player-${randomUUID()}`;
      const post = async (): Promise<string> => {
        const reply = await postGateway(poster.url, customIm({ ext_user_id: playerId, callback_url: callbackUrl }));
        expect(reply.json.error_code).toBe(0);
        return String(reply.json.ext_message_id);
      };
      const player = await SocketPlayer.connect(listener.url, await playerToken(playerId));
      let disconnects = 0;
      player.socket.on('disconnect', () => (disconnects += 1));
      try {
        expect((await readiness(listener)).status).toBe(200);
        const before = await post();
        await player.waitForMessages(1);
        expect(player.messages.map((message) => message.id)).toEqual([before]);

        proxy.stall();
        const down = await eventually(
          async () => {
            const ready = await readiness(listener);
            return ready.status === 503 && ready;
          },
          { what: 'readiness 503 on the instance whose link is silent', timeoutMs: 15_000 },
        );
        expect(down.body.error?.fanout?.message).toMatch(/has carried no heartbeat for \d+ ms/);
        expect(down.body.error?.database).toBeUndefined();
        expect((await readiness(poster)).status).toBe(200);

        const meanwhile = [await post(), await post(), await post()];
        proxy.resume();
        await eventually(async () => (await readiness(listener)).status === 200, { what: 'readiness back to 200', timeoutMs: 20_000 });
        await player.waitForMessages(4, 15_000);
        expect(player.messages.map((message) => message.id)).toEqual([before, ...meanwhile]);
        expect(player.connected).toBe(true);
        expect(disconnects).toBe(0);

        // and live pushes flow again
        const after = await post();
        await player.waitForMessages(5);
        expect(player.messages.map((message) => message.id)).toEqual([before, ...meanwhile, after]);
      } finally {
        player.close();
      }
    });
  });
}

describeHalfOpenLink('PostgreSQL LISTEN', async (database) => {
  const proxy = TcpProxy.forUrl(database.url);
  await proxy.start();
  return { proxy, overrides: { fanOutDatabaseUrl: proxy.rewrite(database.url) } };
});

// .ci/run sets CIM_TEST_REDIS_URL when a Redis answers on 127.0.0.1:6379 (it does on the CI machine)
const redisUrl = process.env.CIM_TEST_REDIS_URL;
if (redisUrl !== undefined && redisUrl !== '') {
  describeHalfOpenLink('Redis subscriber', async () => {
    const proxy = TcpProxy.forUrl(redisUrl);
    await proxy.start();
    return { proxy, overrides: { redisUrl: proxy.rewrite(redisUrl) }, posterOverrides: { redisUrl } };
  });
}

describe('the fan-out connections ended by the server, again and again (a database restart, a failover)', () => {
  let database: TestDatabase;
  let poster: TestApp;
  let listener: TestApp;
  let admin: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    poster = await createTestApp({}, { database });
    listener = await createTestApp({}, { database });
    admin = new Client({ connectionString: database.url });
    await admin.connect();
  });

  afterAll(async () => {
    await admin.end();
    await listener.close();
    await poster.close();
    await database.drop();
  });

  it('re-makes the link each time, with a connection to spare for heartbeats and announcements, and live pushes still cross', async () => {
    const playerId = `player-${randomUUID()}`;
    const player = await SocketPlayer.connect(listener.url, await playerToken(playerId));
    const callbackUrl = `http://127.0.0.1:${await freePort()}/cb`;
    try {
      // more times than the fan-out pool has connections (3): a connection not given back would leave none
      for (let round = 1; round <= 5; round += 1) {
        const ended = await admin.query<{ pid: number }>(
          `WITH fan_out AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'cim-inbox-fanout')
           SELECT pid FROM fan_out WHERE pg_terminate_backend(pid)`,
          [database.name],
        );
        expect(ended.rows.length).toBeGreaterThanOrEqual(2);
        const killed = ended.rows.map((row) => row.pid);
        // each instance LISTENs again on a new connection, and hears its heartbeats there
        await eventually(
          async () => {
            const listening = await admin.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = $1 AND application_name = 'cim-inbox-fanout' AND query LIKE 'LISTEN%' AND NOT (pid = ANY($2::int[]))`,
              [database.name, killed],
            );
            return listening.rows[0].n >= 2 && (await readiness(listener)).status === 200 && (await readiness(poster)).status === 200;
          },
          { what: `both instances listening and ready again after round ${round}`, timeoutMs: 20_000 },
        );
      }
      const reply = await postGateway(poster.url, customIm({ ext_user_id: playerId, callback_url: callbackUrl }));
      expect(reply.json.error_code).toBe(0);
      await player.waitForMessages(1, 15_000);
      expect(player.messages.map((message) => message.id)).toEqual([String(reply.json.ext_message_id)]);
    } finally {
      player.close();
    }
  });
});
