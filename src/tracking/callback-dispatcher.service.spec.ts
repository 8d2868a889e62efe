import { Subject } from 'rxjs';

import type { AppConfig } from '../config/app.config';
import type { MessageEvents } from '../messages/message-events';
import type { Metrics } from '../metrics/metrics.service';
import type { CallbackAttemptResult, CallbackClient } from './callback.client';
import { CALLBACK_CLAIM_BATCH, CallbackDispatcher } from './callback-dispatcher.service';
import type { AttemptRecord, ClaimedCallback, OutboxRepository } from './outbox.repository';

const CONCURRENCY = 4;
const POLL_MS = 1_000;

function callbacks(count: number, url: string, prefix: string): ClaimedCallback[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}${index}`,
    message_id: `m-${prefix}${index}`,
    status: 'delivered',
    attempts: 0,
    window_started_at: new Date(),
    callback_url: url,
    gateway_id: 'default',
  }));
}

/** An outbox of `due` callbacks and a receiver, each answering as the test says. */
function setup(due: ClaimedCallback[], send: (url: string) => Promise<CallbackAttemptResult>) {
  const queue = [...due];
  const fake = {
    claims: 0,
    sent: [] as string[],
    recorded: [] as string[],
    released: [] as string[],
    record: (records: AttemptRecord[]): Promise<void> => {
      fake.recorded.push(...records.map((record) => record.callbackId));
      return Promise.resolve();
    },
  };
  const outbox = {
    claimDue: (limit: number) => {
      fake.claims += 1;
      return Promise.resolve(queue.splice(0, limit));
    },
    recordAttempts: (records: AttemptRecord[]) => fake.record(records),
    releaseClaims: (ids: string[]) => {
      fake.released.push(...ids);
      return Promise.resolve();
    },
  };
  const client = {
    send: (href: string) => {
      const url = new URL(href);
      fake.sent.push(url.searchParams.get('ext_message_id') ?? href);
      return send(url.origin);
    },
    close: () => Promise.resolve(),
  };
  const config = {
    gateways: [{ id: 'default', authorization: 'secret', apiKey: 'key' }],
    callbacks: { concurrency: CONCURRENCY, pollMs: POLL_MS, leaseMs: 60_000, retryBaseMs: 1_000, retryMaxMs: 60_000, retryWindowMs: 3_600_000 },
  } as unknown as AppConfig;
  const events = { changed: new Subject() } as unknown as MessageEvents;
  const metrics = { callbacks: { inc: () => undefined } } as unknown as Metrics;
  const sut = new CallbackDispatcher(config, outbox as unknown as OutboxRepository, client as unknown as CallbackClient, events, metrics);
  return { fake, queue, sut };
}

const ok = (): Promise<CallbackAttemptResult> => Promise.resolve({ ok: true, httpStatus: 200, error: null, durationMs: 1 });

describe('CallbackDispatcher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('never more than CALLBACK_CONCURRENCY + 50 sent and unrecorded, while records do not commit', async () => {
    const { fake, sut } = setup(callbacks(500, 'https://cb.example/hook', 'c'), ok);
    let commit!: () => void;
    const stuck = new Promise<void>((resolve) => (commit = resolve));
    fake.record = async (records) => {
      await stuck;
      fake.recorded.push(...records.map((record) => record.callbackId));
    };
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(fake.sent).toHaveLength(CONCURRENCY + CALLBACK_CLAIM_BATCH);
    commit();
    await jest.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(fake.sent.length).toBeGreaterThan(CONCURRENCY + CALLBACK_CLAIM_BATCH);
    const stopped = sut.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(100);
    await stopped;
  });

  it('a hanging receiver only holds its own slots: the others keep flowing', async () => {
    const hanging = callbacks(20, 'https://hangs.example/hook', 'h');
    const fine = callbacks(200, 'https://fine.example/hook', 'f');
    const due = hanging.flatMap((callback, index) => [callback, ...fine.slice(index * 10, index * 10 + 10)]);
    const { fake, sut } = setup(due, (origin) => (origin === 'https://hangs.example' ? new Promise(() => undefined) : ok()));
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(30 * POLL_MS);
    expect(fake.sent.filter((id) => id.startsWith('m-h'))).toHaveLength(CONCURRENCY);
    expect(fake.sent.filter((id) => id.startsWith('m-f'))).toHaveLength(fine.length);
    expect(fake.recorded).toHaveLength(fine.length);
  });

  it('makes no claim while an attempt record waits for its retry, and resumes once it commits', async () => {
    const { fake, queue, sut } = setup(callbacks(3, 'https://cb.example/hook', 'a'), ok);
    let down = true;
    fake.record = (records) => {
      if (down) return Promise.reject(new Error('database unreachable'));
      fake.recorded.push(...records.map((record) => record.callbackId));
      return Promise.resolve();
    };
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(100);
    expect(fake.sent).toHaveLength(3);
    const claimsWhileDown = fake.claims;
    queue.push(...callbacks(10, 'https://cb.example/hook', 'b'));
    sut.wake();
    await jest.advanceTimersByTimeAsync(20 * POLL_MS);
    expect(fake.claims).toBe(claimsWhileDown);
    expect(fake.sent).toHaveLength(3);
    down = false;
    await jest.advanceTimersByTimeAsync(20 * POLL_MS);
    expect(fake.claims).toBeGreaterThan(claimsWhileDown);
    expect(fake.recorded.sort()).toEqual([...callbacks(3, '', 'a'), ...callbacks(10, '', 'b')].map(({ id }) => id).sort());
    const stopped = sut.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(100);
    await stopped;
  });

  it('at shutdown finishes the sends in hand, records them and releases the unsent claims', async () => {
    const { fake, sut } = setup(callbacks(30, 'https://slow.example/hook', 's'), () => new Promise((resolve) => setTimeout(() => void resolve(ok()), 500)));
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(100);
    expect(fake.sent).toHaveLength(CONCURRENCY);
    const stopped = sut.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(1_000);
    await stopped;
    expect(fake.recorded.sort()).toEqual(fake.sent.map((id) => id.slice(2)).sort());
    expect(fake.released).toHaveLength(30 - CONCURRENCY);
    expect(new Set([...fake.released, ...fake.recorded]).size).toBe(30);
  });

  it('a wake-up is never lost: a local change is looked at before the next poll', async () => {
    const { fake, sut } = setup([], ok);
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    const claims = fake.claims;
    sut.wake();
    await jest.advanceTimersByTimeAsync(10);
    expect(fake.claims).toBe(claims + 1);
    const stopped = sut.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(10);
    await stopped;
  });
});
