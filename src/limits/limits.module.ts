import { Global, Module } from '@nestjs/common';

import { RateLimitStore } from './rate-limit.store';

/** The store the rate limits share across instances (src/limits/rate-limit.store.ts). */
@Global()
@Module({
  providers: [RateLimitStore],
  exports: [RateLimitStore],
})
export class LimitsModule {}
