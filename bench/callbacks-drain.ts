/**
 * Callback throughput (issue 4): 10,000 `delivered` callbacks are committed to the outbox at
 * once, and one app instance drains them to a fast local receiver (a bare node:http server that
 * answers Smartico's `{"error_code":0}`). Prints the drain time and callbacks per second.
 *   npm run bench:callbacks -- [--callbacks 10000] [--concurrency 16]
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { AppProcess, freePort } from '../test/utils/app-process';
import { drainWithBaseline } from './baselines/b3-outbox';
import { benchDatabase } from './lib/bench-database';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, index, all) => arg.startsWith('--') && args.set(arg.slice(2), all[index + 1]));
const CALLBACKS = Number(args.get('callbacks') ?? 10_000);
const CONCURRENCY = Number(args.get('concurrency') ?? 16);

async function main(): Promise<void> {
  let received = 0;
  const receiver = createServer((req, res) => {
    received += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"error_code":0}');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as AddressInfo).port;

  const database = await benchDatabase();
  const seed = (db: Client) =>
    db.query(
      `WITH m AS (
         INSERT INTO messages (id, gateway_id, im_uid, ext_user_id, body, callback_url, delivered_at)
         SELECT gen_random_uuid(), 'default', 'bench-' || gen_random_uuid(), 'player-' || (i % 1000), repeat('x', 700),
                'http://127.0.0.1:${receiverPort}/cb?label=bench', now()
           FROM generate_series(1, $1) AS i
         RETURNING id
       )
       INSERT INTO callbacks (message_id, status, funnel_rank) SELECT id, 'delivered', 1 FROM m`,
      [CALLBACKS],
    );
  const port = await freePort();
  const app = new AppProcess({
    DATABASE_URL: database.url,
    CIM_AUTHORIZATION: 'bench-gateway-secret',
    SMARTICO_API_KEY: 'bench-api-key',
    PLAYER_JWT_SECRET: 'bench-player-secret-that-is-at-least-32-bytes',
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    CALLBACK_CONCURRENCY: String(CONCURRENCY),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  const db = new Client({ connectionString: database.url });
  try {
    await app.waitForHealthy(`http://127.0.0.1:${port}`);
    await db.connect();
    // baseline first, with the app's dispatcher paused by a gateway it cannot match
    app.kill('SIGSTOP');
    await seed(db);
    await db.query('ANALYZE callbacks');
    const baselineSeconds = await drainWithBaseline(database.url, CALLBACKS);
    app.kill('SIGCONT');
    await db.query('TRUNCATE callback_attempts, callbacks');
    const started = performance.now();
    await seed(db);
    // a backlog that builds up in production has statistics; give the one we made at once the same
    await db.query('ANALYZE callbacks');
    const committed = performance.now();
    for (;;) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM callbacks WHERE state = 'sent'`);
      if (rows[0].n >= CALLBACKS) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const drained = performance.now();
    const seconds = (drained - committed) / 1000;
    process.stdout.write(
      `callbacks: ${CALLBACKS} committed in ${((committed - started) / 1000).toFixed(2)} s, drained in ${seconds.toFixed(2)} s ` +
        `= ${(CALLBACKS / seconds).toFixed(0)} callbacks/s (concurrency ${CONCURRENCY}); receiver saw ${received}\n` +
        `baseline B3 (raw pg + undici, batches of 50): ${baselineSeconds.toFixed(2)} s = ${(CALLBACKS / baselineSeconds).toFixed(0)} callbacks/s; ` +
        `ratio ${((CALLBACKS / seconds) / (CALLBACKS / baselineSeconds)).toFixed(2)}\n`,
    );
  } finally {
    await db.end().catch(() => undefined);
    app.kill('SIGTERM');
    await app.exited;
    receiver.close();
    await database.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
