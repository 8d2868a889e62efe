import { GroupCommit } from './group-commit';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('gathers what is submitted in one turn into one batch and answers each submitter its own result', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, string>(
      async (items) => {
        batches.push(items);
        return items.map((item) => `r${item}`);
      },
      { maxBatch: 100, maxInFlight: 1 },
    );
    const results = await Promise.all([1, 2, 3].map((item) => group.submit(item)));
    expect(results).toEqual(['r1', 'r2', 'r3']);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('queues work while maxInFlight batches run and sends it as the next batch, up to maxBatch items', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const group = new GroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await blocked;
        return items;
      },
      { maxBatch: 2, maxInFlight: 1 },
    );
    const first = group.submit(0);
    await tick();
    const later = [1, 2, 3].map((item) => group.submit(item));
    await tick();
    expect(batches).toEqual([[0]]);
    release();
    expect(await Promise.all([first, ...later])).toEqual([0, 1, 2, 3]);
    expect(batches).toEqual([[0], [1, 2], [3]]);
  });

  it('with a linger, gathers items submitted over several turns into one batch, and sends a full batch at once', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        return items;
      },
      { maxBatch: 3, maxInFlight: 1, lingerMs: 300 },
    );
    const first = group.submit(1);
    await tick();
    const second = group.submit(2);
    await tick();
    expect(batches).toEqual([]);
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(batches).toEqual([[1, 2]]);
    const started = Date.now();
    expect(await Promise.all([4, 5, 6].map((item) => group.submit(item)))).toEqual([4, 5, 6]);
    expect(batches).toEqual([
      [1, 2],
      [4, 5, 6],
    ]);
    // a full batch does not wait out the linger
    expect(Date.now() - started).toBeLessThan(150);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const calls: number[][] = [];
    const group = new GroupCommit<number, number>(
      async (items) => {
        calls.push(items);
        if (items.includes(2)) throw new Error('bad item 2');
        return items.map((item) => item * 10);
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3].map((item) => group.submit(item)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: new Error('bad item 2') },
      { status: 'fulfilled', value: 30 },
    ]);
    expect(calls).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('rejects a batch whose runner answers the wrong number of results', async () => {
    const group = new GroupCommit<number, number>(async () => [], { maxBatch: 10, maxInFlight: 1 });
    await expect(group.submit(1)).rejects.toThrow('0 results for 1 items');
  });
});
