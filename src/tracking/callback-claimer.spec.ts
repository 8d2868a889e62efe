import { CallbackClaimer } from './callback-claimer';
import type { ClaimedCallback } from './outbox.repository';
import { ReceiverSlots } from './receiver-slots';

const CONCURRENCY = 4;
const BATCH = 10;
const LEASE_MS = 1_000;
const LINGER_MS = 5;

function callbacks(count: number, url = 'https://cb.example/hook', from = 0): ClaimedCallback[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `c${from + index}`,
    message_id: `m${from + index}`,
    status: 'delivered',
    attempts: 0,
    window_started_at: new Date(),
    callback_url: url,
    gateway_id: 'default',
  }));
}

function setup(due: ClaimedCallback[][] = []) {
  const outbox = {
    claims: 0,
    released: [] as string[][],
    claimDue: jest.fn((limit: number) => {
      outbox.claims += 1;
      return Promise.resolve((due.shift() ?? []).slice(0, limit));
    }),
    releaseClaims: jest.fn((ids: string[]) => {
      outbox.released.push(ids);
      return Promise.resolve();
    }),
  };
  const slots = new ReceiverSlots(CONCURRENCY, BATCH);
  const sut = new CallbackClaimer(outbox, slots, { batch: BATCH, leaseMs: LEASE_MS, lingerMs: LINGER_MS }, { warn: jest.fn() });
  const started: string[] = [];
  const start = (held: { callback: ClaimedCallback; receiver: string }): void => {
    slots.take(held.receiver);
    started.push(held.callback.id);
  };
  return { outbox, slots, sut, started, start };
}

describe('CallbackClaimer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('claims ahead while fewer than a slot-load is held for receivers with room, ', async () => {
    const { sut } = setup([callbacks(BATCH), callbacks(BATCH, undefined, BATCH)]);
    expect(sut.wanted()).toBe(true);
    await sut.claim();
    expect(sut.holding).toBe(BATCH);
    expect(sut.wanted()).toBe(false);
  });

  it('callbacks held for a receiver at its share do not count as claimed ahead', async () => {
    const { sut, slots } = setup([callbacks(CONCURRENCY, 'https://busy.example/x')]);
    for (let index = 0; index < CONCURRENCY; index += 1) slots.take('https://busy.example');
    await sut.claim();
    expect(sut.holding).toBe(CONCURRENCY);
    expect(sut.wanted()).toBe(true);
  });

  it('holds at most CALLBACK_CONCURRENCY + a batch, even for receivers at their share', async () => {
    const { sut, slots } = setup([callbacks(BATCH, 'https://busy.example/x'), callbacks(BATCH, 'https://busy.example/x', BATCH)]);
    for (let index = 0; index < CONCURRENCY; index += 1) slots.take('https://busy.example');
    await sut.claim();
    expect(sut.wanted()).toBe(true);
    await sut.claim();
    expect(sut.holding).toBe(2 * BATCH);
    expect(sut.wanted()).toBe(false);
  });

  it('a short claim makes the next one wait LINGER_MS, and the sleep ends with the linger', async () => {
    const { sut } = setup([callbacks(1)]);
    await sut.claim();
    sut.owe();
    expect(sut.due(false)).toBe(false);
    expect(sut.sleepMs(1_000)).toBe(LINGER_MS);
    await jest.advanceTimersByTimeAsync(LINGER_MS);
    expect(sut.due(false)).toBe(true);
  });

  it('no claim while attempt records wait for a retry, nor when nothing happened since the last claim', async () => {
    const { sut } = setup([callbacks(BATCH)]);
    expect(sut.due(true)).toBe(false);
    expect(sut.due(false)).toBe(true);
    await sut.claim();
    expect(sut.due(false)).toBe(false);
  });

  it('a receiver never gets more than CALLBACK_CONCURRENCY of the held callbacks started; the rest wait for a slot', async () => {
    const { sut, started, start, slots } = setup([[...callbacks(6, 'https://a.example/x'), ...callbacks(2, 'https://b.example/y', 6)]]);
    await sut.claim();
    sut.startSendable(start);
    expect(started).toEqual(['c0', 'c1', 'c2', 'c3', 'c6']);
    expect(slots.inUse).toBe(slots.instanceSlots);
    expect(sut.holding).toBe(3);
  });

  it('a callback held past half its lease is not sent (another instance may have claimed it)', async () => {
    const { sut, started, start, slots } = setup([callbacks(2)]);
    await sut.claim();
    for (let index = 0; index < CONCURRENCY; index += 1) slots.take('https://cb.example');
    sut.startSendable(start);
    await jest.advanceTimersByTimeAsync(LEASE_MS / 2 + 1);
    for (let index = 0; index < CONCURRENCY; index += 1) slots.requestEnded('https://cb.example', false);
    sut.startSendable(start);
    expect(started).toEqual([]);
    expect(sut.holding).toBe(0);
  });

  it('releases every unsent claim at shutdown', async () => {
    const { sut, outbox, slots } = setup([callbacks(3)]);
    await sut.claim();
    for (let index = 0; index < CONCURRENCY; index += 1) slots.take('https://cb.example');
    await sut.releaseAll();
    expect(outbox.released).toEqual([['c0', 'c1', 'c2']]);
    expect(sut.holding).toBe(0);
  });
});
