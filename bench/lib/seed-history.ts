/**
 * A large message history written straight into PostgreSQL with set-based SQL (not through the
 * gateway): messages spread evenly over `days`, inserted oldest first as the gateway would have,
 * with the events, status callbacks and callback attempts the app writes for each (the furthest
 * status of a message decides which), and the players' last-seen rows. Used by the benches that
 * need a realistic database at scale (bench/explain-support.ts, bench/retention.ts).
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';

import { dataSourceOptions } from '../../src/database/data-source';

export interface HistoryOptions {
  messages: number;
  players: number;
  /** created_at runs evenly from `days` ago to now */
  days: number;
  callbackUrl: string;
  /** share of the status callbacks still pending (the rest are sent, 1 % dead after 3 tries) */
  pendingShare: number;
  /** a secondary index left out of the rebuild after the load (explain-support --drop-index) */
  dropIndex?: string;
  log: (line: string) => void;
}

export interface HistoryCounts {
  messages: number;
  events: number;
  callbacks: number;
  attempts: number;
}

const seconds = (started: number): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;

/** The app's migrations, as its boot runs them. */
export async function migrate(url: string): Promise<void> {
  const dataSource = await new DataSource(dataSourceOptions(url, 1)).initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.destroy();
}

export async function countHistory(db: Client): Promise<HistoryCounts> {
  const { rows } = await db.query<Record<keyof HistoryCounts, string>>(
    `SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM message_events) AS events,
            (SELECT count(*) FROM callbacks) AS callbacks, (SELECT count(*) FROM callback_attempts) AS attempts`,
  );
  return { messages: Number(rows[0].messages), events: Number(rows[0].events), callbacks: Number(rows[0].callbacks), attempts: Number(rows[0].attempts) };
}

