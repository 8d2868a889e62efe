import { GroupCommit, retryDelayMs } from './group-commit';

interface Runner {
  batches: number[][];
  fail: (items: number[]) => boolean;
  run: (items: number[]) => Promise<number[]>;
}

function runner(fail: (items: number[]) => boolean = () => false, delayMs = 0): Runner {
  const state: Runner = {
    batches: [],
    fail,
    run: async (items) => {
      state.batches.push(items);
      await new Promise((resolve) => (delayMs ? setTimeout(resolve, delayMs) : resolve(undefined)));
      if (state.fail(items)) throw new Error(`bad batch ${items.join(',')}`);
      return items.map((item) => item * 10);
    },
  };
  return state;
}

describe('GroupCommit', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('gathers what is submitted in one turn into one batch and answers each submitter its own result', async () => {
    const store = runner();
    const sut = new GroupCommit(store.run, { maxBatch: 100, maxInFlight: 1 });
    const results = Promise.all([1, 2, 3].map((item) => sut.submit(item)));
    await jest.advanceTimersByTimeAsync(0);
    expect(await results).toEqual([10, 20, 30]);
    expect(store.batches).toEqual([[1, 2, 3]]);
  });

  it('never runs more than maxInFlight batches: what arrives meanwhile waits and goes next, up to maxBatch items', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const batches: number[][] = [];
    let running = 0;
    let mostRunning = 0;
    const sut = new GroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        mostRunning = Math.max(mostRunning, ++running);
        if (batches.length === 1) await blocked;
        running -= 1;
        return items;
      },
      { maxBatch: 2, maxInFlight: 1 },
    );
    const first = sut.submit(0);
    await jest.advanceTimersByTimeAsync(0);
    const later = [1, 2, 3].map((item) => sut.submit(item));
    await jest.advanceTimersByTimeAsync(10);
    expect(batches).toEqual([[0]]);
    release();
    await jest.advanceTimersByTimeAsync(0);
    expect(await Promise.all([first, ...later])).toEqual([0, 1, 2, 3]);
    expect(batches).toEqual([[0], [1, 2], [3]]);
    expect(mostRunning).toBe(1);
  });

  it('with a linger, gathers items over several turns, and a full batch goes at once', async () => {
    const store = runner();
    const sut = new GroupCommit(store.run, { maxBatch: 3, maxInFlight: 1, lingerMs: 300 });
    const gathered = Promise.all([sut.submit(1)]);
    await jest.advanceTimersByTimeAsync(100);
    const second = sut.submit(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(store.batches).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(await Promise.all([gathered, second])).toEqual([[10], 20]);
    expect(store.batches).toEqual([[1, 2]]);

    const full = Promise.all([4, 5, 6].map((item) => sut.submit(item)));
    await jest.advanceTimersByTimeAsync(0);
    expect(store.batches).toEqual([
      [1, 2],
      [4, 5, 6],
    ]);
    expect(await full).toEqual([40, 50, 60]);
  });

  it('split policy: a failed batch is retried item by item, so only the bad item fails', async () => {
    const store = runner((items) => items.includes(2));
    const sut = new GroupCommit(store.run, { maxBatch: 10, maxInFlight: 1 });
    const results = Promise.allSettled([1, 2, 3].map((item) => sut.submit(item)));
    await jest.advanceTimersByTimeAsync(0);
    expect(await results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: new Error('bad batch 2') },
      { status: 'fulfilled', value: 30 },
    ]);
    expect(store.batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('rejects a batch whose runner answers the wrong number of results', async () => {
    const sut = new GroupCommit<number, number>(() => Promise.resolve([]), { maxBatch: 10, maxInFlight: 1 });
    const result = expect(sut.submit(1)).rejects.toThrow('0 results for 1 items');
    await jest.advanceTimersByTimeAsync(0);
    await result;
  });

  describe('retry policy', () => {
    it('a failed batch is retried whole with backoff, in order, and nothing else overtakes it', async () => {
      let down = true;
      const store = runner(() => down, 10);
      const sut = new GroupCommit(store.run, { maxBatch: 100, maxInFlight: 1, lingerMs: 5, onFailure: 'retry' });
      const settled: number[] = [];
      const first = [1, 2].map((item) => sut.submit(item).then((result) => void settled.push(result)));
      await jest.advanceTimersByTimeAsync(5);
      expect(store.batches).toEqual([[1, 2]]);
      const later = sut.submit(3).then((result) => void settled.push(result));
      await jest.advanceTimersByTimeAsync(10);
      expect(sut.retrying).toBe(true);

      await jest.advanceTimersByTimeAsync(retryDelayMs(1) - 1);
      expect(store.batches).toEqual([[1, 2]]);
      await jest.advanceTimersByTimeAsync(1);
      expect(store.batches).toEqual([
        [1, 2],
        [1, 2, 3],
      ]);
      await jest.advanceTimersByTimeAsync(10 + retryDelayMs(2) - 1);
      expect(store.batches).toHaveLength(2);
      down = false;
      await jest.advanceTimersByTimeAsync(11);
      await Promise.all([...first, later]);
      expect(store.batches[2]).toEqual([1, 2, 3]);
      expect(settled).toEqual([10, 20, 30]);
      expect(sut.retrying).toBe(false);
    });

    it('backs off 200, 400, 800, 1600 ms, then every 2 s', () => {
      expect([1, 2, 3, 4, 5, 9].map(retryDelayMs)).toEqual([200, 400, 800, 1600, 2000, 2000]);
    });

    it('stop() gives what waits one last try at once and then rejects what fails', async () => {
      const store = runner(() => true);
      const sut = new GroupCommit(store.run, { maxBatch: 100, maxInFlight: 1, lingerMs: 5, onFailure: 'retry' });
      const first = sut.submit(1).catch((error: Error) => error.message);
      await jest.advanceTimersByTimeAsync(5);
      expect(sut.retrying).toBe(true);
      sut.stop();
      await jest.advanceTimersByTimeAsync(0);
      expect(await first).toBe('bad batch 1');
      expect(store.batches).toEqual([[1], [1]]);
      const late = sut.submit(2).catch((error: Error) => error.message);
      await jest.advanceTimersByTimeAsync(0);
      expect(await late).toBe('bad batch 2');
      expect(store.batches).toHaveLength(3);
    });

    it('refuses more than one batch in flight (order could not be kept)', () => {
      expect(() => new GroupCommit((items: number[]) => Promise.resolve(items), { maxBatch: 1, maxInFlight: 2, onFailure: 'retry' })).toThrow('maxInFlight 1');
    });
  });
});
