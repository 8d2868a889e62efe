/**
 * Callbacks: N `delivered` callbacks are committed to the outbox at once and drained to a fast local
 * receiver, by cim-inbox's dispatcher and by B3 (raw pg + undici, a process of its own as the app
 * is), alternating. While B3 runs, the app is SIGSTOPped so its dispatcher cannot take the work.
 * Drained = every callback received and recorded as sent; CPU per callback is reported for both.
 */
import { Client } from 'pg';

import { cpuMeter } from '../lib/cpu';
import { runBaseline, startCim } from '../lib/servers';
import { median } from '../lib/stats';
import { alternate, BenchContext } from './context';

export interface CallbacksResult {
  callbacks: number;
  concurrency: number;
  connections: number;
  cimPerSecond: number[];
  b3PerSecond: number[];
  ratio: number;
  /** CPU ms per callback of the last round: the sender process and the bench's PostgreSQL */
  cpu: { cim: { sender: number; postgres: number }; b3: { sender: number; postgres: number } };
}

/**
 * `count` delivered messages and their `delivered` callbacks in cim-inbox's outbox, due at once or,
 * with `perSecond`, falling due at that rate from `leadSeconds` on.
 */
export async function seedDeliveredCallbacks(db: Client, count: number, callbackUrl: string, perSecond?: number, leadSeconds = 0): Promise<void> {
  await db.query(
    `WITH m AS (
       INSERT INTO messages (id, gateway_id, im_uid, ext_user_id, body, callback_url, delivered_at)
       SELECT gen_random_uuid(), 'default', 'bench-' || gen_random_uuid(), 'player-' || (i % 1000), repeat('x', 700), $2, now()
         FROM generate_series(1, $1) AS i
       RETURNING id
     )
     INSERT INTO callbacks (message_id, status, funnel_rank, next_attempt_at)
     SELECT id, 'delivered', 1, now() + ($3::float8 + (row_number() OVER ()) * $4::float8) * interval '1 second' FROM m`,
    [count, callbackUrl, leadSeconds, perSecond === undefined ? 0 : 1 / perSecond],
  );
}

export async function callbacksScenario(context: BenchContext): Promise<CallbacksResult> {
  const callbacks = context.quick ? 3_000 : 10_000;
  const rounds = context.quick ? 2 : 4;
  // as B3 does: a claim of 50 handed out at once, 16 connections to the receiver
  const concurrency = 50;
  const connections = 16;
  const databaseUrl = await context.server.createDatabase('callbacks');
  const cim = await startCim(databaseUrl, {
    env: { CALLBACK_CONCURRENCY: String(concurrency), CALLBACK_CONNECTIONS: String(connections) },
    nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`] : [],
  });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const seed = async (count = callbacks): Promise<void> => {
    await db.query('TRUNCATE callback_attempts, callbacks, message_events, messages CASCADE');
    await seedDeliveredCallbacks(db, count, context.callbackUrl);
    // a backlog built up in production has statistics; give the one made at once the same
    await db.query('ANALYZE callbacks');
  };
  const cpu = { cim: { sender: 0, postgres: 0 }, b3: { sender: 0, postgres: 0 } };
  const perCallback = (seconds: number): number => (seconds / callbacks) * 1000;
  try {
    // warm-up, not measured: a long-running dispatcher is past its JIT compilation
    const warmed = context.callbacksReceived() + callbacks / 2;
    await seed(callbacks / 2);
    while (context.callbacksReceived() < warmed) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 500));
    cim.pause();
    const runs = await alternate(
      rounds,
      async () => {
        await seed();
        const receivedBefore = context.callbacksReceived();
        const meter = cpuMeter(cim.pid);
        cim.resume();
        const started = performance.now();
        // the receiver's count is free to read; the database is asked only once all have arrived
        while (context.callbacksReceived() - receivedBefore < callbacks) await new Promise((resolve) => setTimeout(resolve, 5));
        for (;;) {
          const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM callbacks WHERE state = 'sent'`);
          if (rows[0].n >= callbacks) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const seconds = (performance.now() - started) / 1000;
        const used = meter();
        cpu.cim = { sender: perCallback(used.process), postgres: perCallback(used.postgres) };
        // let the last attempt records commit before the process is stopped holding their locks
        await new Promise((resolve) => setTimeout(resolve, 500));
        cim.pause();
        return callbacks / seconds;
      },
      async () => {
        await seed();
        const meter = cpuMeter(process.pid);
        const result = await runBaseline<{ seconds: number; cpuSeconds: number }>('b3-outbox.ts', { DATABASE_URL: databaseUrl, EXPECTED: String(callbacks) });
        cpu.b3 = { sender: perCallback(result.cpuSeconds), postgres: perCallback(meter().postgres) };
        return callbacks / result.seconds;
      },
    );
    context.log(
      `  CPU per callback: cim-inbox ${cpu.cim.sender.toFixed(3)} ms + PostgreSQL ${cpu.cim.postgres.toFixed(3)} ms; ` +
        `B3 ${cpu.b3.sender.toFixed(3)} ms + PostgreSQL ${cpu.b3.postgres.toFixed(3)} ms`,
    );
    return { callbacks, concurrency, connections, cimPerSecond: runs.a, b3PerSecond: runs.b, ratio: median(runs.a.map((rate, i) => rate / runs.b[i])), cpu };
  } finally {
    await db.end();
    await cim.stop();
  }
}
