/**
 * Gateway load with autocannon: each request is a ~1 KB Custom IM with a fresh im_uid (`[<id>]` in
 * the template, replaced per request in `setupRequest`: autocannon 8's own `idReplacement` sets a
 * Content-Length for 27-character ids while its hyperid makes 24, so the server waits for bytes that
 * never come), one request in flight per connection (`-p 1`). Latencies are recorded at µs
 * resolution from autocannon's per-response times (its own histogram rounds to whole ms).
 */
import { randomUUID } from 'node:crypto';

import autocannon from 'autocannon';

import { summarize, Summary } from './stats';

export const PAYLOAD_BODY = 'x'.repeat(700);

/** The body of one Custom IM; `[<id>]` is replaced per request. */
export function customImTemplate(callbackUrl: string, player = 'bench-player-[<id>]'): string {
  return JSON.stringify({
    ext_user_id: player,
    body: PAYLOAD_BODY,
    im_uid: 'bench-[<id>]',
    callback_url: callbackUrl,
    extension: {
      title: 'Weekend reload bonus',
      description: '50% up to 100 EUR',
      image_url: 'https://cdn.example.com/b.png',
      cta_link: 'https://example.com/promo',
      priority: 'normal',
    },
  });
}

export interface LoadTarget {
  url: string;
  headers?: Record<string, string>;
  /** a template whose `[<id>]` is replaced per request, or a function making each body */
  body: string | (() => string);
}

export interface LoadResult {
  requests: number;
  non2xx: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  latency: Summary;
}

export async function load(target: LoadTarget, options: { connections: number; seconds: number; rate?: number }): Promise<LoadResult> {
  const samples: number[] = [];
  const { body } = target;
  const nextBody = typeof body === 'function' ? body : (): string => body.replaceAll('[<id>]', randomUUID());
  // without a callback autocannon returns an emitter that is also a promise of the result
  const instance = autocannon({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    requests: [{ setupRequest: (request) => ({ ...request, body: nextBody() }) }],
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    overallRate: options.rate,
    timeout: 30,
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  // `on` hands back the instance, which is also the run's promise, awaited below
  void instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) samples.push(responseTime);
  });
  const result = await instance;
  const requests = result.requests.total;
  return {
    requests,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    requestsPerSecond: requests / result.duration,
    latency: summarize(samples),
  };
}
