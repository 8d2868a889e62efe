/**
 * Baseline B1: the least a durable ingest endpoint can do on this stack — bare Fastify and a `pg`
 * pool (same size as the app's), one INSERT per POST, reply after the commit. No auth, no
 * validation, no push: what cim-inbox's gateway is measured against.
 *   PORT=… DATABASE_URL=… POOL_SIZE=20 node --import tsx bench/baselines/b1-ingest.ts
 */
import { randomUUID } from 'node:crypto';

import Fastify from 'fastify';
import { Pool } from 'pg';

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 20) });
  await pool.query(
    `CREATE TABLE IF NOT EXISTS b1_messages (
       id uuid PRIMARY KEY, im_uid text NOT NULL UNIQUE, ext_user_id text NOT NULL, body text NOT NULL,
       callback_url text NOT NULL, extension jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  const app = Fastify({ logger: false });
  app.post('/ingest', async (request) => {
    const body = request.body as { im_uid: string; ext_user_id: string; body: string; callback_url: string; extension?: unknown };
    const id = randomUUID();
    await pool.query('INSERT INTO b1_messages (id, im_uid, ext_user_id, body, callback_url, extension) VALUES ($1, $2, $3, $4, $5, $6)', [
      id,
      body.im_uid,
      body.ext_user_id,
      body.body,
      body.callback_url,
      JSON.stringify(body.extension ?? null),
    ]);
    return { error_code: 0, ext_message_id: id };
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write('b1 ready\n');
  process.on(
    'SIGTERM',
    () =>
      void app
        .close()
        .then(() => pool.end())
        .then(() => process.exit(0)),
  );
}

void main();
