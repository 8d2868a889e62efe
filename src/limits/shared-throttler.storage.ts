import type { ThrottlerStorage } from '@nestjs/throttler';

import type { FallbackLimiter } from './fallback-limiter';
import type { LimiterOptions } from './rate-limit.store';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** @nestjs/throttler's storage over the shared store, so a player's or support key's limit holds across instances. */
export class SharedThrottlerStorage implements ThrottlerStorage {
  private readonly limiters = new Map<string, FallbackLimiter>();

  constructor(private readonly createLimiter: (options: LimiterOptions) => FallbackLimiter) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const result = await this.limiterFor(ttl, limit, blockDuration, throttlerName).consume(key);
    const seconds = Math.max(0, Math.ceil(result.msBeforeNext / 1000));
    return { totalHits: result.consumed, timeToExpire: seconds, isBlocked: result.limited, timeToBlockExpire: result.limited ? seconds : 0 };
  }

  // the guard passes each throttler's settings with every call; one limiter per distinct set
  private limiterFor(ttl: number, limit: number, blockDuration: number, throttlerName: string): FallbackLimiter {
    const id = `${throttlerName}:${ttl}:${limit}:${blockDuration}`;
    let limiter = this.limiters.get(id);
    if (limiter === undefined) {
      limiter = this.createLimiter({
        name: `throttle:${id}`,
        points: limit,
        // the stores count whole seconds
        durationSeconds: Math.max(1, Math.ceil(ttl / 1000)),
        blockSeconds: Math.max(1, Math.ceil(blockDuration / 1000)),
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
