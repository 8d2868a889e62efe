import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import { Leader } from '../database/leader.service';
import type { PeriodicTask } from '../database/leader-election';
import { RetentionRepository } from '../messages/retention.repository';
import { Metrics } from '../metrics/metrics.service';

const BATCH = 250;
// between batches the gateway's inserts and the players' queries have the database: the pause is three times as long as
// the batch took (at least 50 ms), so a catch-up takes at most a quarter of one backend's time, on any hardware
// (bench/retention.ts: 500 at a time with a fixed 50 ms pause doubled the gateway's p99 while it lasted)
const PAUSE_MS = 50;
const PAUSE_FACTOR = 3;

/** The leader's job: history older than MESSAGE_RETENTION_DAYS goes, in small paced batches (SPEC v2 §6). */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private task?: PeriodicTask;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'retention'>,
    private readonly retention: RetentionRepository,
    private readonly leader: Leader,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.retention.days > 0) this.task = this.leader.every(this.config.retention.sweepMs, () => this.sweep());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.task?.stop();
  }

  /** Deletes what is past the window, batch by batch while this instance leads; how many messages went. */
  async sweep(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const started = performance.now();
        const deleted = await this.retention.deleteOlderThan(this.config.retention.days, BATCH);
        total += deleted;
        this.metrics.retentionDeleted.inc(deleted);
        if (deleted < BATCH || this.stopping || !this.leader.isLeader) break;
        const pause = Math.max(PAUSE_MS, PAUSE_FACTOR * (performance.now() - started));
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
      this.metrics.oldestMessageAge.set(await this.retention.oldestAgeSeconds());
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'retention run failed; the next run carries on');
    }
    if (total > 0) this.logger.log({ count: total, days: this.config.retention.days }, 'messages past retention deleted');
    return total;
  }
}
