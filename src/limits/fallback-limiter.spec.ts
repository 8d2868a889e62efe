import { createServer, Server, Socket } from 'node:net';

import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createClient } from 'redis';

import { FallbackLimiter, StoreHealth } from './fallback-limiter';
import { SharedThrottlerStorage } from './shared-throttler.storage';

class RecordedHealth implements StoreHealth {
  readonly events: string[] = [];
  failed(error: unknown): void {
    this.events.push(`failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  answered(): void {
    this.events.push('answered');
  }
}

const limits = { points: 2, duration: 60 };

async function limitedFlags(sut: FallbackLimiter, key: string, times: number): Promise<boolean[]> {
  const flags: boolean[] = [];
  for (let attempt = 0; attempt < times; attempt += 1) flags.push((await sut.consume(key)).limited);
  return flags;
}

describe('FallbackLimiter', () => {
  it('counts in the shared limiter while it answers, leaving the local one untouched', async () => {
    const local = new RateLimiterMemory(limits);
    const health = new RecordedHealth();
    const sut = new FallbackLimiter(new RateLimiterMemory(limits), local, health, 1_000);

    expect(await limitedFlags(sut, 'a', 3)).toEqual([false, false, true]);
    expect(await local.get('a')).toBeNull();
    expect(health.events).toEqual(['answered', 'answered', 'answered']);
  });

  it('reports the count and the time left in the window', async () => {
    const sut = new FallbackLimiter(new RateLimiterMemory(limits), new RateLimiterMemory(limits), new RecordedHealth(), 1_000);
    await sut.consume('a');
    const second = await sut.consume('a');
    expect(second.consumed).toBe(2);
    expect(second.msBeforeNext).toBeGreaterThan(0);
    expect(second.msBeforeNext).toBeLessThanOrEqual(60_000);
  });

  it('counts in memory, still limiting, when the store fails (Redis not connected)', async () => {
    const client = createClient({ url: 'redis://127.0.0.1:1' }); // never connected
    const shared = new RateLimiterRedis({ ...limits, storeClient: client, useRedisPackage: true, rejectIfRedisNotReady: true });
    const health = new RecordedHealth();
    const sut = new FallbackLimiter(shared, new RateLimiterMemory(limits), health, 1_000);

    expect(await limitedFlags(sut, 'a', 3)).toEqual([false, false, true]);
    expect(health.events).toEqual(Array(3).fill('failed: Redis connection is not ready'));
  });

  describe('with a store that accepts the connection and never answers', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    let client: ReturnType<typeof createClient>;

    beforeAll(async () => {
      silent = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address();
      // without a password, database or client info, the client is ready once the TCP connection is
      client = createClient({ url: `redis://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, disableClientInfo: true });
      await client.connect();
    });

    afterAll(async () => {
      await client.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('gives up on the store after the timeout and counts in memory', async () => {
      const shared = new RateLimiterRedis({ ...limits, storeClient: client, useRedisPackage: true, rejectIfRedisNotReady: true });
      const health = new RecordedHealth();
      const sut = new FallbackLimiter(shared, new RateLimiterMemory(limits), health, 50);

      expect(await limitedFlags(sut, 'a', 3)).toEqual([false, false, true]);
      expect(health.events).toEqual(Array(3).fill('failed: rate-limit store did not answer within 50 ms'));
    });
  });
});

describe('SharedThrottlerStorage', () => {
  const memoryLimiter = (options: { points: number; durationSeconds: number; blockSeconds?: number }): FallbackLimiter => {
    const memory = { points: options.points, duration: options.durationSeconds, blockDuration: options.blockSeconds };
    return new FallbackLimiter(new RateLimiterMemory(memory), new RateLimiterMemory(memory), new RecordedHealth(), 1_000);
  };

  it("answers the throttler's record: blocked past the limit, for the block duration, in seconds", async () => {
    const sut = new SharedThrottlerStorage(memoryLimiter);
    const first = await sut.increment('k', 60_000, 2, 30_000, 'player');
    expect(first).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    await sut.increment('k', 60_000, 2, 30_000, 'player');
    const third = await sut.increment('k', 60_000, 2, 30_000, 'player');
    expect(third).toEqual({ totalHits: 3, timeToExpire: 30, isBlocked: true, timeToBlockExpire: 30 });
  });

  it('counts each throttler apart, and each key apart', async () => {
    const names: string[] = [];
    const sut = new SharedThrottlerStorage((options) => {
      names.push(options.name);
      return memoryLimiter(options);
    });
    await sut.increment('k', 60_000, 1, 60_000, 'player');
    expect((await sut.increment('k', 60_000, 1, 60_000, 'support')).isBlocked).toBe(false);
    expect((await sut.increment('other', 60_000, 1, 60_000, 'player')).isBlocked).toBe(false);
    expect((await sut.increment('k', 60_000, 1, 60_000, 'player')).isBlocked).toBe(true);
    expect(names).toEqual(['throttle:player:60000:1:60000', 'throttle:support:60000:1:60000']);
  });
});
