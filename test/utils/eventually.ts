export interface WaitOptions {
  /** Names the wait in the failure, e.g. "3 callbacks for m1"; a function is read when the wait fails. */
  what: string | (() => string);
  timeoutMs?: number;
  everyMs?: number;
}

/** Thrown by a check to end the wait at once (e.g. the process being waited on has exited). */
export class StopWaiting extends Error {}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries `check` until it passes: returns without throwing and not `false`. Its value is returned.
 * Fails with the named wait and the last error; deadlines are generous, since the machine may be loaded.
 */
export async function eventually<T>(check: () => T | Promise<T>, options: WaitOptions): Promise<Exclude<T, false>> {
  const { timeoutMs = 10_000, everyMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: string;
    try {
      const value = await check();
      if (value !== false) return value as Exclude<T, false>;
      last = 'the check returned false';
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${nameOf(options.what)}: ${last}`);
    await sleep(everyMs);
  }
}

/**
 * Waits `ms` and fails as soon as `probe` reads differently from when the wait began: how a test
 * shows that nothing more arrives (no further callback, message, push). A loaded machine can only
 * make it less sensitive, never fail it wrongly.
 */
export async function expectQuietFor(ms: number, what: string, probe: () => unknown, everyMs = 20): Promise<void> {
  // compared as JSON: jest runs tests in their own realm, where deep equality would see foreign prototypes
  const before = JSON.stringify(await probe());
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await sleep(Math.min(everyMs, Math.max(0, until - Date.now())));
    const now = JSON.stringify(await probe());
    if (now !== before) throw new Error(`expected no more ${what} for ${ms} ms, but ${before} became ${now}`);
  }
}

function nameOf(what: WaitOptions['what']): string {
  return typeof what === 'string' ? what : what();
}
