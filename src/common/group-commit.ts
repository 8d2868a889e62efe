/** 'split': a failed batch is retried item by item; 'retry': whole, in order, with backoff until stop(). */
export type GroupCommitFailurePolicy = 'split' | 'retry';

export interface GroupCommitOptions {
  maxBatch: number;
  maxInFlight: number;
  /** 0: the next turn of the event loop */
  lingerMs?: number;
  fullBatch?: number;
  onFailure?: GroupCommitFailurePolicy;
}

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export function retryDelayMs(failures: number): number {
  return Math.min(100 * 2 ** failures, 2_000);
}

/** Submissions share statements; `run` is all-or-nothing per batch and answers one result per item, in order. */
export class GroupCommit<T, R> {
  private queue: Array<Pending<T, R>> = [];
  private inFlight = 0;
  private scheduled = false;
  private failures = 0;
  private retryTimer?: NodeJS.Timeout;
  private stopping = false;
  private readonly fullBatch: number;
  private readonly policy: GroupCommitFailurePolicy;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {
    this.fullBatch = options.fullBatch ?? options.maxBatch;
    this.policy = options.onFailure ?? 'split';
    if (this.policy === 'retry' && options.maxInFlight !== 1) throw new Error('group commit: the retry policy keeps order only with maxInFlight 1');
  }

  get retrying(): boolean {
    return this.failures > 0;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.stopping || (this.queue.length >= this.fullBatch && this.scheduled)) {
        this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        const go = (): void => {
          this.scheduled = false;
          this.flush();
        };
        if (this.options.lingerMs) setTimeout(go, this.options.lingerMs);
        else setImmediate(go);
      }
    });
  }

  /** Nothing lingers or waits for a retry any more: one more try each, then failures reject. */
  stop(): void {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.flush();
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight && this.retryTimer === undefined) {
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
      this.failures = 0;
      batch.forEach((pending, index) => pending.resolve(results[index]));
    } catch (error) {
      if (this.policy === 'retry' && !this.stopping) {
        this.failures += 1;
        this.queue = batch.concat(this.queue);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.flush();
        }, retryDelayMs(this.failures));
      } else if (batch.length === 1 || this.policy === 'retry') {
        for (const pending of batch) pending.reject(error);
      } else {
        await Promise.all(batch.map((pending) => this.execute([pending])));
      }
    }
  }
}
