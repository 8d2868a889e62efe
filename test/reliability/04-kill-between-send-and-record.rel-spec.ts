import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { CALLBACK_CLAIM_BATCH } from '../../src/tracking/callback-dispatcher.service';
import { AppProcess } from '../utils/app-process';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { freePort } from '../utils/free-port';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { sample } from '../utils/prometheus';
import { createTestDatabase, TestDatabase } from '../utils/test-database';
import { API_KEYS, appEnv, startApp, waitUntil } from './lib/harness';
import { Ledger } from './lib/ledger';
import { scale } from './scale';

const CONCURRENCY = 16;

jest.setTimeout(scale(300_000, 120_000));

describe('scenario 4: kill -9 between sending a callback and recording it; two instances sharing the outbox (issue 8)', () => {
  let database: TestDatabase;
  let db: Client;
  const apps: AppProcess[] = [];
  const receivers: FakeSmarticoServer[] = [];

  const count = async (sql: string): Promise<number> => (await db.query<{ n: number }>(sql)).rows[0].n;
  const env = (): NodeJS.ProcessEnv => appEnv(database.url, { CALLBACK_CONCURRENCY: String(CONCURRENCY), CALLBACK_LEASE_MS: '3000' });
  const start = async (): Promise<{ app: AppProcess; url: string }> => {
    const started = await startApp(env());
    apps.push(started.app);
    return started;
  };

  /** `messages` messages over 20 players, each opened over REST: 2 × messages callbacks (delivered, opened) to `callbackUrl`. */
  const enqueue = async (url: string, ledger: Ledger, messages: number, callbackUrl: string): Promise<string[]> => {
    // spread so that no player goes over PLAYER_RATE_LIMIT_PER_MIN
    const players = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const id = `player-${randomUUID()}`;
        return { id, token: await playerToken(id) };
      }),
    );
    const ids: string[] = [];
    for (let begin = 0; begin < messages; begin += 20) {
      await Promise.all(
        players.slice(0, Math.min(20, messages - begin)).map(async ({ id: playerId, token }) => {
          const request = customIm({ ext_user_id: playerId, callback_url: callbackUrl });
          const reply = await postGateway(url, request);
          expect(ledger.recordReply({ gatewayId: 'brand-a', im_uid: request.im_uid, ext_user_id: playerId }, reply.json)).toBe(true);
          const id = String(reply.json.ext_message_id);
          ids.push(id);
          const opened = await fetch(`${url}/inbox/messages/${id}/opened`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
          expect(opened.status).toBe(200);
        }),
      );
    }
    return ids;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    for (const app of apps) app.kill('SIGKILL');
    await Promise.all(apps.map((app) => app.exited));
    for (const receiver of receivers) await receiver.close();
    await db?.end();
    await database?.drop();
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) {
      app.kill('SIGKILL');
      await app.exited;
    }
    await db.query('TRUNCATE messages CASCADE');
  });

  it('re-sends after the restart what Smartico received but the killed app never recorded; duplicates only of in-flight (ext_message_id, status)', async () => {
    const messages = scale(400, 100);
    const ledger = new Ledger({ callbackConcurrency: CONCURRENCY });
    const first = await start();
    // the receiver is not listening yet: the outbox fills (refused attempts are recorded and retried)
    const port = await freePort();
    await enqueue(first.url, ledger, messages, `http://127.0.0.1:${port}/cb`);

    const total = 2 * messages;
    const killAt = Math.floor(total * (0.2 + Math.random() * 0.5));
    let killedAt = 0;
    let killedKey = '';
    const receiver = await FakeSmarticoServer.start(port);
    receivers.push(receiver);
    ledger.watchReceiver(receiver);
    // on the killAt-th request the app is killed while Smartico holds it: sent, never answered, never recorded;
    // the ones answered just before it may sit in the attempt recorder's group commit and die with it
    receiver.onRequest = (request) => {
      if (receiver.requests.length !== killAt) return;
      first.app.kill('SIGKILL');
      killedAt = Date.now();
      killedKey = `${request.query.ext_message_id}/${request.query.status}`;
      receiver.failNext(1, 'hang');
    };
    await waitUntil(() => killedAt > 0, 'the kill', 60_000, 10);
    expect(await first.app.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await ledger.noteCrash(db);

    const restartedAt = Date.now();
    await start();
    await waitUntil(
      async () => (await count(`SELECT count(*)::int AS n FROM callbacks WHERE state <> 'sent'`)) === 0,
      'the outbox drained after the restart',
      120_000,
    );

    const report = await ledger.reconcile(db, { drained: true, apiKeys: API_KEYS });
    const receptions = new Map<string, number[]>();
    for (const request of receiver.requests) {
      const key = `${request.query.ext_message_id}/${request.query.status}`;
      receptions.set(key, [...(receptions.get(key) ?? []), request.at.getTime()]);
    }
    const duplicated = [...receptions].filter(([, times]) => times.length > 1);
    process.stdout.write(
      `scenario 4: killed at callback ${killAt} of ${total}; ${receiver.requests.length} requests, ${duplicated.length} (ext_message_id, status) sent twice; ${JSON.stringify(report.figures)}\n`,
    );
    expect(report.problems).toEqual({});
    expect(receptions.size).toBe(total);
    // the one held at the kill came again after the restart: at least once
    expect(receptions.get(killedKey)!.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...receptions.get(killedKey)!)).toBeGreaterThan(killedAt);
    // only what the killed app had in flight came twice: once from it, once after the restart; at most one wave of sends
    expect(duplicated.every(([, times]) => times.length === 2 && times[0] < restartedAt && times[1] > restartedAt)).toBe(true);
    // the dispatcher never has more than CALLBACK_CONCURRENCY + one claim batch sends started and unrecorded
    expect(duplicated.length).toBeLessThanOrEqual(CONCURRENCY + CALLBACK_CLAIM_BATCH);
  });

  it(`two instances sharing ${scale(1_000, 200)} pending callbacks send none twice when nothing crashes`, async () => {
    const callbacks = scale(1_000, 200);
    const ledger = new Ledger({ callbackConcurrency: CONCURRENCY });
    const setup = await start();
    const port = await freePort();
    const ids = await enqueue(setup.url, ledger, callbacks / 2, `http://127.0.0.1:${port}/cb`);
    setup.app.kill('SIGTERM');
    expect((await setup.app.exited).code).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM callbacks WHERE state = 'pending'`)).toBe(callbacks);

    // both instances are up and polling before the receiver opens, so both take from the same queue
    const [b, c] = await Promise.all([start(), start()]);
    const receiver = await FakeSmarticoServer.start(port);
    // a receiver that takes its time (as a remote one does): the drain outlasts several polls, so
    // neither instance can empty the queue before the other comes back to it
    receiver.setMode({ delayMs: 25 });
    receivers.push(receiver);
    ledger.watchReceiver(receiver);
    await waitUntil(
      async () => (await count(`SELECT count(*)::int AS n FROM callbacks WHERE state <> 'sent'`)) === 0,
      'the outbox drained by two instances',
      120_000,
    );

    const sentBy = async (url: string): Promise<number> => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      return ['delivered', 'opened'].reduce((sum, status) => sum + sample(metrics, 'cim_callbacks_total', { status, result: 'sent' }), 0);
    };
    const [byB, byC] = [await sentBy(b.url), await sentBy(c.url)];
    const report = await ledger.reconcile(db, { drained: true, apiKeys: API_KEYS });
    const keys = receiver.requests.map((request) => `${request.query.ext_message_id}/${request.query.status}`);
    process.stdout.write(
      `scenario 4: two instances sent ${byB} + ${byC} of ${callbacks}; ${keys.length} requests received; ${JSON.stringify(report.figures)}\n`,
    );
    expect(report.problems).toEqual({});
    expect(keys.length).toBe(callbacks);
    expect(new Set(keys).size).toBe(callbacks);
    expect(new Set(keys.map((key) => key.split('/')[0]))).toEqual(new Set(ids));
    expect(byB + byC).toBe(callbacks);
    expect(byB).toBeGreaterThan(0);
    expect(byC).toBeGreaterThan(0);
  });
});
