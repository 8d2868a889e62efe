/**
 * B1's storage, shared by the baselines that store a message (B1, and B1 → B2): a `pg` pool (same
 * size as the app's) and one INSERT per message into a table with the Custom IM's fields.
 */
import { randomUUID } from 'node:crypto';

import { Pool } from 'pg';

export interface CustomIm {
  im_uid: string;
  ext_user_id: string;
  body: string;
  callback_url: string;
  extension?: unknown;
}

export async function b1Store(): Promise<{ insert(message: CustomIm): Promise<string>; end(): Promise<void> }> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 20) });
  await pool.query(
    `CREATE TABLE IF NOT EXISTS b1_messages (
       id uuid PRIMARY KEY, im_uid text NOT NULL UNIQUE, ext_user_id text NOT NULL, body text NOT NULL,
       callback_url text NOT NULL, extension jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  return {
    insert: async (message) => {
      const id = randomUUID();
      await pool.query('INSERT INTO b1_messages (id, im_uid, ext_user_id, body, callback_url, extension) VALUES ($1, $2, $3, $4, $5, $6)', [
        id,
        message.im_uid,
        message.ext_user_id,
        message.body,
        message.callback_url,
        JSON.stringify(message.extension ?? null),
      ]);
      return id;
    },
    end: () => pool.end(),
  };
}
