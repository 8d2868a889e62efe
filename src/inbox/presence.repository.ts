import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { namedQuery, SqlQuery } from '../database/named-query';
import type { PlayerRef } from '../messages/player-ref';

const TOUCH = {
  name: 'cim_touch_presence',
  text: `INSERT INTO player_presence (brand, ext_user_id, last_seen_at) VALUES ($1, $2, now())
       ON CONFLICT (brand, ext_user_id) DO UPDATE SET last_seen_at = now()`,
};

/** Exported so bench/explain-support.ts checks its plan. */
export function lastSeenSql(player: PlayerRef): SqlQuery {
  return { sql: `SELECT last_seen_at FROM player_presence WHERE brand = $1::text AND ext_user_id = $2::text`, params: [player.brand, player.id] };
}

@Injectable()
export class PresenceRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The player had a socket open at this moment. */
  async touchPresence(player: PlayerRef): Promise<void> {
    await namedQuery(this.dataSource, TOUCH, [player.brand, player.id]);
  }

  async lastSeen(player: PlayerRef): Promise<Date | null> {
    const query = lastSeenSql(player);
    const rows: Array<{ last_seen_at: Date }> = await this.dataSource.query(query.sql, query.params);
    return rows[0]?.last_seen_at ?? null;
  }
}
