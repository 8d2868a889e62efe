import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { GroupCommit } from '../common/group-commit';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { GatewayConfig } from '../config/env.validation';
import { MessageEvents } from '../messages/message-events';
import { Metrics } from '../metrics/metrics.service';
import { nextAttemptDelayMs, isWindowExhausted } from './backoff';
import { CallbackClient } from './callback.client';
import { buildCallbackUrl, isCallbackStatus } from './callback-url';
import { AttemptRecord, ClaimedCallback, OutboxRepository } from './outbox.repository';

const BATCH = 50;

/**
 * Sends the outbox to Smartico: claims due callbacks, sends them with bounded concurrency,
 * records each attempt, and retries with backoff until the window closes. Wakes on local state
 * changes and polls for the rest (other instances' work, retries, leases of crashed senders).
 */
@Injectable()
export class CallbackDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CallbackDispatcher.name);
  private readonly gateways: Map<string, GatewayConfig>;
  private running = false;
  private loop?: Promise<void>;
  private readonly wakeUp = new WakeSignal();
  /** attempt records that finish while a write is in progress go out together in the next one */
  private readonly recorder: GroupCommit<AttemptRecord, void>;
  private readonly recording = new Set<Promise<void>>();
  private subscription?: Subscription;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: OutboxRepository,
    private readonly client: CallbackClient,
    private readonly events: MessageEvents,
    private readonly metrics: Metrics,
  ) {
    this.gateways = new Map(config.gateways.map((gateway) => [gateway.id, gateway]));
    this.recorder = new GroupCommit(
      async (records) => {
        await this.outbox.recordAttempts(records);
        return records.map(() => undefined);
      },
      { maxBatch: 500, maxInFlight: 1 },
    );
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.subscription = this.events.changed.subscribe(() => this.wakeUp.notify());
    this.loop = this.run();
  }

  /** Look at the outbox now rather than at the next poll (e.g. after a re-queue). */
  wake(): void {
    this.wakeUp.notify();
  }

  /** Finishes the batch in hand, then stops. */
  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.subscription?.unsubscribe();
    this.wakeUp.notify();
    await this.loop;
    await this.client.close();
  }

  /**
   * A pipeline, not batches: as soon as a send finishes its slot is refilled from a batch claimed
   * ahead, so one receiver that hangs until the timeout holds one slot, not the queue, and a claim
   * (one statement for up to 50 callbacks) is made while the slots are still busy.
   */
  private async run(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const ready: Array<{ callback: ClaimedCallback; claimedAt: number }> = [];
    const { concurrency, pollMs, leaseMs } = this.config.callbacks;
    while (this.running) {
      let claimed: ClaimedCallback[] = [];
      if (ready.length < concurrency) {
        try {
          claimed = await this.outbox.claimDue(BATCH, leaseMs);
        } catch (error) {
          this.logger.warn({ err: (error as Error).message }, 'could not claim callbacks');
        }
        const claimedAt = Date.now();
        for (const callback of claimed) ready.push({ callback, claimedAt });
      }
      while (ready.length > 0 && inFlight.size < concurrency) {
        const { callback, claimedAt } = ready.shift()!;
        // held so long its lease may lapse and another instance claim it: not sending it now
        // avoids a duplicate; it is due again once the lease is over
        if (Date.now() - claimedAt > leaseMs / 2) continue;
        const sending: Promise<void> = this.send(callback).finally(() => {
          inFlight.delete(sending);
          this.wakeUp.notify();
        });
        inFlight.add(sending);
      }
      // a full batch means more is probably due: claim again while there is room to hold it
      if (claimed.length === BATCH && ready.length < concurrency) continue;
      // sleep until the poll interval passes, a slot frees up, or a local change enqueues work
      await this.wakeUp.wait(pollMs);
    }
    await Promise.all(inFlight);
    await Promise.all(this.recording);
    try {
      await this.outbox.releaseClaims(ready.map(({ callback }) => callback.id));
    } catch (error) {
      // their leases run out instead
      this.logger.warn({ err: (error as Error).message }, 'could not release unsent claims');
    }
  }

  private async send(callback: ClaimedCallback): Promise<void> {
    const attemptedAt = new Date();
    const gateway = this.gateways.get(callback.gateway_id);
    let record: AttemptRecord;
    if (gateway === undefined || !isCallbackStatus(callback.status)) {
      const error = gateway === undefined ? `gateway ${callback.gateway_id} is not configured` : `unknown status ${callback.status}`;
      record = { callbackId: callback.id, attemptedAt, httpStatus: null, error, durationMs: 0, outcome: { state: 'dead' } };
    } else {
      const url = buildCallbackUrl(callback.callback_url, { messageId: callback.message_id, status: callback.status, apiKey: gateway.apiKey });
      const result = await this.client.send(url);
      record = { callbackId: callback.id, attemptedAt, httpStatus: result.httpStatus, error: result.error, durationMs: result.durationMs, outcome: this.outcome(callback, result.ok) };
    }
    this.metrics.callbacks.inc({ status: callback.status, result: record.outcome.state === 'retry' ? 'failed' : record.outcome.state });
    if (record.outcome.state === 'dead') {
      this.logger.warn({ messageId: callback.message_id, status: callback.status, attempts: callback.attempts, error: record.error }, 'callback dead');
    }
    // the slot is free once the request is done; the record commits with others in the background
    // (a crash before it commits means a re-send after the lease: at least once, never lost)
    const recording = this.recorder.submit(record).catch((error: unknown) => {
      // the lease runs out and the callback is sent again: at least once, never lost
      this.logger.warn({ messageId: callback.message_id, status: callback.status, err: (error as Error).message }, 'callback attempt not recorded');
    });
    this.recording.add(recording);
    void recording.finally(() => this.recording.delete(recording));
  }

  private outcome(callback: ClaimedCallback, ok: boolean): AttemptRecord['outcome'] {
    if (ok) return { state: 'sent' };
    const { retryBaseMs, retryMaxMs, retryWindowMs } = this.config.callbacks;
    const nextAttemptAt = new Date(Date.now() + nextAttemptDelayMs(callback.attempts, { baseMs: retryBaseMs, maxMs: retryMaxMs }));
    if (isWindowExhausted(callback.window_started_at, nextAttemptAt, retryWindowMs)) return { state: 'dead' };
    return { state: 'retry', nextAttemptAt };
  }
}

/** A wake-up that is not lost when it comes while nobody is waiting: the next wait returns at once. */
class WakeSignal {
  private notified = false;
  private resolve?: () => void;

  notify(): void {
    if (this.resolve) this.resolve();
    else this.notified = true;
  }

  wait(timeoutMs: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.resolve = undefined;
        resolve();
      }
      this.resolve = done;
    });
  }
}
