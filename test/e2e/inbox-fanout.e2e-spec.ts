import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { AppProcess } from '../utils/app-process';
import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

interface Instance {
  process: AppProcess;
  url: string;
}

async function startInstances(databaseUrl: string, extraEnv: Record<string, string>): Promise<Instance[]> {
  return Promise.all(
    [0, 1].map(async () => {
      const { app, url } = await AppProcess.startHealthy({
        DATABASE_URL: databaseUrl,
        CIM_GATEWAYS: JSON.stringify([GATEWAY_A, GATEWAY_B]),
        PLAYER_JWT_SECRET,
        CALLBACK_ALLOWED_HOSTS: '*.smartico.ai',
        LOG_LEVEL: 'warn',
        ...extraEnv,
      });
      return { process: app, url };
    }),
  );
}

async function stopInstances(instances: Instance[]): Promise<void> {
  for (const instance of instances) instance.process.kill('SIGTERM');
  await Promise.all(instances.map((instance) => instance.process.exited));
}

function describeFanOut(transport: string, extraEnv: Record<string, string>): void {
  describe(`two app processes on one database, fan-out through ${transport}`, () => {
    let database: TestDatabase;
    let db: Client;
    let instances: Instance[];

    beforeAll(async () => {
      database = await createTestDatabase();
      db = new Client({ connectionString: database.url });
      await db.connect();
      instances = await startInstances(database.url, extraEnv);
    });

    afterAll(async () => {
      await stopInstances(instances);
      await db.end();
      await database.drop();
    });

    it('pushes a message posted to instance A to the player connected to instance B, whose ack marks it delivered', async () => {
      const [a, b] = instances;
      const playerId = `player-${randomUUID()}`;
      const player = await SocketPlayer.connect(b.url, await playerToken(playerId));
      try {
        await player.waitForUnread(0);
        const reply = await postGateway(a.url, customIm({ ext_user_id: playerId }));
        expect(reply.json.error_code).toBe(0);
        await player.waitForMessages(1);
        expect(player.messages[0].id).toBe(reply.json.ext_message_id);
        await player.waitForUnread(1);
        const delivered = async (): Promise<void> => {
          const { rows } = await db.query<{ delivered_at: Date | null }>('SELECT delivered_at FROM messages WHERE id = $1', [reply.json.ext_message_id]);
          expect(rows[0].delivered_at).not.toBeNull();
        };
        await eventually(delivered, { what: 'the ack on B to be recorded', timeoutMs: 5_000 });
      } finally {
        player.close();
      }
    });

    it("keeps a player's tabs on both instances in sync: an open on A updates the tab on B", async () => {
      const [a, b] = instances;
      const playerId = `player-${randomUUID()}`;
      const onA = await SocketPlayer.connect(a.url, await playerToken(playerId));
      const onB = await SocketPlayer.connect(b.url, await playerToken(playerId));
      try {
        const reply = await postGateway(b.url, customIm({ ext_user_id: playerId }));
        const id = String(reply.json.ext_message_id);
        await Promise.all([onA.waitForMessages(1), onB.waitForMessages(1)]);
        expect(await onA.emit('opened', { id })).toEqual({ ok: true });
        await onB.waitFor(() => onB.updates.some((view) => view.id === id && view.opened_at !== null), 'the update on B');
        await onB.waitForUnread(0);
        // each tab saw the message once
        expect(onA.messages.map((message) => message.id)).toEqual([id]);
        expect(onB.messages.map((message) => message.id)).toEqual([id]);
      } finally {
        onA.close();
        onB.close();
      }
    });
  });
}

describeFanOut('PostgreSQL', {});

// .ci/run sets CIM_TEST_REDIS_URL when a Redis answers on 127.0.0.1:6379 (it does on the CI machine)
const redisUrl = process.env.CIM_TEST_REDIS_URL;
if (redisUrl !== undefined && redisUrl !== '') describeFanOut('Redis', { REDIS_URL: redisUrl });
