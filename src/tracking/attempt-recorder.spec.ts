import { createAttemptRecorder } from './attempt-recorder';
import type { AttemptRecord } from './outbox.repository';

function record(callbackId: string): AttemptRecord {
  return { callbackId, attemptedAt: new Date(), httpStatus: 200, error: null, durationMs: 1, outcome: { state: 'sent' } };
}

function setup() {
  const outbox = {
    down: false,
    writes: [] as string[][],
    recordAttempts: (records: AttemptRecord[]): Promise<void> => {
      outbox.writes.push(records.map((entry) => entry.callbackId));
      return outbox.down ? Promise.reject(new Error('database unreachable')) : Promise.resolve();
    },
  };
  const sut = createAttemptRecorder(outbox, { lingerMs: 5, fullBatch: 3, maxBatch: 100 });
  return { outbox, sut };
}

describe('attempt recorder', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('a lone record waits 5 ms for company; a full batch goes at once', async () => {
    const { outbox, sut } = setup();
    void sut.submit(record('a'));
    await jest.advanceTimersByTimeAsync(4);
    expect(outbox.writes).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(outbox.writes).toEqual([['a']]);
    for (const id of ['b', 'c', 'd']) void sut.submit(record(id));
    await jest.advanceTimersByTimeAsync(0);
    expect(outbox.writes).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('a record is never dropped while the database is down: the batch is retried with backoff, in order, and claims wait (retrying)', async () => {
    const { outbox, sut } = setup();
    outbox.down = true;
    const committed: string[] = [];
    const pending = ['a', 'b'].map((id) => sut.submit(record(id)).then(() => void committed.push(id)));
    await jest.advanceTimersByTimeAsync(5);
    expect(sut.retrying).toBe(true);
    pending.push(sut.submit(record('c')).then(() => void committed.push('c')));
    await jest.advanceTimersByTimeAsync(10_000);
    expect(outbox.writes.length).toBeGreaterThan(3);
    expect(committed).toEqual([]);
    outbox.down = false;
    await jest.advanceTimersByTimeAsync(2_000);
    await Promise.all(pending);
    expect(committed).toEqual(['a', 'b', 'c']);
    expect(outbox.writes.at(-1)).toEqual(['a', 'b', 'c']);
    expect(sut.retrying).toBe(false);
  });

  it('at shutdown a failing write gets one last try and is then given up (the lease brings the callback back)', async () => {
    const { outbox, sut } = setup();
    outbox.down = true;
    const given = sut.submit(record('a')).catch((error: Error) => error.message);
    await jest.advanceTimersByTimeAsync(5);
    sut.stop();
    await jest.advanceTimersByTimeAsync(0);
    expect(await given).toBe('database unreachable');
    expect(outbox.writes).toEqual([['a'], ['a']]);
  });
});
