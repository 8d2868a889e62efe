import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Pool } from 'pg';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis } from 'rate-limiter-flexible';
import { createClient } from 'redis';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import { FallbackLimiter, StoreHealth } from './fallback-limiter';
import { SharedThrottlerStorage } from './shared-throttler.storage';

export interface LimiterOptions {
  /** keys of this limiter are `<name>:<key>` */
  name: string;
  points: number;
  durationSeconds: number;
  /** once over `points`, refused this long from then on; 0: until the window ends */
  blockSeconds?: number;
}

type RedisClient = ReturnType<typeof createClient>;

// a store slower than this is treated as down for the request at hand
const STORE_TIMEOUT_MS = 1_000;
// boot does not wait longer for Redis; the client keeps reconnecting, and limits count in memory meanwhile
const REDIS_BOOT_WAIT_MS = 5_000;
const REDIS_PREFIX = 'cim-inbox:limit:';

/**
 * Where counters shared by all instances live (SPEC §6): Redis with REDIS_URL, else the rate_limits table. Owns the
 * Redis client or the small pg pool the limiters use; every limiter it hands out falls back to memory when the store fails.
 */
@Injectable()
export class RateLimitStore implements OnModuleInit, OnApplicationShutdown, StoreHealth {
  private readonly logger = new Logger(RateLimitStore.name);
  readonly kind: 'redis' | 'postgres';
  private readonly redis?: RedisClient;
  private readonly pool?: Pool;
  private down = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (config.redisUrl !== undefined) {
      this.kind = 'redis';
      this.redis = createClient({ url: config.redisUrl });
      // an unhandled 'error' would end the process; the message names host and port, never the URL's password
      this.redis.on('error', (error: Error) => this.failed(error));
    } else {
      this.kind = 'postgres';
      // its own two connections: a flood of bad attempts cannot take the request pool's connections
      this.pool = new Pool({
        connectionString: config.databaseUrl,
        max: 2,
        application_name: 'cim-inbox-limits',
        connectionTimeoutMillis: STORE_TIMEOUT_MS,
        statement_timeout: STORE_TIMEOUT_MS,
      });
      this.pool.on('error', (error) => this.failed(error));
    }
  }

  async onModuleInit(): Promise<void> {
    if (this.redis === undefined) return;
    const connected = this.redis.connect().then(
      () => true,
      (error: unknown) => {
        this.failed(error);
        return false;
      },
    );
    const waited = new Promise<false>((resolve) => setTimeout(() => resolve(false), REDIS_BOOT_WAIT_MS).unref());
    if (!(await Promise.race([connected, waited]))) this.logger.warn('Redis not reachable at boot: rate limits count per instance until it is');
  }

  limiter(options: LimiterOptions): FallbackLimiter {
    const common = { points: options.points, duration: options.durationSeconds, blockDuration: options.blockSeconds ?? 0 };
    // once an address is over the limit, this instance refuses it from memory until the window ends, sparing the store
    const inMemoryBlockOnConsumed = options.blockSeconds ? undefined : options.points + 1;
    const shared: RateLimiterAbstract =
      this.redis !== undefined
        ? new RateLimiterRedis({
            ...common,
            storeClient: this.redis,
            useRedisPackage: true,
            rejectIfRedisNotReady: true,
            keyPrefix: `${REDIS_PREFIX}${options.name}`,
            inMemoryBlockOnConsumed,
          })
        : new RateLimiterPostgres({
            ...common,
            storeClient: this.pool,
            storeType: 'pool',
            tableName: 'rate_limits',
            tableCreated: true,
            keyPrefix: options.name,
            inMemoryBlockOnConsumed,
          });
    return new FallbackLimiter(shared, new RateLimiterMemory({ ...common, keyPrefix: options.name }), this, STORE_TIMEOUT_MS);
  }

  /** Player and support REST limits: shared through Redis; without it, undefined (the throttler's own memory). */
  throttlerStorage(): ThrottlerStorage | undefined {
    return this.redis !== undefined ? new SharedThrottlerStorage((options) => this.limiter(options)) : undefined;
  }

  failed(error: unknown): void {
    if (this.down) return;
    this.down = true;
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn({ err: message, store: this.kind }, 'rate-limit store failing: limits count per instance until it answers');
  }

  answered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.log({ store: this.kind }, 'rate-limit store answers again: limits are shared across instances');
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      if (this.redis?.isReady === true) await this.redis.quit();
      else if (this.redis?.isOpen === true) await this.redis.disconnect();
      await this.pool?.end();
    } catch (error) {
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'rate-limit store did not close cleanly');
    }
  }
}
