import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Subscription } from 'rxjs';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { GatewayConfig } from '../config/env.validation';
import { MessageEvents } from '../messages/message-events';
import { Metrics } from '../metrics/metrics.service';
import { isWindowExhausted, nextAttemptDelayMs } from './backoff';
import { CallbackClient } from './callback.client';
import { buildCallbackUrl, isCallbackStatus } from './callback-url';
import { AttemptRecord, ClaimedCallback, OutboxRepository } from './outbox.repository';

/** Callbacks claimed per statement. */
export const CALLBACK_CLAIM_BATCH = 50;
const BATCH = CALLBACK_CLAIM_BATCH;
/**
 * A claim that found less than a batch has drained the queue: the next one waits this long for
 * more to arrive, and attempt records wait as long for company, so a steady trickle of callbacks
 * costs a few statements a second, not several per message (a callback a few ms later is no loss).
 */
const LINGER_MS = 5;

interface Held {
  callback: ClaimedCallback;
  claimedAt: number;
  /** the callback URL's origin: slots are shared out per receiver */
  receiver: string;
}

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
  private readonly recorder: AttemptRecorder;
  private readonly recording = new Set<Promise<void>>();
  /** sends started whose attempt record has not committed yet (in flight included) */
  private unrecorded = 0;
  private readonly sendingTo = new Map<string, number>();
  private subscription?: Subscription;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: OutboxRepository,
    private readonly client: CallbackClient,
    private readonly events: MessageEvents,
    private readonly metrics: Metrics,
  ) {
    this.gateways = new Map(config.gateways.map((gateway) => [gateway.id, gateway]));
    this.recorder = new AttemptRecorder((records) => this.outbox.recordAttempts(records), LINGER_MS, BATCH);
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
    this.recorder.stopRetrying();
    this.wakeUp.notify();
    await this.loop;
    await this.client.close();
  }

  /**
   * A pipeline, not batches: as soon as a send finishes its slot is refilled from a batch claimed
   * ahead, and a claim (one statement for up to 50 callbacks) is made while the slots are still busy.
   *
   * Slots are shared out per receiver (callback URL origin): one receiver gets at most
   * CALLBACK_CONCURRENCY of them, and the instance has a quarter more, so a receiver that hangs until
   * the timeout holds its own slots while the others keep flowing, and a single receiver still gets
   * all CALLBACK_CONCURRENCY. Callbacks held for a receiver at its share do not count towards the
   * claim-ahead, so the next claim can reach other receivers' work.
   *
   * At most CALLBACK_CONCURRENCY + CALLBACK_CLAIM_BATCH sends are ever started and not yet
   * recorded (a slot is freed when its request ends, and its record commits in the background): a
   * crash can therefore cut off at most that many records, which is all it can make Smartico hear
   * twice.
   */
  private async run(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let ready: Held[] = [];
    const { concurrency, pollMs, leaseMs } = this.config.callbacks;
    const slots = concurrency + Math.ceil(concurrency / 4);
    const maxUnrecorded = concurrency + BATCH;
    const hasRoom = (receiver: string): boolean => (this.sendingTo.get(receiver) ?? 0) < concurrency;
    // claim ahead while fewer than a slot-load is in hand for receivers with room
    const wanted = (): boolean => {
      if (ready.length >= concurrency + BATCH) return false;
      if (ready.length < concurrency) return true;
      let sendable = 0;
      for (const held of ready) if (hasRoom(held.receiver) && ++sendable >= concurrency) return false;
      return true;
    };
    // after a claim that found less than a batch (the queue ran dry), the next waits LINGER_MS;
    // `owed`: something happened since the last claim (a wake-up, a poll), so look again
    let nextClaimAt = 0;
    let owed = true;
    while (this.running) {
      let claimed: ClaimedCallback[] = [];
      // not while sent attempts wait to be recorded (database unreachable), or their leases may run
      // out and this very instance would claim and send them again
      const claimWanted = owed && wanted() && !this.recorder.retrying;
      if (claimWanted && Date.now() >= nextClaimAt) {
        owed = false;
        try {
          claimed = await this.outbox.claimDue(BATCH, leaseMs);
        } catch (error) {
          this.logger.warn({ err: (error as Error).message }, 'could not claim callbacks');
        }
        const claimedAt = Date.now();
        if (claimed.length < BATCH) nextClaimAt = claimedAt + LINGER_MS;
        for (const callback of claimed) ready.push({ callback, claimedAt, receiver: receiverOf(callback.callback_url) });
      }
      if (inFlight.size < slots && this.unrecorded < maxUnrecorded && ready.length > 0) {
        const kept: Held[] = [];
        const now = Date.now();
        for (const held of ready) {
          // held so long its lease may lapse and another instance claim it: not sending it now
          // avoids a duplicate; it is due again once the lease is over
          if (now - held.claimedAt > leaseMs / 2) continue;
          if (inFlight.size >= slots || this.unrecorded >= maxUnrecorded || !hasRoom(held.receiver)) {
            kept.push(held);
            continue;
          }
          const sending: Promise<void> = this.send(held).finally(() => {
            inFlight.delete(sending);
            this.wakeUp.notify();
          });
          inFlight.add(sending);
        }
        ready = kept;
      }
      // a full batch means more is probably due: claim again while there is room to hold it
      if (claimed.length === BATCH && wanted()) {
        owed = true;
        continue;
      }
      // sleep until the poll interval passes, a slot frees up, a record commits, or a local change
      // enqueues work; a claim owed but held back by the linger is made when the linger ends
      const lingerLeft = nextClaimAt - Date.now();
      await this.wakeUp.wait(owed && lingerLeft > 0 ? Math.min(pollMs, lingerLeft) : pollMs);
      owed = true;
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

  private async send({ callback, receiver }: Held): Promise<void> {
    this.unrecorded += 1;
    this.sendingTo.set(receiver, (this.sendingTo.get(receiver) ?? 0) + 1);
    let record: AttemptRecord | undefined;
    try {
      record = await this.attempt(callback);
    } finally {
      const left = this.sendingTo.get(receiver)! - 1;
      if (left === 0) this.sendingTo.delete(receiver);
      else this.sendingTo.set(receiver, left);
      if (record === undefined) this.unrecorded -= 1;
    }
    // the slot is free once the request is done; the record commits with others in the background
    // (a crash before it commits means a re-send after the lease: at least once, never lost)
    const recording = this.recorder
      .record(record)
      .catch((error: unknown) => {
        // the lease runs out and the callback is sent again: at least once, never lost
        this.logger.warn({ messageId: callback.message_id, status: callback.status, err: (error as Error).message }, 'callback attempt not recorded');
      })
      .finally(() => {
        this.unrecorded -= 1;
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

/** Slots are shared out per origin; a URL that does not parse fails fast on its own. */
const origins = new Map<string, string>();

function receiverOf(callbackUrl: string): string {
  let origin = origins.get(callbackUrl);
  if (origin === undefined) {
    try {
      origin = new URL(callbackUrl).origin;
    } catch {
      origin = 'invalid';
    }
    // callback URLs are few (one or a handful per Smartico label); the cache stays small anyway
    if (origins.size >= 1_000) origins.clear();
    origins.set(callbackUrl, origin);
  }
  return origin;
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

/**
 * Group commit for attempt records: records that finish while a write is in progress go out
 * together in the next one, and a record with no write in progress waits LINGER_MS for others, so
 * N concurrent sends cost about one commit, not N. A failed write
 * (database unreachable) is retried with backoff rather than dropped: a dropped record would leave
 * the callback claimed but unrecorded, to be sent again once its lease ends.
 */
class AttemptRecorder {
  private queue: Array<{ record: AttemptRecord; done: (error?: unknown) => void }> = [];
  private writing = false;
  private failures = 0;
  private retryTimer?: NodeJS.Timeout;
  private lingering?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly write: (records: AttemptRecord[]) => Promise<void>,
    /** how long a record may wait for others to share its statement, unless `fullBatch` are waiting */
    private readonly lingerMs: number,
    private readonly fullBatch: number,
  ) {}

  /** A write failed and waits for its retry. */
  get retrying(): boolean {
    return this.failures > 0;
  }

  record(record: AttemptRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (this.writing || this.retryTimer !== undefined) return;
      if (this.queue.length >= this.fullBatch || this.stopping) void this.flush();
      else this.lingering ??= setTimeout(() => void this.flush(), this.lingerMs);
    });
  }

  /** On shutdown: one more try for what waits, then failures are given up (the leases bring those callbacks back). */
  stopRetrying(): void {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.flush();
  }

  private async flush(): Promise<void> {
    clearTimeout(this.lingering);
    this.lingering = undefined;
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const batch = this.queue;
    this.queue = [];
    try {
      await this.write(batch.map((entry) => entry.record));
      this.failures = 0;
      for (const entry of batch) entry.done();
    } catch (error) {
      if (this.stopping) {
        for (const entry of batch) entry.done(error);
      } else {
        this.failures += 1;
        this.queue = batch.concat(this.queue);
        this.retryTimer = setTimeout(
          () => {
            this.retryTimer = undefined;
            void this.flush();
          },
          Math.min(100 * 2 ** this.failures, 2_000),
        );
      }
    } finally {
      this.writing = false;
      if (this.queue.length > 0 && this.retryTimer === undefined) void this.flush();
    }
  }
}
