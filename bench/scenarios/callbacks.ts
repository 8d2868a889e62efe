/**
 * Callbacks: N `delivered` callbacks are committed to the outbox at once and drained to a fast local
 * receiver, by cim-inbox's dispatcher and by B3 (raw pg + undici), alternating. While B3 runs, the
 * app is SIGSTOPped so its dispatcher cannot take the work.
 */
import { Client } from 'pg';
import { drainWithBaseline } from '../baselines/b3-outbox';
import { startCim } from '../lib/servers';
import { median } from '../lib/stats';
import { BenchContext, alternate } from './context';

export interface CallbacksResult {
  callbacks: number;
  concurrency: number;
  cimPerSecond: number[];
  b3PerSecond: number[];
  ratio: number;
}

export async function callbacksScenario(context: BenchContext): Promise<CallbacksResult> {
  const callbacks = context.quick ? 3_000 : 10_000;
  const rounds = context.quick ? 2 : 4;
  const concurrency = 16;
  const databaseUrl = await context.server.createDatabase('callbacks');
  const cim = await startCim(databaseUrl, {
    env: { CALLBACK_CONCURRENCY: String(concurrency) },
    nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`] : [],
  });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const seed = async (): Promise<void> => {
    await db.query('TRUNCATE callback_attempts, callbacks, message_events, messages');
    await db.query(
      `WITH m AS (
         INSERT INTO messages (id, gateway_id, im_uid, ext_user_id, body, callback_url, delivered_at)
         SELECT gen_random_uuid(), 'default', 'bench-' || gen_random_uuid(), 'player-' || (i % 1000), repeat('x', 700), $2, now()
           FROM generate_series(1, $1) AS i
         RETURNING id
       )
       INSERT INTO callbacks (message_id, status, funnel_rank) SELECT id, 'delivered', 1 FROM m`,
      [callbacks, context.callbackUrl],
    );
    // a backlog built up in production has statistics; give the one made at once the same
    await db.query('ANALYZE callbacks');
  };
  try {
    cim.pause();
    const runs = await alternate(
      rounds,
      async () => {
        await seed();
        cim.resume();
        const started = performance.now();
        for (;;) {
          const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM callbacks WHERE state = 'sent'`);
          if (rows[0].n >= callbacks) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const seconds = (performance.now() - started) / 1000;
        // let the last attempt records commit before the process is stopped holding their locks
        await new Promise((resolve) => setTimeout(resolve, 500));
        cim.pause();
        return callbacks / seconds;
      },
      async () => {
        await seed();
        return callbacks / (await drainWithBaseline(databaseUrl, callbacks));
      },
    );
    return { callbacks, concurrency, cimPerSecond: runs.a, b3PerSecond: runs.b, ratio: median(runs.a.map((rate, i) => rate / runs.b[i])) };
  } finally {
    await db.end();
    await cim.stop();
  }
}
