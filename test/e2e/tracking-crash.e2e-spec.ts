import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { AppProcess } from '../utils/app-process';
import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

const MESSAGES = 250; // × (delivered, opened) = 500 callbacks

describe('callback outbox across a kill -9 and two instances (SPEC §4)', () => {
  let database: TestDatabase;
  let db: Client;
  let smartico: FakeSmarticoServer;
  const running: AppProcess[] = [];

  const start = async (): Promise<string> => {
    const { app, url } = await AppProcess.startHealthy({
      DATABASE_URL: database.url,
      CIM_GATEWAYS: JSON.stringify([GATEWAY_A, GATEWAY_B]),
      PLAYER_JWT_SECRET,
      CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      CALLBACK_TIMEOUT_MS: '1000',
      CALLBACK_LEASE_MS: '3000',
      CALLBACK_RETRY_BASE_MS: '50',
      CALLBACK_RETRY_MAX_MS: '200',
      CALLBACK_POLL_MS: '50',
      LOG_LEVEL: 'error',
    });
    running.push(app);
    return url;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    smartico = await FakeSmarticoServer.start();
  });

  afterAll(async () => {
    for (const app of running) app.kill('SIGKILL');
    await Promise.all(running.map((app) => app.exited));
    await smartico.close();
    await db.end();
    await database.drop();
  });

  it('sends every pending callback after a kill -9 and restart, and two instances send none twice', async () => {
    smartico.setMode('hang');
    const first = await start();

    const playerId = `player-${randomUUID()}`;
    const token = await playerToken(playerId);
    const ids: string[] = [];
    for (let batch = 0; batch < MESSAGES / 25; batch += 1) {
      await Promise.all(
        Array.from({ length: 25 }, async () => {
          const reply = await postGateway(first, customIm({ ext_user_id: playerId, callback_url: smartico.url('/cb') }));
          const id = String(reply.json.ext_message_id);
          ids.push(id);
          const opened = await fetch(`${first}/inbox/messages/${id}/opened`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
          expect(opened.status).toBe(200);
        }),
      );
    }
    const pending = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM callbacks WHERE state = 'pending'`);
    expect(pending.rows[0].n).toBe(2 * MESSAGES);

    // the receiver hangs, so the instance dies with callbacks claimed mid-send and the rest queued
    running[0].kill('SIGKILL');
    await running[0].exited;
    // what it wrote before dying is read and recorded as before the restart (a request still in a
    // socket's buffer is handled before that socket closes), not counted as sent after it
    await smartico.waitForNoConnections();
    smartico.setMode('ok');
    const restartedAt = Date.now();
    await Promise.all([start(), start()]);

    const allSent = async (): Promise<void> => {
      expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM callbacks WHERE state = 'sent'`)).rows[0].n).toBe(2 * MESSAGES);
    };
    await eventually(allSent, { what: 'every callback sent after the restart', timeoutMs: 60_000, everyMs: 100 });

    const afterRestart = smartico.requests.filter((request) => request.at.getTime() >= restartedAt);
    const perCallback = new Map<string, number>();
    for (const request of afterRestart) {
      const key = `${request.query.ext_message_id}/${request.query.status}`;
      perCallback.set(key, (perCallback.get(key) ?? 0) + 1);
    }
    // every one of the 500 reached the receiver, and none twice
    expect(perCallback.size).toBe(2 * MESSAGES);
    expect([...perCallback.values()].filter((count) => count > 1)).toEqual([]);
    for (const id of ids) {
      const statuses = afterRestart.filter((request) => request.query.ext_message_id === id).map((request) => request.query.status);
      expect(statuses).toEqual(['delivered', 'opened']);
    }
  });
});
