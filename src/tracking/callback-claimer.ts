import type { Logger } from '@nestjs/common';

import type { ClaimedCallback, OutboxRepository } from './outbox.repository';
import type { ReceiverSlots } from './receiver-slots';

export interface HeldCallback {
  callback: ClaimedCallback;
  claimedAt: number;
  receiver: string;
}

export interface ClaimerOptions {
  batch: number;
  leaseMs: number;
  lingerMs: number;
}

/** Claims due callbacks ahead of the free slots and holds them until their receiver has a slot (README). */
export class CallbackClaimer {
  private held: HeldCallback[] = [];
  private nextClaimAt = 0;
  /** a wake-up or poll came since the last claim */
  private owed = true;

  constructor(
    private readonly outbox: Pick<OutboxRepository, 'claimDue' | 'releaseClaims'>,
    private readonly slots: ReceiverSlots,
    private readonly options: ClaimerOptions,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  get holding(): number {
    return this.held.length;
  }

  owe(): void {
    this.owed = true;
  }

  wanted(): boolean {
    const { concurrency } = this.slots;
    if (this.held.length >= concurrency + this.options.batch) return false;
    if (this.held.length < concurrency) return true;
    let sendable = 0;
    for (const held of this.held) if (this.slots.hasRoom(held.receiver) && ++sendable >= concurrency) return false;
    return true;
  }

  // not while records retry: leases of sent, unrecorded callbacks could lapse and this instance resend them
  due(recordsRetrying: boolean): boolean {
    return this.owed && this.wanted() && !recordsRetrying && Date.now() >= this.nextClaimAt;
  }

  async claim(): Promise<number> {
    this.owed = false;
    let claimed: ClaimedCallback[] = [];
    try {
      claimed = await this.outbox.claimDue(this.options.batch, this.options.leaseMs);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not claim callbacks');
    }
    const claimedAt = Date.now();
    if (claimed.length < this.options.batch) this.nextClaimAt = claimedAt + this.options.lingerMs;
    for (const callback of claimed) this.held.push({ callback, claimedAt, receiver: this.slots.receiverOf(callback.callback_url) });
    return claimed.length;
  }

  /** `start` must take the slot. */
  startSendable(start: (held: HeldCallback) => void): void {
    if (!this.slots.canStart || this.held.length === 0) return;
    const kept: HeldCallback[] = [];
    const now = Date.now();
    for (const held of this.held) {
      // its lease may lapse and another instance claim it: skipped, it is due again after the lease
      if (now - held.claimedAt > this.options.leaseMs / 2) continue;
      if (!this.slots.canStart || !this.slots.hasRoom(held.receiver)) kept.push(held);
      else start(held);
    }
    this.held = kept;
  }

  sleepMs(pollMs: number): number {
    const lingerLeft = this.nextClaimAt - Date.now();
    return this.owed && lingerLeft > 0 ? Math.min(pollMs, lingerLeft) : pollMs;
  }

  async releaseAll(): Promise<void> {
    const ids = this.held.map(({ callback }) => callback.id);
    this.held = [];
    try {
      await this.outbox.releaseClaims(ids);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not release unsent claims');
    }
  }
}
