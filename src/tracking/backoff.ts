export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** SPEC §4: about 1 s doubling to at most 10 min between tries, for 24 h. */
export const DEFAULT_BACKOFF_POLICY: BackoffPolicy = { baseMs: 1_000, maxMs: 10 * 60_000 };
export const DEFAULT_RETRY_WINDOW_MS = 24 * 60 * 60_000;

const MIN_DELAY_MS = 50;
const JITTER = 0.2;

/** base·2^(attempt-1) capped at max, ±20 % jitter to spread a burst of failures, never below 50 ms. */
export function nextAttemptDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF_POLICY, random = Math.random): number {
  // bounded so that 0·2^Infinity (NaN) cannot happen
  const exponent = Number.isNaN(attempt) ? 0 : Math.min(64, Math.max(0, Math.floor(attempt) - 1));
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jittered = nominal * (1 - JITTER + 2 * JITTER * random());
  return Math.round(Math.max(MIN_DELAY_MS, Math.min(policy.maxMs, jittered)));
}

export function isWindowExhausted(firstAttemptAt: Date, now: Date, windowMs: number = DEFAULT_RETRY_WINDOW_MS): boolean {
  return now.getTime() - firstAttemptAt.getTime() >= windowMs;
}
