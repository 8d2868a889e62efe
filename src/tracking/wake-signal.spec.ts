import { WakeSignal } from './wake-signal';

describe('WakeSignal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function settled(promise: Promise<void>): () => boolean {
    let done = false;
    void promise.then(() => (done = true));
    return () => done;
  }

  it('a wake-up is never lost: one that comes while nobody waits ends the next wait at once', async () => {
    const sut = new WakeSignal();
    sut.notify();
    const woke = settled(sut.wait(1_000));
    await jest.advanceTimersByTimeAsync(0);
    expect(woke()).toBe(true);
  });

  it('a notify ends a wait in progress, and is used up by it', async () => {
    const sut = new WakeSignal();
    const first = settled(sut.wait(1_000));
    await jest.advanceTimersByTimeAsync(10);
    sut.notify();
    await jest.advanceTimersByTimeAsync(0);
    expect(first()).toBe(true);
    const second = settled(sut.wait(1_000));
    await jest.advanceTimersByTimeAsync(999);
    expect(second()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(second()).toBe(true);
  });

  it('without a notify, a wait ends at its timeout', async () => {
    const sut = new WakeSignal();
    const woke = settled(sut.wait(50));
    await jest.advanceTimersByTimeAsync(49);
    expect(woke()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(woke()).toBe(true);
  });
});