/** Seeds the history into a migrated, empty database, rebuilds the indexes and ANALYZEs; the row counts. */
export async function seedHistory(db: Client, options: HistoryOptions): Promise<HistoryCounts> {
  const { log } = options;
  // secondary indexes are dropped for the bulk load and rebuilt from their own definitions
  const { rows: indexes } = await db.query<{ name: string; definition: string }>(
    `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
      WHERE i.schemaname = 'public' AND i.tablename IN ('messages', 'message_events', 'callbacks', 'callback_attempts')
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  for (const index of indexes) await db.query(`DROP INDEX ${index.name}`);
  await db.query(`SET synchronous_commit = off`);
  // skips the foreign-key triggers of the bulk load (the seed is consistent by construction); needs a superuser
  await db.query(`SET session_replication_role = replica`).catch(() => log('(not a superuser: foreign keys are checked while seeding, which is slower)'));
  await db.query(`SET maintenance_work_mem = '512MB'`);
  await db.query(`SELECT setseed(0.42)`);

  let started = performance.now();
  // furthest status by r: clicked 10 %, opened 20 %, delivered 58 %, failed 4 % (expired undelivered), accepted 8 %;
  // message i of n was created (n - i + 0.5) / n of `days` ago, so the heap is in created_at order as the gateway writes it
  await db.query(
    `INSERT INTO messages (id, gateway_id, brand, im_uid, ext_user_id, body, callback_url, extension, display, priority, category,
                           expires_at, created_at, delivered_at, opened_at, clicked_at, read_at, archived_at, failed_at)
     SELECT gen_random_uuid(), 'gateway-' || (i % 5), 'default', 'im-' || i, 'player-' || p, 'Bonus offer #' || i,
            $4 || '?label=' || (i % 5),
            CASE WHEN i % 3 = 0 THEN jsonb_build_object('title', 'Offer ' || i, 'cta_url', 'https://casino.example/promo/' || i, 'category', 'bonus') END,
            CASE WHEN i % 10 = 0 THEN 'popup' WHEN i % 10 = 1 THEN 'inbox' ELSE 'both' END,
            CASE WHEN i % 50 = 0 THEN 'high' ELSE 'normal' END,
            CASE WHEN i % 3 = 0 THEN 'bonus' END,
            CASE WHEN r >= 0.88 AND r < 0.92 THEN c + interval '1 hour' WHEN i % 10 = 5 THEN c + interval '120 days' END,
            c,
            CASE WHEN r < 0.88 THEN c + interval '2 seconds' END,
            CASE WHEN r < 0.30 THEN c + interval '1 minute' END,
            CASE WHEN r < 0.10 THEN c + interval '2 minutes' END,
            CASE WHEN r < 0.45 THEN c + interval '1 minute' END,
            CASE WHEN r < 0.05 THEN c + interval '1 day' END,
            CASE WHEN r >= 0.88 AND r < 0.92 THEN c + interval '1 hour 5 seconds' END
       FROM (SELECT i, random() AS r, 1 + floor(random() * $2)::int AS p, now() - (($1 - i + 0.5) / $1) * $3 * interval '1 day' AS c
               FROM generate_series(1, $1) AS i) AS s`,
    [options.messages, options.players, options.days, options.callbackUrl],
  );
  log(`seeded ${options.messages.toLocaleString('en')} messages for ${options.players.toLocaleString('en')} players in ${seconds(started)}`);

  started = performance.now();
  await db.query(
    `INSERT INTO message_events (message_id, event, at)
     SELECT id, e.event, e.at FROM messages,
       LATERAL (VALUES ('delivered', delivered_at), ('opened', opened_at), ('read', read_at), ('clicked', clicked_at),
                       ('archived', archived_at), ('failed', failed_at)) AS e(event, at)
      WHERE e.at IS NOT NULL
      ORDER BY e.at`,
  );
  // a callback per reported status; 1 % of them dead after 3 tries, pendingShare still pending
  await db.query(
    `INSERT INTO callbacks (message_id, status, funnel_rank, state, attempts, created_at, window_started_at, next_attempt_at, sent_at, last_error)
     SELECT id, e.status, e.rank, e.state, CASE WHEN e.state = 'sent' THEN 1 ELSE 3 END, e.at, e.at,
            e.at + interval '1 minute', CASE WHEN e.state = 'sent' THEN e.at + interval '100 milliseconds' END,
            CASE WHEN e.state <> 'sent' THEN 'http 503' END
       FROM messages,
       LATERAL (SELECT s.status, s.rank, s.at,
                       CASE WHEN random() < 0.01 THEN 'dead' WHEN random() < $1 THEN 'pending' ELSE 'sent' END AS state
                  FROM (VALUES ('delivered', 1, delivered_at), ('opened', 2, opened_at), ('clicked', 3, clicked_at), ('failed', 1, failed_at)) AS s(status, rank, at)
                 WHERE s.at IS NOT NULL) AS e`,
    [options.pendingShare],
  );
  await db.query(
    `INSERT INTO callback_attempts (callback_id, attempted_at, http_status, error, duration_ms)
     SELECT c.id, c.created_at + n * interval '1 second',
            CASE WHEN c.state = 'sent' AND n = c.attempts THEN 200 ELSE 503 END,
            CASE WHEN c.state = 'sent' AND n = c.attempts THEN NULL ELSE 'http 503' END,
            20 + (c.id % 200)::int
       FROM callbacks c, generate_series(1, c.attempts) AS n`,
  );
  await db.query(
    `INSERT INTO player_presence (ext_user_id, last_seen_at)
     SELECT 'player-' || p, now() - random() * interval '30 days' FROM generate_series(1, $1) AS p WHERE random() < 0.7`,
    [options.players],
  );
  log(`seeded events, callbacks, attempts and presence in ${seconds(started)}`);

  await db.query(`SET session_replication_role = DEFAULT`);
  started = performance.now();
  for (const index of indexes) {
    if (index.name !== options.dropIndex) await db.query(index.definition);
  }
  await db.query(`ANALYZE`);
  log(`rebuilt ${indexes.length - (options.dropIndex === undefined ? 0 : 1)} indexes and analyzed in ${seconds(started)}`);
  const counts = await countHistory(db);
  log(
    `rows: ${Object.entries(counts)
      .map(([table, n]: [string, number]) => `${table} ${n.toLocaleString('en')}`)
      .join(', ')}`,
  );
  return counts;
}
