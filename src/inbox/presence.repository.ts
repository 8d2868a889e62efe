import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { namedQuery, SqlQuery } from '../database/named-query';

const TOUCH = {
  name: 'cim_touch_presence',
  text: `INSERT INTO player_presence (ext_user_id, last_seen_at) VALUES ($1, now())
       ON CONFLICT (ext_user_id) DO UPDATE SET last_seen_at = now()`,
};

/** Exported so bench/explain-support.ts checks its plan. */
export function lastSeenSql(extUserId: string): SqlQuery {
  return { sql: `SELECT last_seen_at FROM player_presence WHERE ext_user_id = $1::text`, params: [extUserId] };
}

@Injectable()
export class PresenceRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The player had a socket open at this moment. */
  async touchPresence(playerId: string): Promise<void> {
    await namedQuery(this.dataSource, TOUCH, [playerId]);
  }

  async lastSeen(extUserId: string): Promise<Date | null> {
    const query = lastSeenSql(extUserId);
    const rows: Array<{ last_seen_at: Date }> = await this.dataSource.query(query.sql, query.params);
    return rows[0]?.last_seen_at ?? null;
  }
}
