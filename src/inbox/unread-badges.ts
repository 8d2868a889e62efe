import { Injectable } from '@nestjs/common';

import { GroupCommit } from '../common/group-commit';
import { MessageRepository } from '../messages/message.repository';
import { playerKey, PlayerRef } from '../messages/player-ref';

/** What an `unread` event carries: `as_of` orders counts taken on different instances (the database's clock, µs). */
export interface UnreadBadge {
  count: number;
  /** unread per category, for the categorised messages (SPEC v2 §3) */
  categories: Record<string, number>;
  as_of: number;
}

export const UNREAD_LINGER_MS = 5;

/**
 * Badge counts for live pushes, connects and state changes alike: batched, and one count query at a time, so this
 * instance never sends an older count after a newer one; `as_of` lets a client drop one from another instance that
 * arrives late.
 */
@Injectable()
export class UnreadBadges {
  private readonly batches = new GroupCommit<PlayerRef, UnreadBadge>(
    async (players) => {
      const distinct = new Map(players.map((player) => [playerKey(player), player]));
      const { counts, asOf } = await this.messages.countUnreadMany([...distinct.values()]);
      return players.map((player) => ({ ...(counts.get(playerKey(player)) ?? { count: 0, categories: {} }), as_of: asOf }));
    },
    { maxBatch: 1_000, maxInFlight: 1, lingerMs: UNREAD_LINGER_MS },
  );

  constructor(private readonly messages: MessageRepository) {}

  of(player: PlayerRef): Promise<UnreadBadge> {
    return this.batches.submit(player);
  }
}
