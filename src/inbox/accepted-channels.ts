import { randomUUID } from 'node:crypto';

import { Injectable, Logger } from '@nestjs/common';
import type { createClient } from 'redis';

import { messageTable } from '../messages/message.table';
import type { MessageRow } from '../messages/message.view';
import { Metrics } from '../metrics/metrics.service';
import type { AcceptedItem } from './inbox.events';
import { InboxPublisher } from './inbox.publisher';

type RedisClient = ReturnType<typeof createClient>;

// a NOTIFY payload is at most 8,000 bytes (the adapter stores a larger one in a table and reads it back)
const NOTIFY_ROWS_BUDGET = 7_000;
const TIMESTAMP_COLUMNS = messageTable.names.filter((name) => messageTable.columns[name].type === 'timestamptz');

/**
 * How messages accepted here reach the instances holding their players' sockets (src/inbox/README.md).
 * Redis: a sharded channel per player, subscribed only while that player has a socket here, carrying the row.
 * PostgreSQL: one announcement to every other instance (none when alone), carrying the rows while they fit.
 */
@Injectable()
export class AcceptedChannels {
  private readonly logger = new Logger(AcceptedChannels.name);
  private redis?: { publisher: RedisClient; subscriber: RedisClient };
  private readonly watched = new Map<string, Promise<void>>();
  private listener: (items: AcceptedItem[]) => void = () => undefined;
  // this instance's own publications come back on the channels it subscribes: it pushed those already
  private readonly instance = randomUUID();
  private readonly onChannelMessage = (message: string): void => {
    const { from, ...item } = JSON.parse(message) as AcceptedItem & { from: string };
    if (from !== this.instance) this.listener([item]);
  };

  constructor(
    private readonly publisher: InboxPublisher,
    private readonly metrics: Metrics,
  ) {}

  useRedis(publisher: RedisClient, subscriber: RedisClient): void {
    this.redis = { publisher, subscriber };
  }

  onAccepted(listener: (items: AcceptedItem[]) => void): void {
    this.listener = listener;
  }

  announce(items: AcceptedItem[]): void {
    const redis = this.redis;
    if (redis === undefined) {
      this.publisher.announceAccepted(withinBudget(items)).then(
        (sent) => sent && this.metrics.fanOutAnnounced.inc(items.length),
        (error: Error) => this.warn(error),
      );
      return;
    }
    this.metrics.fanOutAnnounced.inc(items.length);
    for (const item of items) {
      redis.publisher.sPublish(channelOf(item.player), JSON.stringify({ ...item, from: this.instance })).catch((error: Error) => this.warn(error));
    }
  }

  /** Resolves once what is accepted for this player elsewhere is heard here (before the catch-up query runs). */
  watch(player: string): Promise<void> {
    const redis = this.redis;
    if (redis === undefined) return Promise.resolve();
    let subscribed = this.watched.get(player);
    if (subscribed === undefined) {
      subscribed = redis.subscriber.sSubscribe(channelOf(player), this.onChannelMessage);
      this.watched.set(player, subscribed);
      subscribed.catch((error: Error) => {
        this.watched.delete(player);
        this.warn(error);
      });
    }
    return subscribed;
  }

  /** The player's last socket here is gone. */
  unwatch(player: string): void {
    const redis = this.redis;
    if (redis === undefined || !this.watched.delete(player)) return;
    redis.subscriber.sUnsubscribe(channelOf(player), this.onChannelMessage).catch((error: Error) => this.warn(error));
  }

  private warn(error: Error): void {
    this.logger.warn({ err: error.message }, 'player channel operation failed');
  }
}

export function channelOf(player: string): string {
  return `cim-inbox:accepted:${player}`;
}

/** The row as it was accepted, from its JSON form (timestamps are strings on the wire). */
export function reviveRow(row: Record<string, unknown>): MessageRow {
  const revived: Record<string, unknown> = { ...row };
  for (const name of TIMESTAMP_COLUMNS) {
    const value = revived[name];
    if (typeof value === 'string') revived[name] = new Date(value);
  }
  return revived as unknown as MessageRow;
}

function withinBudget(items: AcceptedItem[]): AcceptedItem[] {
  let size = 0;
  return items.map((item) => {
    size += JSON.stringify(item).length;
    return size <= NOTIFY_ROWS_BUDGET ? item : { id: item.id, player: item.player };
  });
}
