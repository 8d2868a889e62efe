import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

import { dataSourceOptions } from '../../src/database/data-source';
import { migrations } from '../../src/database/migrations';
import { AddBrands1764720000000 } from '../../src/database/migrations/1764720000000-AddBrands';
import type { InboxList } from '../../src/inbox/inbox.service';
import { createTestApp, GATEWAY_A, GATEWAY_B, TestApp } from '../utils/create-test-app';
import { playerToken } from '../utils/player-tokens';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

const OLD_A = { id: 'old-a', authorization: 'Secret-Old-A-0123456789', apiKey: 'api-key-old-a', brand: 'alpha' };
const OLD_B = { id: 'old-b', authorization: 'Secret-Old-B-0123456789', apiKey: 'api-key-old-b', brand: 'beta' };
// more than one batch of the back-fill (5,000)
const MANY = 12_000;

/** A database as the release before brands left it: its migrations only. */
async function previousReleaseDatabase(): Promise<{ database: TestDatabase; db: Client }> {
  const database = await createTestDatabase({ empty: true });
  const previous = migrations.slice(0, migrations.indexOf(AddBrands1764720000000));
  const dataSource = await new DataSource({ ...dataSourceOptions(database.url, 1), migrations: previous }).initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
  const db = new Client({ connectionString: database.url });
  await db.connect();
  return { database, db };
}

/** The insert the previous release sends: it names no brand. */
async function oldInsert(db: Client, gatewayId: string, extUserId: string, count = 1, minutesAgo = 0): Promise<void> {
  await db.query(
    `INSERT INTO messages (id, gateway_id, im_uid, ext_user_id, body, callback_url, created_at)
     SELECT gen_random_uuid(), $1, 'im-' || gen_random_uuid(), $2, 'body', 'https://api.smartico.ai/cb', now() - make_interval(mins => $4) - make_interval(secs => n)
       FROM generate_series(1, $3) AS n`,
    [gatewayId, extUserId, count, minutesAgo],
  );
}

async function brandCounts(db: Client): Promise<Array<{ gateway_id: string; brand: string; n: number }>> {
  const { rows } = await db.query<{ gateway_id: string; brand: string; n: number }>(
    `SELECT gateway_id, brand, count(*)::int AS n FROM messages GROUP BY gateway_id, brand ORDER BY gateway_id, brand`,
  );
  return rows;
}

describe('upgrading a database of the release before brands', () => {
  it('keeps a single-brand set-up exactly as it was: every message in the brand "default", the inbox unchanged, tokens unchanged', async () => {
    const { database, db } = await previousReleaseDatabase();
    let app: TestApp | undefined;
    try {
      const playerId = `player-${randomUUID()}`;
      await oldInsert(db, GATEWAY_A.id, playerId, 3, 10);
      await oldInsert(db, GATEWAY_B.id, playerId, 2, 5);
      await db.query(`UPDATE messages SET read_at = now() WHERE id = (SELECT id FROM messages ORDER BY created_at LIMIT 1)`);
      await db.query(`INSERT INTO player_presence (ext_user_id, last_seen_at) VALUES ($1, now() - interval '1 day')`, [playerId]);
      const expected = (await db.query<{ id: string }>(`SELECT id FROM messages ORDER BY created_at DESC, id DESC`)).rows.map((row) => row.id);

      app = await createTestApp({}, { database });
      expect(await brandCounts(db)).toEqual([
        { gateway_id: GATEWAY_A.id, brand: 'default', n: 3 },
        { gateway_id: GATEWAY_B.id, brand: 'default', n: 2 },
      ]);
      const token = await playerToken(playerId);
      const list = (await (await fetch(`${app.url}/inbox/messages`, { headers: { authorization: `Bearer ${token}` } })).json()) as InboxList;
      expect(list.items.map((item) => item.id)).toEqual(expected);
      const unread = (await (await fetch(`${app.url}/inbox/unread-count`, { headers: { authorization: `Bearer ${token}` } })).json()) as { count: number };
      expect(unread.count).toBe(4);
      const presence = await db.query<{ brand: string }>(`SELECT brand FROM player_presence WHERE ext_user_id = $1`, [playerId]);
      expect(presence.rows).toEqual([{ brand: 'default' }]);
    } finally {
      await app?.close();
      await db.end();
      await database.drop();
    }
  });

  it("gives every message its gateway's brand, loses none, and brands what an instance of the previous release still inserts", async () => {
    const { database, db } = await previousReleaseDatabase();
    const apps: TestApp[] = [];
    try {
      const playerId = `player-${randomUUID()}`;
      await oldInsert(db, OLD_A.id, playerId, MANY, 10);
      await oldInsert(db, OLD_B.id, playerId, 3, 10);
      await db.query(`INSERT INTO player_presence (ext_user_id, last_seen_at) VALUES ($1, now() - interval '1 day')`, [playerId]);

      apps.push(await createTestApp({ gateways: [OLD_A, OLD_B] }, { database }));
      expect(await brandCounts(db)).toEqual([
        { gateway_id: OLD_A.id, brand: 'alpha', n: MANY },
        { gateway_id: OLD_B.id, brand: 'beta', n: 3 },
      ]);
      // "last seen" had no brand: it stays with each brand the player has messages in
      const presence = await db.query<{ brand: string }>(`SELECT brand FROM player_presence WHERE ext_user_id = $1 ORDER BY brand`, [playerId]);
      expect(presence.rows.map((row) => row.brand)).toEqual(['alpha', 'beta']);

      // an instance still on the previous release inserts without a brand: the gateway's brand is filled in
      await oldInsert(db, OLD_B.id, playerId);
      expect((await brandCounts(db)).find((row) => row.gateway_id === OLD_B.id)).toEqual({ gateway_id: OLD_B.id, brand: 'beta', n: 4 });

      const beta = await playerToken(playerId, { claims: { brand: 'beta' } });
      const list = (await (await fetch(`${apps[0].url}/inbox/messages`, { headers: { authorization: `Bearer ${beta}` } })).json()) as InboxList;
      expect(list.items).toHaveLength(4);

      // a later boot moves nothing again; a gateway given another brand keeps its stored messages where they are
      await apps[0].close();
      apps.push(await createTestApp({ gateways: [OLD_A, { ...OLD_B, brand: 'gamma' }] }, { database }));
      expect(await brandCounts(db)).toEqual([
        { gateway_id: OLD_A.id, brand: 'alpha', n: MANY },
        { gateway_id: OLD_B.id, brand: 'beta', n: 4 },
      ]);
      const [stored] = (await db.query<{ brand: string }>(`SELECT brand FROM gateway_brands WHERE gateway_id = $1`, [OLD_B.id])).rows;
      expect(stored.brand).toBe('gamma');
    } finally {
      await apps[apps.length - 1]?.close();
      await db.end();
      await database.drop();
    }
  });
});
