/**
 * Open-loop posting at a fixed rate (requests go out on schedule whether or not earlier ones have
 * been answered, so a slow server shows up as latency, not as a politely slower client).
 */
import { Pool } from 'undici';

export interface OpenLoopOptions {
  /** one server, or several: then `route` picks each post's (as a load balancer would) */
  url: string | string[];
  route?(index: number): number;
  path: string;
  headers?: Record<string, string>;
  rate: number;
  seconds: number;
  /** stops sending early (the posts already out are still awaited) */
  signal?: AbortSignal;
  body(index: number): string;
  onSent?(index: number, at: number): void;
  onReply?(index: number, at: number, text: string): void;
}

export async function postAtRate(options: OpenLoopOptions): Promise<{ sent: number; failed: number }> {
  const urls = typeof options.url === 'string' ? [options.url] : options.url;
  const pools = urls.map((url) => new Pool(url, { connections: 128, pipelining: 1 }));
  const total = Math.round(options.rate * options.seconds);
  const started = performance.now();
  let sent = 0;
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const headers = { 'content-type': 'application/json', ...options.headers };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.rate));
      while (sent < due) {
        const index = sent++;
        const body = options.body(index);
        options.onSent?.(index, performance.now());
        pending.push(
          pools[options.route?.(index) ?? 0]
            .request({ path: options.path, method: 'POST', headers, body })
            .then(async (response) => {
              const text = await response.body.text();
              options.onReply?.(index, performance.now(), text);
              if (response.statusCode !== 200) failed += 1;
            })
            .catch(() => {
              failed += 1;
            }),
        );
      }
      if (sent >= total || options.signal?.aborted === true) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(pending);
  await Promise.all(pools.map((pool) => pool.close()));
  return { sent, failed };
}
