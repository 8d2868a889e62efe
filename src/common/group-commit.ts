/**
 * Group commit: work submitted while earlier batches are still in flight is gathered into the next
 * batch, so under load many requests share one statement (and one WAL flush), while a lone request
 * still goes out on the next turn of the event loop. Each submitter waits for its own batch's result.
 * `run` must be all-or-nothing per batch (one statement, one transaction): a batch that fails is
 * retried item by item, so one bad item fails only its own submitter.
 */
export interface GroupCommitOptions {
  /** most items in one batch */
  maxBatch: number;
  /** most batches in flight at once; what arrives meanwhile waits and is batched */
  maxInFlight: number;
  /**
   * How long the first item of a batch may wait for company (0: the next turn of the event loop).
   * For background writes nobody waits on (delivery acks): fewer, fuller statements, and fewer
   * round trips that take the CPU from the request path. A full batch goes at once.
   */
  lingerMs?: number;
}

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export class GroupCommit<T, R> {
  private queue: Array<Pending<T, R>> = [];
  private inFlight = 0;
  private scheduled = false;

  /** `run` answers one result per item, in the items' order, or throws for the whole batch. */
  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.options.maxBatch && this.scheduled) {
        this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        const go = (): void => {
          this.scheduled = false;
          this.flush();
        };
        // gather everything that arrives during this turn of the event loop (or the linger)
        if (this.options.lingerMs) setTimeout(go, this.options.lingerMs);
        else setImmediate(go);
      }
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.execute(batch).finally(() => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }

  private async execute(batch: Array<Pending<T, R>>): Promise<void> {
    try {
      const results = await this.run(batch.map((pending) => pending.item));
      if (results.length !== batch.length) throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
      batch.forEach((pending, index) => pending.resolve(results[index]));
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // one bad item must not fail the others: a failed batch is retried item by item
      await Promise.all(batch.map((pending) => this.execute([pending])));
    }
  }
}
