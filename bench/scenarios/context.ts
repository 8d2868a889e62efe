import type { BenchServer } from '../lib/bench-database';

export interface BenchContext {
  quick: boolean;
  server: BenchServer;
  /** progress lines go to stderr; the table goes to stdout */
  log(line: string): void;
  /** a fast local Smartico callback receiver, as callback_url of every posted message */
  callbackUrl: string;
  /** callbacks that receiver has answered so far */
  callbacksReceived(): number;
  /** of them, `delivered` callbacks */
  deliveredReceived(): number;
  /** --cpu-prof directory when profiling cim-inbox, else undefined */
  profileDir?: string;
  /** the Redis the multi-instance scenario fans out through (--redis, CIM_BENCH_REDIS_URL) */
  redisUrl: string;
}

/** Alternates two measurements `rounds` times (A B, B A, A B …) to spread drift over both. */
export async function alternate<T>(rounds: number, a: () => Promise<T>, b: () => Promise<T>): Promise<{ a: T[]; b: T[] }> {
  const results = { a: [] as T[], b: [] as T[] };
  for (let round = 0; round < rounds; round += 1) {
    if (round % 2 === 0) {
      results.a.push(await a());
      results.b.push(await b());
    } else {
      results.b.push(await b());
      results.a.push(await a());
    }
  }
  return results;
}

/** Waits until callbacks stop arriving at the receiver (the app's backlog from a pass is drained). */
export async function settle(context: BenchContext): Promise<void> {
  let last = -1;
  while (context.callbacksReceived() !== last) {
    last = context.callbacksReceived();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
