import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { AppProcess } from '../utils/app-process';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { createTestDatabase, TestDatabase } from '../utils/test-database';
import { API_KEYS, appEnv, newOutcomes, ReliablePlayer, sleep, startApp, steadyPoster, waitUntil } from './lib/harness';
import { Ledger } from './lib/ledger';
import { scale } from './scale';

const POSTS = scale(2_000, 300);
const PER_SECOND = scale(100, 60);
const PLAYERS = scale(20, 10);

jest.setTimeout(scale(300_000, 120_000));

describe('scenario 1: kill -9 of the app while Smartico posts (issue 8)', () => {
  let database: TestDatabase;
  let db: Client;
  let smartico: FakeSmarticoServer;
  const apps: AppProcess[] = [];
  const players: ReliablePlayer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    smartico = await FakeSmarticoServer.start();
  });

  afterAll(async () => {
    for (const player of players) player.close();
    for (const app of apps) app.kill('SIGKILL');
    await Promise.all(apps.map((app) => app.exited));
    await smartico?.close();
    await db?.end();
    await database?.drop();
  });

  it(`stores every post answered 0 (${POSTS} at ${PER_SECOND}/s), pushes each to its player after the restart, and drains every callback`, async () => {
    const ledger = new Ledger();
    ledger.watchReceiver(smartico);
    const env = appEnv(database.url);
    const first = await startApp(env);
    apps.push(first.app);
    const url = first.url;

    const ids = Array.from({ length: PLAYERS }, () => `player-${randomUUID()}`);
    for (const id of ids) {
      const player = new ReliablePlayer(id, [url], ledger);
      players.push(player);
      await player.start();
    }

    const outcomes = newOutcomes();
    const poster = steadyPoster({ url: () => url, ledger, outcomes, players: ids, total: POSTS, perSecond: PER_SECOND, callbackUrl: smartico.url('/cb') });
    // a random moment between 20 % and 70 % of the run
    const runMs = (POSTS / PER_SECOND) * 1000;
    const killAfterMs = Math.round(runMs * (0.2 + Math.random() * 0.5));
    await sleep(killAfterMs);
    const acceptedBeforeKill = outcomes.accepted;
    first.app.kill('SIGKILL');
    expect(await first.app.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await ledger.noteCrash(db);

    const second = await startApp(env, first.port);
    apps.push(second.app);
    await poster.done;

    // every post was eventually accepted (those cut by the kill were retried, as Smartico does)
    const accepted = ledger.accepted;
    expect(new Set(accepted.map((reply) => reply.imUid)).size).toBe(POSTS);
    expect(acceptedBeforeKill).toBeGreaterThan(0);
    expect(acceptedBeforeKill).toBeLessThan(POSTS);
    // every accepted message reaches its player (catch-up after reconnect), and every status drains
    await waitUntil(
      () => accepted.every((reply) => players.find((player) => player.id === reply.player)!.received.has(reply.extMessageId)),
      () =>
        `pushes: ${accepted.filter((reply) => !players.find((player) => player.id === reply.player)!.received.has(reply.extMessageId)).length} of ${accepted.length} missing`,
      120_000,
    );
    await waitUntil(
      async () =>
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM callbacks WHERE state <> 'sent'`)).rows[0].n === 0 &&
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE delivered_at IS NULL`)).rows[0].n === 0,
      'every message delivered and every callback sent',
      120_000,
    );

    const report = await ledger.reconcile(db, { deliveredTo: ids, drained: true, apiKeys: API_KEYS });
    process.stdout.write(
      `scenario 1: killed after ${killAfterMs} ms (${acceptedBeforeKill} accepted before); posts ${poster.sent()}, replies 0: ${outcomes.accepted}, refused ${JSON.stringify([...outcomes.refused])}, ` +
        `transport errors ${outcomes.errors.length}; ${JSON.stringify(report.figures)}\n`,
    );
    expect(report.problems).toEqual({});
    expect(players.every((player) => player.connects >= 2)).toBe(true);
    // every delivered status reached Smartico (one per accepted message at least)
    expect(new Set(smartico.requests.filter((r) => r.query.status === 'delivered').map((r) => r.query.ext_message_id)).size).toBe(accepted.length);
  });
});
