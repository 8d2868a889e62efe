import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { GroupCommit } from '../common/group-commit';
import { namedQuery, SqlQuery } from '../database/named-query';
import { playerKey, PlayerRef } from '../messages/player-ref';

const TOUCH = {
  name: 'cim_touch_presence',
  text: `INSERT INTO player_presence (brand, ext_user_id, last_seen_at)
       SELECT brand, ext_user_id, now() FROM unnest($1::text[], $2::text[]) AS p(brand, ext_user_id)
       ON CONFLICT (brand, ext_user_id) DO UPDATE SET last_seen_at = now()`,
};
// a reconnect storm's thousands of connects share a few statements
const TOUCH_LINGER_MS = 5;

/** Exported so bench/explain-support.ts checks its plan. */
export function lastSeenSql(player: PlayerRef): SqlQuery {
  return { sql: `SELECT last_seen_at FROM player_presence WHERE brand = $1::text AND ext_user_id = $2::text`, params: [player.brand, player.id] };
}

@Injectable()
export class PresenceRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The player had a socket open at this moment. */
  touchPresence(player: PlayerRef): Promise<void> {
    return this.touches.submit(player);
  }

  private readonly touches = new GroupCommit<PlayerRef, void>(
    async (players) => {
      // one row per player: ON CONFLICT cannot update a row twice in one statement
      const distinct = [...new Map(players.map((player) => [playerKey(player), player])).values()];
      await namedQuery(this.dataSource, TOUCH, [distinct.map((player) => player.brand), distinct.map((player) => player.id)]);
      return players.map(() => undefined);
    },
    { maxBatch: 1_000, maxInFlight: 1, lingerMs: TOUCH_LINGER_MS },
  );

  async lastSeen(player: PlayerRef): Promise<Date | null> {
    const query = lastSeenSql(player);
    const rows: Array<{ last_seen_at: Date }> = await this.dataSource.query(query.sql, query.params);
    return rows[0]?.last_seen_at ?? null;
  }
}
