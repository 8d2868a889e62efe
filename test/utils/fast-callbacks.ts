import type { CallbackConfig } from '../../src/config/app.config';

/** Callback settings for e2e tests that watch retries and dead callbacks happen within a second or two. */
export const FAST_RETRY_CALLBACKS: CallbackConfig = {
  timeoutMs: 1_000,
  retryBaseMs: 50,
  retryMaxMs: 200,
  retryWindowMs: 1_000,
  concurrency: 8,
  connectionsPerHost: 8,
  pollMs: 50,
  leaseMs: 3_000,
};
