/**
 * Baseline B3: the smallest honest outbox sender — raw `pg`, claim 50 due rows with
 * FOR UPDATE SKIP LOCKED, GET each with undici (concurrently), mark them sent in one UPDATE,
 * repeat. No funnel order, no attempt log, no backoff: what cim-inbox's dispatcher is measured against.
 * A process of its own, as cim-inbox is, so its sends and the receiver's replies cross processes alike:
 *   DATABASE_URL=… EXPECTED=10000 node --import tsx bench/baselines/b3-outbox.ts   → prints {"seconds":…,"cpuSeconds":…}
 */
import { Pool } from 'pg';
import { Agent, request } from 'undici';

async function drain(databaseUrl: string, expected: number): Promise<number> {
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  const agent = new Agent({ connections: 16 });
  const started = performance.now();
  let sent = 0;
  try {
    while (sent < expected) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ id: string; callback_url: string; message_id: string; status: string }>(
          `SELECT c.id, m.callback_url, c.message_id, c.status FROM callbacks c JOIN messages m ON m.id = c.message_id
            WHERE c.state = 'pending' AND c.next_attempt_at <= now() ORDER BY c.next_attempt_at, c.id LIMIT 50 FOR UPDATE OF c SKIP LOCKED`,
        );
        if (rows.length === 0) {
          await client.query('COMMIT');
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        await Promise.all(
          rows.map(async (row) => {
            const url = new URL(row.callback_url);
            url.searchParams.set('type', 'cim');
            url.searchParams.set('ext_message_id', row.message_id);
            url.searchParams.set('status', row.status);
            url.searchParams.set('api_key', 'bench-api-key');
            const response = await request(url, { dispatcher: agent });
            await response.body.json();
          }),
        );
        await client.query(`UPDATE callbacks SET state = 'sent', sent_at = now() WHERE id = ANY($1::bigint[])`, [rows.map((row) => row.id)]);
        await client.query('COMMIT');
        sent += rows.length;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    }
    return (performance.now() - started) / 1000;
  } finally {
    await agent.close();
    await pool.end();
  }
}

const startUsage = process.cpuUsage();
drain(process.env.DATABASE_URL!, Number(process.env.EXPECTED)).then(
  (seconds) => {
    const usage = process.cpuUsage(startUsage);
    process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds: (usage.user + usage.system) / 1e6 })}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
