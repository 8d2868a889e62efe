import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DEFAULT_BRAND, GatewayConfig } from '../config/env.validation';

const BATCH = 5_000;

interface Recorded {
  gateway_id: string;
  brand: string;
  backfilled: boolean;
}

/**
 * Brings the gateway → brand map in the database in line with the configuration, after the migrations and
 * under their lock. A gateway seen for the first time gives its brand to the messages it already has (the
 * upgrade from a release without brands); one whose brand changed keeps its old messages where they are.
 */
export async function assignGatewayBrands(dataSource: DataSource, gateways: GatewayConfig[], logger = new Logger('BrandBackfill')): Promise<void> {
  const rows = await dataSource.query<Recorded[]>(`SELECT gateway_id, brand, backfilled FROM gateway_brands`);
  const recorded = new Map(rows.map((row) => [row.gateway_id, row]));
  const firstBoot = recorded.size === 0;
  const toMove: GatewayConfig[] = [];
  for (const gateway of gateways) {
    const known = recorded.get(gateway.id);
    if (known !== undefined && known.brand !== gateway.brand) {
      logger.warn(
        { gatewayId: gateway.id, from: known.brand, to: gateway.brand },
        "gateway's brand changed: new messages get the new brand, messages already stored keep theirs",
      );
      await dataSource.query(`UPDATE gateway_brands SET brand = $2, backfilled = true WHERE gateway_id = $1`, [gateway.id, gateway.brand]);
    } else if (known === undefined) {
      await dataSource.query(`INSERT INTO gateway_brands (gateway_id, brand) VALUES ($1, $2) ON CONFLICT (gateway_id) DO NOTHING`, [gateway.id, gateway.brand]);
      toMove.push(gateway);
    } else if (!known.backfilled) {
      toMove.push(gateway);
    }
  }
  if (toMove.some((gateway) => gateway.brand !== DEFAULT_BRAND)) await waitForInsertsInFlight(dataSource);
  for (const gateway of toMove) {
    // rows of a previous release read 'default' until then
    const moved = gateway.brand === DEFAULT_BRAND ? 0 : await moveToBrand(dataSource, gateway);
    if (moved > 0) logger.log({ gatewayId: gateway.id, brand: gateway.brand, messages: moved }, "existing messages given their gateway's brand");
    await dataSource.query(`UPDATE gateway_brands SET backfilled = true WHERE gateway_id = $1`, [gateway.id]);
  }
  if (firstBoot) await assignPresence(dataSource, gateways);
}

/**
 * An insert of the previous release that began before the map above committed may still give its row 'default';
 * waiting for every insert in flight (a SHARE lock waits for them, and holds new ones back for that instant) means
 * the moves below see all such rows, and later inserts see the map.
 */
async function waitForInsertsInFlight(dataSource: DataSource): Promise<void> {
  await dataSource.transaction(async (manager) => {
    await manager.query(`LOCK TABLE messages IN SHARE MODE`);
  });
}

async function moveToBrand(dataSource: DataSource, gateway: GatewayConfig): Promise<number> {
  let total = 0;
  for (;;) {
    // small batches: each commits on its own, so the gateway's inserts never wait long for a lock
    const [, count]: [unknown, number] = await dataSource.query(
      `UPDATE messages m SET brand = $1
         FROM (SELECT id FROM messages WHERE gateway_id = $2 AND brand = $3 LIMIT $4 FOR UPDATE) AS batch
        WHERE m.id = batch.id`,
      [gateway.brand, gateway.id, DEFAULT_BRAND, BATCH],
    );
    total += count;
    if (count < BATCH) return total;
  }
}

/** "Last seen" had no brand: it goes to every brand the player has messages in. */
async function assignPresence(dataSource: DataSource, gateways: GatewayConfig[]): Promise<void> {
  if (gateways.every((gateway) => gateway.brand === DEFAULT_BRAND)) return;
  await dataSource.query(
    `INSERT INTO player_presence (brand, ext_user_id, last_seen_at)
     SELECT DISTINCT m.brand, p.ext_user_id, p.last_seen_at
       FROM player_presence p JOIN messages m ON m.ext_user_id = p.ext_user_id AND m.brand <> p.brand
      WHERE p.brand = $1
     ON CONFLICT (brand, ext_user_id) DO NOTHING`,
    [DEFAULT_BRAND],
  );
  if (!gateways.some((gateway) => gateway.brand === DEFAULT_BRAND)) {
    await dataSource.query(`DELETE FROM player_presence WHERE brand = $1`, [DEFAULT_BRAND]);
  }
}
