/** A wake-up that comes while nobody waits is kept: the next wait returns at once. */
export class WakeSignal {
  private notified = false;
  private resolve?: () => void;

  notify(): void {
    if (this.resolve) this.resolve();
    else this.notified = true;
  }

  /** Resolves on the next notify (or a kept one), or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.resolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.resolve = done;
    });
  }
}
