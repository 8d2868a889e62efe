/**
 * Send slots, shared out per receiver (callback URL origin): a receiver holds at most `concurrency`,
 * the instance a quarter more, so a receiver that hangs holds only its own. A send counts as
 * unrecorded from its start until its attempt record settles, at most `concurrency + claimBatch` at
 * once: that bounds what a crash can make the receiver hear twice.
 */
export class ReceiverSlots {
  readonly instanceSlots: number;
  readonly maxUnrecorded: number;
  private busy = 0;
  private unrecordedCount = 0;
  private readonly sendingTo = new Map<string, number>();
  private readonly origins = new Map<string, string>();

  constructor(
    readonly concurrency: number,
    claimBatch: number,
  ) {
    this.instanceSlots = concurrency + Math.ceil(concurrency / 4);
    this.maxUnrecorded = concurrency + claimBatch;
  }

  get inUse(): number {
    return this.busy;
  }

  get unrecorded(): number {
    return this.unrecordedCount;
  }

  /** A URL that does not parse gets a receiver of its own and fails fast there. */
  receiverOf(callbackUrl: string): string {
    let origin = this.origins.get(callbackUrl);
    if (origin === undefined) {
      try {
        origin = new URL(callbackUrl).origin;
      } catch {
        origin = 'invalid';
      }
      if (this.origins.size >= 1_000) this.origins.clear();
      this.origins.set(callbackUrl, origin);
    }
    return origin;
  }

  hasRoom(receiver: string): boolean {
    return (this.sendingTo.get(receiver) ?? 0) < this.concurrency;
  }

  /** An instance slot is free and the unrecorded bound leaves room for one more send. */
  get canStart(): boolean {
    return this.busy < this.instanceSlots && this.unrecordedCount < this.maxUnrecorded;
  }

  take(receiver: string): void {
    this.busy += 1;
    this.unrecordedCount += 1;
    this.sendingTo.set(receiver, (this.sendingTo.get(receiver) ?? 0) + 1);
  }

  /** The request is over: its slot frees now; with `recordPending` it stays unrecorded until recordSettled(). */
  requestEnded(receiver: string, recordPending: boolean): void {
    this.busy -= 1;
    const left = this.sendingTo.get(receiver)! - 1;
    if (left === 0) this.sendingTo.delete(receiver);
    else this.sendingTo.set(receiver, left);
    if (!recordPending) this.unrecordedCount -= 1;
  }

  recordSettled(): void {
    this.unrecordedCount -= 1;
  }
}
