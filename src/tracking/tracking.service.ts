import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import { ExpiryCursor, MessageRepository } from '../messages/message.repository';
import { MessageEvents } from '../messages/message-events';
import { MessageStateRepository } from '../messages/message-state.repository';
import { Metrics } from '../metrics/metrics.service';
import { CallbackDispatcher } from './callback-dispatcher.service';
import { ClickLinks } from './click-links';
import { OutboxRepository } from './outbox.repository';

const SWEEP_BATCH = 500;
const LAST_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** Status changes that do not come from a player's client: tracked clicks and expiry. */
@Injectable()
export class TrackingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TrackingService.name);
  private sweepTimer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;
  // the first sweep only sets it: sockets connected before this process get their counts on connect
  private expiredUntil?: ExpiryCursor;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly messages: MessageRepository,
    private readonly states: MessageStateRepository,
    private readonly outbox: OutboxRepository,
    private readonly links: ClickLinks,
    private readonly events: MessageEvents,
    private readonly dispatcher: CallbackDispatcher,
    metrics: Metrics,
  ) {
    metrics.registerOutboxGauges(() => this.outbox.counts());
  }

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => {
      this.sweeping ??= this.sweepExpired().finally(() => (this.sweeping = undefined));
    }, this.config.expirySweepMs);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.sweeping;
  }

  /** Records `clicked` (and the statuses it implies); null for a tampered token or an unknown message. */
  async recordClick(token: string): Promise<string | null> {
    const target = this.links.verify(token);
    if (target === null) return null;
    const outcome = await this.states.applyActionToMessage(target.messageId, 'click');
    if (outcome === null) return null;
    this.events.publishChanged(outcome.row, outcome.events);
    return target.targetUrl;
  }

  /** Fails messages that expired undelivered (each enqueues its `failed` callback). */
  async sweepExpired(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const failed = await this.states.failExpiredUndelivered(SWEEP_BATCH);
        for (const row of failed) this.events.publishChanged(row, ['failed']);
        total += failed.length;
        if (failed.length < SWEEP_BATCH) break;
      }
      await this.announceDeliveredExpired();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'expiry sweep failed; next sweep retries');
    }
    if (total > 0) this.logger.log({ count: total }, 'expired undelivered messages failed');
    return total;
  }

  /** Expiry changes no row, so the sockets are told; each instance announces its own window (idempotent events). */
  private async announceDeliveredExpired(): Promise<void> {
    const until = await this.messages.databaseNow();
    let after = this.expiredUntil;
    while (after !== undefined) {
      const page = await this.messages.findDeliveredExpired(after, until, SWEEP_BATCH);
      for (const { row } of page) this.events.publishChanged(row, ['expired']);
      // advanced page by page, so a failure mid-window resumes after what was announced
      if (page.length > 0) this.expiredUntil = page[page.length - 1].cursor;
      if (page.length < SWEEP_BATCH) break;
      after = this.expiredUntil;
    }
    this.expiredUntil = { at: until, id: LAST_UUID };
  }

  /** Support: puts a message's dead callbacks back in the queue. */
  async requeueDeadCallbacks(messageId: string): Promise<number> {
    const requeued = await this.outbox.requeueDead(messageId);
    if (requeued > 0) {
      this.logger.log({ messageId, count: requeued }, 'dead callbacks re-queued');
      this.dispatcher.wake();
    }
    return requeued;
  }
}
