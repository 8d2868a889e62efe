import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import { Leader } from '../database/leader.service';
import type { PeriodicTask } from '../database/leader-election';

/** How long a fan-out payload is kept for the other instances to read (the adapter's own default). */
export const ATTACHMENT_MAX_AGE_MS = 30_000;
/** The adapter's clean-up timer, pushed out of the way (the longest a timer can wait): the leader cleans up instead. */
export const ADAPTER_CLEANUP_DISABLED_MS = 2 ** 31 - 1;

/** Deletes the PostgreSQL fan-out's old payloads (`socket_io_attachments`), on the leader only. */
@Injectable()
export class FanOutAttachments implements OnApplicationBootstrap, OnApplicationShutdown {
  private cleanup?: PeriodicTask;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly leader: Leader,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.redisUrl !== undefined) return;
    this.cleanup = this.leader.every(ATTACHMENT_MAX_AGE_MS, () => this.deleteOld());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cleanup?.stop();
  }

  /** The adapter's own statement, run once per cluster. */
  async deleteOld(): Promise<void> {
    await this.dataSource.query(`DELETE FROM socket_io_attachments WHERE created_at < now() - $1 * interval '1 millisecond'`, [ATTACHMENT_MAX_AGE_MS]);
  }
}
