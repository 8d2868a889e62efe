import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterRes } from 'rate-limiter-flexible';

export interface LimitResult {
  limited: boolean;
  /** points counted in this window, this one included */
  consumed: number;
  /** until the window (or the block) ends */
  msBeforeNext: number;
}

/** Told when the shared store fails and when it answers again, to log the change once rather than per request. */
export interface StoreHealth {
  failed(error: unknown): void;
  answered(): void;
}

/**
 * Counts in the shared store; when the store fails or is slower than `timeoutMs`, counts in this instance's memory
 * instead, so a database or Redis outage neither opens the limit nor fails the request.
 */
export class FallbackLimiter {
  constructor(
    private readonly shared: RateLimiterAbstract,
    private readonly local: RateLimiterAbstract,
    private readonly health: StoreHealth,
    private readonly timeoutMs: number,
  ) {}

  async consume(key: string): Promise<LimitResult> {
    let result: LimitResult;
    try {
      result = await withTimeout(attempt(this.shared, key), this.timeoutMs);
    } catch (error) {
      this.health.failed(error);
      return attempt(this.local, key);
    }
    this.health.answered();
    return result;
  }
}

// rate-limiter-flexible rejects with a RateLimiterRes when the limit is reached, with an Error when the store fails
async function attempt(limiter: RateLimiterAbstract, key: string): Promise<LimitResult> {
  try {
    const res = await limiter.consume(key);
    return { limited: false, consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return { limited: true, consumed: rejection.consumedPoints, msBeforeNext: rejection.msBeforeNext };
    throw rejection;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`rate-limit store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
