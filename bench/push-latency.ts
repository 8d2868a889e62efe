/**
 * Live push latency (issue 3): N players hold sockets, one message is posted to each through the
 * gateway, and the same process times POST sent → `message` received, and gateway reply →
 * `message` received. Run against one app instance, then two (sockets spread over both, posts
 * to the first, so half the pushes cross instances through the PostgreSQL adapter).
 *   npm run bench:push -- [--players 1000] [--concurrency 10]
 */
import { randomUUID } from 'node:crypto';
import { io, Socket } from 'socket.io-client';
import { AppProcess, freePort } from '../test/utils/app-process';
import { benchDatabase } from './lib/bench-database';
import { ms, summarize } from './lib/stats';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, index, all) => arg.startsWith('--') && args.set(arg.slice(2), all[index + 1]));
const PLAYERS = Number(args.get('players') ?? 1000);
const CONCURRENCY = Number(args.get('concurrency') ?? 10);
const SECRET = 'bench-player-secret-that-is-at-least-32-bytes';
const AUTHORIZATION = 'bench-gateway-secret';

async function token(playerId: string): Promise<string> {
  const { SignJWT } = await import('jose');
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(playerId).setExpirationTime('2h').sign(new TextEncoder().encode(SECRET));
}

async function run(instanceCount: number, databaseUrl: string): Promise<{ postToMessage: number[]; replyToMessage: number[] }> {
  const instances = await Promise.all(
    Array.from({ length: instanceCount }, async () => {
      const port = await freePort();
      const app = new AppProcess({
        DATABASE_URL: databaseUrl,
        CIM_AUTHORIZATION: AUTHORIZATION,
        SMARTICO_API_KEY: 'bench-api-key',
        PLAYER_JWT_SECRET: SECRET,
        CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DB_POOL_SIZE: '20',
      });
      const url = `http://127.0.0.1:${port}`;
      await app.waitForHealthy(url);
      return { app, url };
    }),
  );

  const runId = randomUUID().slice(0, 8);
  const received = new Map<string, number>();
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from({ length: PLAYERS }, async (_, i) => {
      const socket = io(`${instances[i % instanceCount].url}/inbox`, {
        auth: { token: await token(`bench-${runId}-${i}`) },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      socket.on('message', (view: { im_uid: string }, ack: () => void) => {
        received.set(view.im_uid, performance.now());
        ack();
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('unread', () => resolve());
        socket.once('connect_error', reject);
      });
    }),
  );

  const sentAt = new Map<string, number>();
  const repliedAt = new Map<string, number>();
  let next = 0;
  const gateway = `${instances[0].url}/gateway/custom-im`;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PLAYERS) {
        const i = next++;
        const imUid = `bench-${runId}-${i}`;
        const body = JSON.stringify({
          ext_user_id: `bench-${runId}-${i}`,
          body: 'x'.repeat(700),
          im_uid: imUid,
          callback_url: 'http://127.0.0.1:9/callback',
          extension: { title: 'Bench', description: 'latency', action: 'BUY', instrument: 'MSFT' },
        });
        sentAt.set(imUid, performance.now());
        const response = await fetch(gateway, { method: 'POST', headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' }, body });
        const reply = (await response.json()) as { error_code: number };
        if (reply.error_code !== 0) throw new Error(`gateway refused: ${JSON.stringify(reply)}`);
        repliedAt.set(imUid, performance.now());
      }
    }),
  );
  const deadline = Date.now() + 15_000;
  while (received.size < PLAYERS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

  for (const socket of sockets) socket.close();
  for (const { app } of instances) app.kill('SIGTERM');
  await Promise.all(instances.map(({ app }) => app.exited));
  if (received.size < PLAYERS) throw new Error(`only ${received.size} of ${PLAYERS} messages arrived`);
  const keys = [...sentAt.keys()];
  return {
    postToMessage: keys.map((key) => received.get(key)! - sentAt.get(key)!),
    replyToMessage: keys.map((key) => received.get(key)! - repliedAt.get(key)!),
  };
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  try {
    process.stdout.write(`push latency: ${PLAYERS} players connected, one message each, ${CONCURRENCY} concurrent posters\n\n`);
    process.stdout.write('| instances | POST sent → message p50 | p99 | max | gateway reply → message p50 | p99 |\n|---|---|---|---|---|---|\n');
    for (const count of [1, 2]) {
      const result = await run(count, database.url);
      const post = summarize(result.postToMessage);
      const reply = summarize(result.replyToMessage);
      process.stdout.write(`| ${count} | ${ms(post.p50)} | ${ms(post.p99)} | ${ms(post.max)} | ${ms(reply.p50)} | ${ms(reply.p99)} |\n`);
    }
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
