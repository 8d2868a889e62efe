import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Subscription } from 'rxjs';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { GatewayConfig } from '../config/env.validation';
import { MessageEvents } from '../messages/message-events';
import { Metrics } from '../metrics/metrics.service';
import { AttemptRecorder, createAttemptRecorder } from './attempt-recorder';
import { isWindowExhausted, nextAttemptDelayMs } from './backoff';
import { CallbackClient } from './callback.client';
import { CallbackClaimer, HeldCallback } from './callback-claimer';
import { buildCallbackUrl, isCallbackStatus } from './callback-url';
import { AttemptRecord, ClaimedCallback, OutboxRepository } from './outbox.repository';
import { ReceiverSlots } from './receiver-slots';
import { WakeSignal } from './wake-signal';

export const CALLBACK_CLAIM_BATCH = 50;
/** A short claim's follow-up and a lone attempt record wait this long for company. */
const LINGER_MS = 5;

/** Sends the outbox to Smartico (design: src/tracking/README.md). */
@Injectable()
export class CallbackDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CallbackDispatcher.name);
  private readonly gateways: Map<string, GatewayConfig>;
  private running = false;
  private loop?: Promise<void>;
  private readonly wakeUp = new WakeSignal();
  private readonly slots: ReceiverSlots;
  private readonly claimer: CallbackClaimer;
  private readonly recorder: AttemptRecorder;
  private readonly sending = new Set<Promise<void>>();
  private readonly recording = new Set<Promise<void>>();
  private subscription?: Subscription;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    outbox: OutboxRepository,
    private readonly client: CallbackClient,
    private readonly events: MessageEvents,
    private readonly metrics: Metrics,
  ) {
    const { concurrency, leaseMs } = config.callbacks;
    this.gateways = new Map(config.gateways.map((gateway) => [gateway.id, gateway]));
    this.slots = new ReceiverSlots(concurrency, CALLBACK_CLAIM_BATCH);
    this.claimer = new CallbackClaimer(outbox, this.slots, { batch: CALLBACK_CLAIM_BATCH, leaseMs, lingerMs: LINGER_MS }, this.logger);
    this.recorder = createAttemptRecorder(outbox, { lingerMs: LINGER_MS, fullBatch: CALLBACK_CLAIM_BATCH, maxBatch: this.slots.maxUnrecorded });
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.subscription = this.events.changed.subscribe(() => this.wakeUp.notify());
    this.loop = this.run();
  }

  wake(): void {
    this.wakeUp.notify();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.subscription?.unsubscribe();
    this.recorder.stop();
    this.wakeUp.notify();
    await this.loop;
    await this.client.close();
  }

  private async run(): Promise<void> {
    const { pollMs } = this.config.callbacks;
    while (this.running) {
      const claimed = this.claimer.due(this.recorder.retrying) ? await this.claimer.claim() : 0;
      this.claimer.startSendable((held) => this.start(held));
      // a full batch means more is probably due: claim again while there is room to hold it
      if (claimed === CALLBACK_CLAIM_BATCH && this.claimer.wanted()) {
        this.claimer.owe();
        continue;
      }
      await this.wakeUp.wait(this.claimer.sleepMs(pollMs));
      this.claimer.owe();
    }
    await Promise.all(this.sending);
    await Promise.all(this.recording);
    await this.claimer.releaseAll();
  }

  private start(held: HeldCallback): void {
    this.slots.take(held.receiver);
    const sending: Promise<void> = this.send(held).finally(() => {
      this.sending.delete(sending);
      this.wakeUp.notify();
    });
    this.sending.add(sending);
  }

  private async send({ callback, receiver }: HeldCallback): Promise<void> {
    let record: AttemptRecord | undefined;
    try {
      record = await this.attempt(callback);
    } finally {
      this.slots.requestEnded(receiver, record !== undefined);
    }
    const recording = this.recorder
      .submit(record)
      .catch((error: unknown) => {
        // the lease runs out and the callback is sent again: at least once, never lost
        this.logger.warn({ messageId: callback.message_id, status: callback.status, err: (error as Error).message }, 'callback attempt not recorded');
      })
      .finally(() => {
        this.slots.recordSettled();
        this.wakeUp.notify();
      });
    this.recording.add(recording);
    void recording.finally(() => this.recording.delete(recording));
  }

  private async attempt(callback: ClaimedCallback): Promise<AttemptRecord> {
    const attemptedAt = new Date();
    const gateway = this.gateways.get(callback.gateway_id);
    let record: AttemptRecord;
    if (gateway === undefined || !isCallbackStatus(callback.status)) {
      const error = gateway === undefined ? `gateway ${callback.gateway_id} is not configured` : `unknown status ${callback.status}`;
      record = { callbackId: callback.id, attemptedAt, httpStatus: null, error, durationMs: 0, outcome: { state: 'dead' } };
    } else {
      const url = buildCallbackUrl(callback.callback_url, { messageId: callback.message_id, status: callback.status, apiKey: gateway.apiKey });
      const result = await this.client.send(url);
      record = {
        callbackId: callback.id,
        attemptedAt,
        httpStatus: result.httpStatus,
        error: result.error,
        durationMs: result.durationMs,
        outcome: this.outcome(callback, result.ok),
      };
    }
    this.metrics.callbacks.inc({ status: callback.status, result: record.outcome.state === 'retry' ? 'failed' : record.outcome.state });
    if (record.outcome.state === 'dead') {
      this.logger.warn({ messageId: callback.message_id, status: callback.status, attempts: callback.attempts, error: record.error }, 'callback dead');
    }
    return record;
  }

  private outcome(callback: ClaimedCallback, ok: boolean): AttemptRecord['outcome'] {
    if (ok) return { state: 'sent' };
    const { retryBaseMs, retryMaxMs, retryWindowMs } = this.config.callbacks;
    const nextAttemptAt = new Date(Date.now() + nextAttemptDelayMs(callback.attempts, { baseMs: retryBaseMs, maxMs: retryMaxMs }));
    if (isWindowExhausted(callback.window_started_at, nextAttemptAt, retryWindowMs)) return { state: 'dead' };
    return { state: 'retry', nextAttemptAt };
  }
}
