import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { LEADER_LOCK } from '../../src/database/leader.service';
import { AppProcess } from '../utils/app-process';
import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { customIm, postGateway } from '../utils/gateway-client';
import { sample } from '../utils/prometheus';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

interface Instance {
  process: AppProcess;
  url: string;
}

const OUTBOX_GAUGES = ['cim_callbacks_pending', 'cim_callbacks_dead', 'cim_outbox_lag_seconds'];

describe('three instances on one database: one leader runs the periodic work (SPEC §6)', () => {
  let database: TestDatabase;
  let db: Client;
  let smartico: FakeSmarticoServer;
  const everyInstance: Instance[] = [];
  let alive: Instance[] = [];

  const start = async (): Promise<Instance> => {
    const { app, url } = await AppProcess.startHealthy({
      DATABASE_URL: database.url,
      CIM_GATEWAYS: JSON.stringify([GATEWAY_A, GATEWAY_B]),
      PLAYER_JWT_SECRET,
      CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      EXPIRY_SWEEP_MS: '200',
      LEADER_POLL_MS: '200',
      LOG_LEVEL: 'warn',
    });
    const instance = { process: app, url };
    everyInstance.push(instance);
    return instance;
  };

  const scrape = async (instance: Instance): Promise<string> => (await fetch(`${instance.url}/metrics`)).text();

  /** Waits until exactly one live instance reports cim_leader 1 (and the others 0); returns the scrapes too. */
  const theLeader = async (): Promise<{ leader: Instance; followers: Instance[]; texts: Map<Instance, string> }> =>
    eventually(
      async () => {
        const texts = new Map(await Promise.all(alive.map(async (instance) => [instance, await scrape(instance)] as const)));
        for (const text of texts.values()) expect(text).toMatch(/^cim_leader [01]$/m);
        const leaders = alive.filter((instance) => sample(texts.get(instance)!, 'cim_leader') === 1);
        expect(leaders).toHaveLength(1);
        return { leader: leaders[0], followers: alive.filter((instance) => instance !== leaders[0]), texts };
      },
      { what: 'exactly one instance to report cim_leader 1', timeoutMs: 30_000, everyMs: 100 },
    );

  /** Posts `count` messages for a player who never connects, expiring at once, round-robin over `to`. */
  const postExpiring = async (count: number, to: Instance[]): Promise<string[]> => {
    const playerId = `player-${randomUUID()}`;
    return Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const extension = { expires_at: new Date(Date.now() + 300).toISOString() };
        const reply = await postGateway(to[index % to.length].url, customIm({ ext_user_id: playerId, callback_url: smartico.url('/cb'), extension }));
        expect(reply.json.error_code).toBe(0);
        return String(reply.json.ext_message_id);
      }),
    );
  };

  /** Waits until every message is failed; returns how many `failed` events each one got. */
  const failedEventsOf = async (ids: string[]): Promise<number[]> => {
    const allFailed = async (): Promise<void> => {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND failed_at IS NOT NULL', [ids]);
      expect(rows[0].n).toBe(ids.length);
    };
    await eventually(allFailed, { what: `${ids.length} expired messages to be failed`, timeoutMs: 30_000, everyMs: 100 });
    const { rows } = await db.query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM message_events e WHERE e.message_id = m.id AND e.event = 'failed') AS n
         FROM messages m WHERE m.id = ANY($1)`,
      [ids],
    );
    return rows.map((row) => row.n);
  };

  const lockHolderPid = async (): Promise<number | undefined> => {
    const { rows } = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LEADER_LOCK],
    );
    return rows[0]?.pid;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    smartico = await FakeSmarticoServer.start();
    alive = await Promise.all([start(), start(), start()]);
  });

  afterAll(async () => {
    for (const instance of everyInstance) instance.process.kill('SIGKILL');
    await Promise.all(everyInstance.map((instance) => instance.process.exited));
    await smartico.close();
    await db.end();
    await database.drop();
  });

  it('elects exactly one leader, which alone exposes the outbox gauges', async () => {
    const { leader, followers, texts } = await theLeader();
    for (const name of OUTBOX_GAUGES) {
      expect(texts.get(leader)).toMatch(new RegExp(`^${name} \\d`, 'm'));
      for (const follower of followers) expect(texts.get(follower)).not.toMatch(new RegExp(`^(# \\w+ )?${name}\\b`, 'm'));
    }
    expect(await lockHolderPid()).toBeDefined();
  });

  it('fails expired undelivered messages exactly once, and only the leader sweeps', async () => {
    const { leader, followers } = await theLeader();
    const ids = await postExpiring(30, alive);
    expect(await failedEventsOf(ids)).toEqual(ids.map(() => 1));
    const callbacks = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM callbacks WHERE message_id = ANY($1) AND status = 'failed'`, [ids]);
    expect(callbacks.rows[0].n).toBe(ids.length);

    const leaderText = await scrape(leader);
    expect(sample(leaderText, 'cim_leader')).toBe(1);
    expect(sample(leaderText, 'cim_expiry_sweeps_total')).toBeGreaterThan(0);
    expect(sample(leaderText, 'cim_expiry_failed_total')).toBe(ids.length);
    for (const follower of followers) {
      const text = await scrape(follower);
      expect(sample(text, 'cim_leader')).toBe(0);
      expect(text).toMatch(/^cim_expiry_sweeps_total 0$/m);
      expect(text).toMatch(/^cim_expiry_failed_total 0$/m);
    }
  });

  it('hands over when the leader is killed (kill -9): another instance leads, sweeps new expiries and cleans up fan-out payloads', async () => {
    const { leader: killed } = await theLeader();
    const stale = await db.query<{ id: string }>(
      `INSERT INTO socket_io_attachments (payload, created_at) VALUES ('\\x00', now() - interval '1 hour') RETURNING id`,
    );
    killed.process.kill('SIGKILL');
    expect((await killed.process.exited).signal).toBe('SIGKILL');
    alive = alive.filter((instance) => instance !== killed);

    const { leader, followers, texts } = await theLeader();
    expect(alive).toHaveLength(2);
    for (const name of OUTBOX_GAUGES) expect(texts.get(leader)).toMatch(new RegExp(`^${name} \\d`, 'm'));
    const before = sample(texts.get(leader)!, 'cim_expiry_failed_total');

    const ids = await postExpiring(10, alive);
    expect(await failedEventsOf(ids)).toEqual(ids.map(() => 1));
    const after = await scrape(leader);
    expect(sample(after, 'cim_expiry_failed_total') - before).toBe(ids.length);
    expect(await scrape(followers[0])).toMatch(/^cim_expiry_sweeps_total 0$/m);

    const cleaned = async (): Promise<void> => {
      const { rows } = await db.query('SELECT 1 FROM socket_io_attachments WHERE id = $1', [stale.rows[0].id]);
      expect(rows).toHaveLength(0);
    };
    await eventually(cleaned, { what: 'the old fan-out payload to be deleted after the handover', timeoutMs: 30_000, everyMs: 100 });
  });

  it('hands over when the leader loses its lock connection: the old leader steps down and follows', async () => {
    const { leader: old } = await theLeader();
    const terminated = await lockHolderPid();
    expect(terminated).toBeDefined();
    await db.query('SELECT pg_terminate_backend($1)', [terminated]);

    await old.process.waitFor('no longer the leader');
    const { leader } = await theLeader();
    const holder = await eventually(async () => (await lockHolderPid()) ?? false, { what: 'a new holder of the leader lock', timeoutMs: 30_000, everyMs: 100 });
    expect(holder).not.toBe(terminated);
    // whichever instance leads now, expiries are still failed once
    const ids = await postExpiring(10, alive);
    expect(await failedEventsOf(ids)).toEqual(ids.map(() => 1));
    expect(sample(await scrape(leader), 'cim_leader')).toBe(1);
  });
});
