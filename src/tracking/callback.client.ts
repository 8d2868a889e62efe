import { Agent, Dispatcher } from 'undici';

import { CallbackAddressGuard } from './address-guard';

export interface CallbackAttemptResult {
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
}

export interface ExchangeRequest {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export interface ExchangeResult {
  httpStatus: number | null;
  /** the body of a 2xx reply */
  text: string | null;
  error: string | null;
  durationMs: number;
}

export interface CallbackClientOptions {
  /** Total time for one attempt: address check, waiting for a free connection, connect, headers and body. */
  timeoutMs?: number;
  /** Open connections kept per origin. */
  connections?: number;
}

const MAX_BODY_BYTES = 64 * 1024;
const MAX_MESSAGE_CHARS = 200;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * One GET to a callback URL, never following a redirect (its target was never checked), sent to the address the guard
 * approved with the original Host (undici's TLS server name, so certificates are checked). Never throws.
 */
export class CallbackClient {
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(
    private readonly guard: CallbackAddressGuard,
    options: CallbackClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.agent = new Agent({ connections: options.connections ?? 16 });
  }

  async send(url: string, options: { timeoutMs?: number } = {}): Promise<CallbackAttemptResult> {
    const reply = await this.exchange(url, { method: 'GET', timeoutMs: options.timeoutMs });
    if (reply.error !== null || reply.text === null) return { ok: false, httpStatus: reply.httpStatus, error: reply.error, durationMs: reply.durationMs };
    const error = replyError(reply.text);
    return { ok: error === null, httpStatus: reply.httpStatus, error, durationMs: reply.durationMs };
  }

  /**
   * One request through the guard: `text` is the 2xx reply's body; `error` says why there is none (refused, network,
   * timeout, a status other than 2xx, a body over 64 KiB).
   */
  async exchange(url: string, request: ExchangeRequest): Promise<ExchangeResult> {
    const started = performance.now();
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    // cleared when the attempt ends: AbortSignal.timeout's would fire long after every answer
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('callback attempt timed out', 'TimeoutError')), timeoutMs);
    // as AbortSignal.timeout's: a pending attempt does not keep a stopping process alive
    timer.unref();
    const { signal } = controller;
    let httpStatus: number | null = null;
    const result = (error: string | null, text: string | null = null): ExchangeResult => ({
      httpStatus,
      text,
      error,
      durationMs: Math.round(performance.now() - started),
    });

    try {
      const target = new URL(url);
      const check = await raceAbort(this.guard.check(target), signal);
      if (!check.ok) return result(`refused by address guard: ${check.reason}`);

      const address = check.family === 6 ? `[${check.address}]` : check.address;
      const { statusCode, body } = await this.agent.request({
        origin: `${target.protocol}//${address}${target.port ? `:${target.port}` : ''}`,
        path: `${target.pathname}${target.search}`,
        method: request.method,
        headers: { ...request.headers, host: target.host, accept: 'application/json' },
        body: request.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
      });
      httpStatus = statusCode;
      if (statusCode < 200 || statusCode >= 300) {
        await body.dump({ limit: MAX_BODY_BYTES }).catch(() => undefined);
        return result(statusCode >= 300 && statusCode < 400 ? `http ${statusCode} (redirect not followed)` : `http ${statusCode}`);
      }
      const text = await readAtMost(body, MAX_BODY_BYTES);
      return text === null ? result('response body over 64 KiB') : result(null, text);
    } catch (error) {
      return result(describeError(error));
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** A reply body as JSON (Smartico's trailing comma forgiven), or undefined. */
export function parseJsonReply(text: string): unknown {
  return parseReply(text);
}

/** null when Smartico's reply says success, else why not. */
function replyError(text: string): string | null {
  const reply = parseReply(text);
  if (reply === undefined) return 'invalid json';
  if (!isRecord(reply) || typeof reply.error_code !== 'number') return 'no numeric error_code in reply';
  if (reply.error_code === 0) return null;
  const message = typeof reply.error_message === 'string' ? `: ${shorten(reply.error_message)}` : '';
  return `error_code ${reply.error_code}${message}`;
}

/** Smartico documents its success reply as `{"error_code": 0,}`, so exactly that trailing comma is forgiven. */
function parseReply(text: string): unknown {
  for (const candidate of [text, text.replace(/,(\s*)\}(\s*)$/, '$1}$2')]) {
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      // try the next form
    }
  }
  return undefined;
}

async function readAtMost(body: Dispatcher.ResponseData['body'], limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    // leaving the loop destroys the stream, so the rest is never read
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error); // a DOMException, from abort() or AbortSignal.timeout()
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describeError(error: unknown): string {
  const { name, code, message } = (error ?? {}) as { name?: string; code?: string; message?: string };
  if (name === 'TimeoutError' || (code && TIMEOUT_CODES.has(code))) return 'timeout';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code && RESET_CODES.has(code)) return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `dns lookup failed: ${code}`;
  if (code === 'ERR_INVALID_URL') return 'invalid url';
  return shorten(`${code ?? name ?? 'error'}: ${message ?? String(error)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shorten(text: string): string {
  return text.replace(/\p{Cc}+/gu, ' ').slice(0, MAX_MESSAGE_CHARS);
}
