/** Per-receiver send slots and the bound on sent-but-unrecorded attempts (README: crash-duplicate bound). */
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

  get canStart(): boolean {
    return this.busy < this.instanceSlots && this.unrecordedCount < this.maxUnrecorded;
  }

  take(receiver: string): void {
    this.busy += 1;
    this.unrecordedCount += 1;
    this.sendingTo.set(receiver, (this.sendingTo.get(receiver) ?? 0) + 1);
  }

  /** The slot frees now; a pending record stays unrecorded until recordSettled(). */
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
