import { LeaderElection, LockSession, OpenLockSession } from './leader-election';

const POLL_MS = 100;

/** One advisory lock on one server, and the sessions that reach it. */
class FakeDatabase {
  holder?: FakeSession;
  refuseConnections = 0;

  opener(opened: number[]): OpenLockSession {
    return (onLost) => {
      opened.push(Date.now());
      if (this.refuseConnections > 0) {
        this.refuseConnections -= 1;
        // as pg does: the failed client also emits 'error' and 'end'
        onLost(new Error('connection refused'));
        onLost();
        return Promise.reject(new Error('connection refused'));
      }
      return Promise.resolve(new FakeSession(this, onLost));
    };
  }
}

class FakeSession implements LockSession {
  ended = false;

  constructor(
    private readonly database: FakeDatabase,
    private readonly onLost: (error?: Error) => void,
  ) {}

  tryLock(): Promise<boolean> {
    if (this.ended) return Promise.reject(new Error('connection ended'));
    this.database.holder ??= this;
    return Promise.resolve(this.database.holder === this);
  }

  ping(): Promise<void> {
    return this.ended ? Promise.reject(new Error('connection ended')) : Promise.resolve();
  }

  close(): Promise<void> {
    this.end();
    return Promise.resolve();
  }

  /** The server ends the session (and so frees the lock); `notify`: the client hears of it. */
  terminate(notify: boolean): void {
    this.end();
    if (notify) this.onLost(new Error('terminating connection due to administrator command'));
  }

  private end(): void {
    this.ended = true;
    if (this.database.holder === this) this.database.holder = undefined;
  }
}

function election(database: FakeDatabase, maxBackoffMs?: number): { sut: LeaderElection; opened: number[]; changes: boolean[] } {
  const opened: number[] = [];
  const sut = new LeaderElection(database.opener(opened), { pollMs: POLL_MS, maxBackoffMs });
  const changes: boolean[] = [];
  sut.changes.subscribe((leading) => changes.push(leading));
  return { sut, opened, changes };
}

describe('LeaderElection', () => {
  let database: FakeDatabase;
  let started: LeaderElection[];

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    database = new FakeDatabase();
    started = [];
  });

  afterEach(async () => {
    await Promise.all(started.map((sut) => sut.stop()));
    jest.useRealTimers();
  });

  const start = async (sut: LeaderElection): Promise<void> => {
    started.push(sut);
    await sut.start();
  };

  it('the first instance to start leads as soon as start() resolves; the next one follows', async () => {
    const a = election(database);
    const b = election(database);
    await start(a.sut);
    await start(b.sut);
    expect([a.sut.isLeader, b.sut.isLeader]).toEqual([true, false]);
    await jest.advanceTimersByTimeAsync(10 * POLL_MS);
    expect([a.sut.isLeader, b.sut.isLeader]).toEqual([true, false]);
    expect(a.changes).toEqual([false, true]);
    expect(b.changes).toEqual([false]);
  });

  it('a follower takes over at its next poll once the leader stops, and the stopped leader steps down', async () => {
    const a = election(database);
    const b = election(database);
    await start(a.sut);
    await start(b.sut);
    await a.sut.stop();
    expect(a.sut.isLeader).toBe(false);
    expect(b.sut.isLeader).toBe(false);
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(b.sut.isLeader).toBe(true);
    expect(a.changes).toEqual([false, true, false]);
    expect(b.changes).toEqual([false, true]);
  });

  it('a leader whose connection is lost steps down at once, then reconnects with doubling backoff and follows', async () => {
    const a = election(database);
    const b = election(database);
    await start(a.sut);
    await start(b.sut);
    database.refuseConnections = 3;
    const lostAt = Date.now();
    (database.holder as FakeSession).terminate(true);
    // synchronously: no timer has run yet
    expect(a.sut.isLeader).toBe(false);
    await jest.advanceTimersByTimeAsync(20 * POLL_MS);
    expect(b.sut.isLeader).toBe(true);
    expect(a.sut.isLeader).toBe(false);
    // three refused reconnects, then one that succeeds: 1, 2, 4 and 8 polls after the loss
    expect(a.opened.slice(1).map((at) => (at - lostAt) / POLL_MS)).toEqual([1, 3, 7, 15]);
    expect(a.changes).toEqual([false, true, false]);
  });

  it('a leader whose session ended unnoticed finds out at its next poll and steps down', async () => {
    const a = election(database);
    const b = election(database);
    await start(a.sut);
    await start(b.sut);
    (database.holder as FakeSession).terminate(false);
    // another instance may lead meanwhile: the overlap lasts until the leader's next ping
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(b.sut.isLeader).toBe(true);
    expect(a.sut.isLeader).toBe(false);
    expect(a.changes).toEqual([false, true, false]);
  });

  it('backs off no further than maxBackoffMs while the database refuses connections', async () => {
    database.refuseConnections = 100;
    const a = election(database, 4 * POLL_MS);
    await start(a.sut);
    expect(a.sut.isLeader).toBe(false);
    await jest.advanceTimersByTimeAsync(20 * POLL_MS);
    const gaps = a.opened.slice(1).map((at, index) => (at - a.opened[index]) / POLL_MS);
    expect(gaps).toEqual([1, 2, 4, 4, 4, 4]);
    database.refuseConnections = 0;
    await jest.advanceTimersByTimeAsync(4 * POLL_MS);
    expect(a.sut.isLeader).toBe(true);
  });

  it('opens nothing and keeps no timer after stop()', async () => {
    const a = election(database);
    await start(a.sut);
    await a.sut.stop();
    const opens = a.opened.length;
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(100 * POLL_MS);
    expect(a.opened.length).toBe(opens);
    expect(database.holder).toBeUndefined();
  });

  describe('every()', () => {
    it('runs the task only while leading: at once on taking over, then every interval', async () => {
      const a = election(database);
      const b = election(database);
      await start(a.sut);
      await start(b.sut);
      const runs: string[] = [];
      const onA = a.sut.every(3 * POLL_MS, () => Promise.resolve(runs.push('a')));
      const onB = b.sut.every(3 * POLL_MS, () => Promise.resolve(runs.push('b')));
      await jest.advanceTimersByTimeAsync(6 * POLL_MS);
      expect(runs).toEqual(['a', 'a', 'a']);
      await a.sut.stop();
      await jest.advanceTimersByTimeAsync(POLL_MS);
      // b took over: it runs at once, not a whole interval later
      expect(runs).toEqual(['a', 'a', 'a', 'b']);
      await Promise.all([onA.stop(), onB.stop()]);
    });

    it('never starts a run while the last one is in hand, and stop() waits for it', async () => {
      const a = election(database);
      await start(a.sut);
      let finish = (): void => undefined;
      let runs = 0;
      const task = a.sut.every(POLL_MS, () => {
        runs += 1;
        return new Promise<void>((resolve) => (finish = resolve));
      });
      await jest.advanceTimersByTimeAsync(10 * POLL_MS);
      expect(runs).toBe(1);
      let stopped = false;
      const stopping = task.stop().then(() => (stopped = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(stopped).toBe(false);
      finish();
      await stopping;
      expect(stopped).toBe(true);
      await jest.advanceTimersByTimeAsync(10 * POLL_MS);
      expect(runs).toBe(1);
    });
  });
});
