/**
 * Posting Custom IMs over undici: open-loop at a fixed rate (requests go out on schedule whether or
 * not earlier ones have been answered, so a slow server shows up as latency, not as a politely
 * slower client), or closed-loop with a fixed number in flight (as fast as the server accepts).
 */
import { Pool } from 'undici';

export interface PostOptions {
  /** one server, or several: then `route` picks each post's (as a load balancer would) */
  url: string | string[];
  route?(index: number): number;
  path: string;
  headers?: Record<string, string>;
  body(index: number): string;
  onSent?(index: number, at: number): void;
  onReply?(index: number, at: number, text: string): void;
}

export interface OpenLoopOptions extends PostOptions {
  rate: number;
  seconds: number;
  /** stops sending early (the posts already out are still awaited) */
  signal?: AbortSignal;
}

/** The pools and the one POST both loops make; `failed` counts non-200 replies and errors. */
function poster(options: PostOptions, connections: number) {
  const urls = typeof options.url === 'string' ? [options.url] : options.url;
  const pools = urls.map((url) => new Pool(url, { connections, pipelining: 1 }));
  const headers = { 'content-type': 'application/json', ...options.headers };
  const state = { failed: 0 };
  const post = (index: number): Promise<void> => {
    const body = options.body(index);
    options.onSent?.(index, performance.now());
    return pools[options.route?.(index) ?? 0]
      .request({ path: options.path, method: 'POST', headers, body })
      .then(async (response) => {
        const text = await response.body.text();
        options.onReply?.(index, performance.now(), text);
        if (response.statusCode !== 200) state.failed += 1;
      })
      .catch(() => {
        state.failed += 1;
      });
  };
  return { post, state, close: () => Promise.all(pools.map((pool) => pool.close())) };
}

export async function postAtRate(options: OpenLoopOptions): Promise<{ sent: number; failed: number }> {
  const { post, state, close } = poster(options, 128);
  const total = Math.round(options.rate * options.seconds);
  const started = performance.now();
  let sent = 0;
  const pending: Array<Promise<void>> = [];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.rate));
      while (sent < due) pending.push(post(sent++));
      if (sent >= total || options.signal?.aborted === true) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(pending);
  await close();
  return { sent, failed: state.failed };
}

/** Posts `total` messages with `concurrency` in flight (each connection sends its next on the reply). */
export async function postAll(options: PostOptions & { total: number; concurrency: number }): Promise<{ sent: number; failed: number }> {
  const { post, state, close } = poster(options, options.concurrency);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.total) await post(next++);
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  await close();
  return { sent: next, failed: state.failed };
}
