import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { RetentionService } from '../../src/tracking/retention.service';
import { createTestApp, TestApp } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { freePort } from '../utils/free-port';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

/** SPEC v2 §6: messages older than MESSAGE_RETENTION_DAYS go, with their children; never one with a callback pending. */
describe('retention (MESSAGE_RETENTION_DAYS)', () => {
  let sut: TestApp;
  let smartico: FakeSmarticoServer;
  let db: Client;

  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    // the job's own timer stays out of the way: the test runs it when the data is ready
    sut = await createTestApp({ callbackAllowedHosts: ['127.0.0.1'], retention: { days: 90, sweepMs: 3_600_000 } });
    db = new Client({ connectionString: sut.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
    await smartico.close();
  });

  const count = async (sql: string, ids: string[]): Promise<number> => (await db.query<{ n: number }>(sql, [ids])).rows[0].n;

  it('deletes messages past the window with their events, callbacks and attempts; keeps one with a pending callback and everything newer', async () => {
    const player = `player-${randomUUID()}`;
    const nobody = `http://127.0.0.1:${await freePort()}/cb`;
    const post = async (callbackUrl: string): Promise<string> => {
      const reply = await postGateway(sut.url, customIm({ ext_user_id: player, callback_url: callbackUrl }));
      expect(reply.json.error_code).toBe(0);
      return String(reply.json.ext_message_id);
    };
    const [old, oldPending, recent, fresh] = [await post(smartico.url()), await post(nobody), await post(smartico.url()), await post(smartico.url())];
    // delivered: each gets an event and a callback (sent to Smartico, or still pending towards a receiver nobody runs)
    const socket = await SocketPlayer.connect(sut.url, await playerToken(player));
    try {
      await socket.waitForMessages(4);
    } finally {
      socket.close();
    }
    await eventually(
      async () => (await count(`SELECT count(*)::int AS n FROM callbacks WHERE message_id = ANY($1::uuid[]) AND state = 'sent'`, [old, recent, fresh])) === 3,
      { what: 'the three delivered callbacks sent', timeoutMs: 10_000 },
    );
    await eventually(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id WHERE c.message_id = ANY($1::uuid[])`, [
          oldPending,
        ])) > 0,
      {
        what: 'a failed attempt for the pending one',
        timeoutMs: 10_000,
      },
    );
    await db.query(`UPDATE messages SET created_at = now() - interval '91 days' WHERE id = ANY($1::uuid[])`, [[old, oldPending]]);
    await db.query(`UPDATE messages SET created_at = now() - interval '89 days' WHERE id = $1`, [recent]);

    expect(await sut.app.get(RetentionService).sweep()).toBe(1);

    const left = (await db.query<{ id: string }>(`SELECT id FROM messages WHERE id = ANY($1::uuid[])`, [[old, oldPending, recent, fresh]])).rows.map(
      (row) => row.id,
    );
    expect(left.sort()).toEqual([oldPending, recent, fresh].sort());
    expect(await count(`SELECT count(*)::int AS n FROM message_events WHERE message_id = ANY($1::uuid[])`, [old])).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM callbacks WHERE message_id = ANY($1::uuid[])`, [old])).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM message_events WHERE message_id = ANY($1::uuid[])`, [recent, fresh, oldPending])).toBeGreaterThanOrEqual(
      3,
    );
    // nothing more to do: a second run deletes nothing
    expect(await sut.app.get(RetentionService).sweep()).toBe(0);

    const metrics = await (await fetch(`${sut.url}/metrics`)).text();
    expect(metrics).toMatch(/^cim_retention_deleted_total 1$/m);
    const age = Number(/^cim_oldest_message_age_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(age).toBeGreaterThan(91 * 86_400 - 60);
  });
});
