import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from 'rxjs';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import { Leader } from '../database/leader.service';
import type { PeriodicTask } from '../database/leader-election';
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
  private sweeps?: PeriodicTask;
  private readonly leadership: Subscription;
  // unset at the start of each term as leader: its first sweep looks back over the handover
  private expiredUntil?: ExpiryCursor;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly messages: MessageRepository,
    private readonly states: MessageStateRepository,
    private readonly outbox: OutboxRepository,
    private readonly links: ClickLinks,
    private readonly events: MessageEvents,
    private readonly dispatcher: CallbackDispatcher,
    private readonly leader: Leader,
    private readonly metrics: Metrics,
  ) {
    // the outbox is shared: only the leader reads it for the gauges
    const outboxGauges = metrics.registerOutboxGauges(() => this.outbox.counts());
    this.leadership = leader.changes.subscribe((leading) => {
      outboxGauges.expose(leading);
      if (leading) this.expiredUntil = undefined;
    });
  }

  onApplicationBootstrap(): void {
    this.sweeps = this.leader.every(this.config.expirySweepMs, () => this.sweepExpired());
  }

  async onApplicationShutdown(): Promise<void> {
    this.leadership.unsubscribe();
    // before the leader lock is released (DatabaseModule is global, so it shuts down last)
    await this.sweeps?.stop();
  }

  /** Records `clicked` (and the statuses it implies); null for a tampered token or an unknown message. */
  async recordClick(token: string): Promise<string | null> {
    const target = this.links.verify(token);
    if (target === null) return null;
    const outcome = await this.states.applyActionToMessage(target.messageId, 'click', target.buttonId ?? null);
    if (outcome === null) return null;
    this.events.publishChanged(outcome.row, outcome.events);
    return target.targetUrl;
  }

  /** Fails messages that expired undelivered (each enqueues its `failed` callback); the leader's job. */
  async sweepExpired(): Promise<number> {
    let total = 0;
    this.metrics.expirySweeps.inc();
    try {
      for (;;) {
        const failed = await this.states.failExpiredUndelivered(SWEEP_BATCH);
        for (const row of failed) this.events.publishChanged(row, ['failed']);
        total += failed.length;
        this.metrics.expiryFailed.inc(failed.length);
        // a leader that stepped down stops between batches; the new one carries on
        if (failed.length < SWEEP_BATCH || !this.leader.isLeader) break;
      }
      await this.announceDeliveredExpired();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'expiry sweep failed; next sweep retries');
    }
    if (total > 0) this.logger.log({ count: total }, 'expired undelivered messages failed');
    return total;
  }

  /** Expiry changes no row, so the sockets are told (cluster-wide, by the leader; repeats are harmless). */
  private async announceDeliveredExpired(): Promise<void> {
    const until = await this.messages.databaseNow();
    // a new leader does not know how far the last one got: it re-announces a handover's worth
    let after = this.expiredUntil ?? { at: await this.messages.databaseNow(this.handoverMs()), id: LAST_UUID };
    for (;;) {
      const page = await this.messages.findDeliveredExpired(after, until, SWEEP_BATCH);
      for (const { row } of page) this.events.publishChanged(row, ['expired']);
      if (page.length < SWEEP_BATCH) break;
      // advanced page by page, so a failure mid-window resumes after what was announced
      after = page[page.length - 1].cursor;
      this.expiredUntil = after;
    }
    this.expiredUntil = { at: until, id: LAST_UUID };
  }

  // the last leader announced up to its last sweep, a sweep or so before it let go of the lock, which we took within a poll; doubled for slack
  private handoverMs(): number {
    return 2 * (this.config.leaderPollMs + this.config.expirySweepMs);
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
