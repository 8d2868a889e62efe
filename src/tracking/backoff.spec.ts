import { DEFAULT_BACKOFF_POLICY, DEFAULT_RETRY_WINDOW_MS, isWindowExhausted, nextAttemptDelayMs } from './backoff';

describe('nextAttemptDelayMs', () => {
  const sut = nextAttemptDelayMs;
  const middle = (): number => 0.5;

  it('doubles from the base without jitter at the middle of the range', () => {
    expect([1, 2, 3, 4, 5, 10].map((attempt) => sut(attempt, DEFAULT_BACKOFF_POLICY, middle))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 512_000]);
  });

  it('caps at the maximum, even for absurd attempt numbers', () => {
    for (const attempt of [11, 12, 50, 1_100, Number.MAX_SAFE_INTEGER, Infinity]) {
      expect(sut(attempt, DEFAULT_BACKOFF_POLICY, middle)).toBe(600_000);
    }
  });

  it('spreads the delay by ±20 %', () => {
    expect(sut(3, DEFAULT_BACKOFF_POLICY, () => 0)).toBe(3_200);
    expect(sut(3, DEFAULT_BACKOFF_POLICY, () => 0.999_999)).toBe(4_800);
    for (let i = 0; i < 1_000; i++) {
      const delay = sut(4, DEFAULT_BACKOFF_POLICY);
      expect(delay).toBeGreaterThanOrEqual(6_400);
      expect(delay).toBeLessThanOrEqual(9_600);
    }
  });

  it('never exceeds the maximum once jittered', () => {
    expect(sut(20, DEFAULT_BACKOFF_POLICY, () => 0.999_999)).toBe(600_000);
    expect(sut(20, DEFAULT_BACKOFF_POLICY, () => 0)).toBe(480_000);
  });

  it('treats attempts below 1, fractions and NaN as the first attempt', () => {
    for (const attempt of [0, -3, 1.7, NaN]) expect(sut(attempt, DEFAULT_BACKOFF_POLICY, middle)).toBe(1_000);
  });

  it('never goes below a small floor', () => {
    expect(sut(1, { baseMs: 0, maxMs: 1_000 }, () => 0)).toBe(50);
    expect(sut(1, { baseMs: 10, maxMs: 1_000 }, () => 0)).toBe(50);
    expect(sut(Infinity, { baseMs: 0, maxMs: 1_000 }, middle)).toBe(50);
  });

  it('follows a custom policy', () => {
    expect([1, 2, 3, 4].map((attempt) => sut(attempt, { baseMs: 100, maxMs: 500 }, middle))).toEqual([100, 200, 400, 500]);
  });

  it('uses the SPEC defaults', () => {
    expect(DEFAULT_BACKOFF_POLICY).toEqual({ baseMs: 1_000, maxMs: 600_000 });
    expect(sut(1)).toBeGreaterThanOrEqual(800);
    expect(sut(1)).toBeLessThanOrEqual(1_200);
  });
});

describe('isWindowExhausted', () => {
  const sut = isWindowExhausted;
  const first = new Date('2025-06-01T12:00:00.000Z');

  it('is open until the window has fully passed', () => {
    expect(sut(first, first, 60_000)).toBe(false);
    expect(sut(first, new Date(first.getTime() + 59_999), 60_000)).toBe(false);
    expect(sut(first, new Date(first.getTime() + 60_000), 60_000)).toBe(true);
  });

  it('defaults to 24 hours', () => {
    expect(DEFAULT_RETRY_WINDOW_MS).toBe(86_400_000);
    expect(sut(first, new Date('2025-06-02T11:59:59.999Z'))).toBe(false);
    expect(sut(first, new Date('2025-06-02T12:00:00.000Z'))).toBe(true);
  });

  it('is not exhausted when the clock reads earlier than the first attempt', () => {
    expect(sut(first, new Date(first.getTime() - 5_000), 60_000)).toBe(false);
  });
});
