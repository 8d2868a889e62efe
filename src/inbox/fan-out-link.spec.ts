import { FanOutLink, LinkProbe } from './fan-out-link';

const HEARTBEAT_MS = 200;
// the socket.io PostgreSQL adapter waits 1-3 s before it makes a dropped connection anew
const RECONNECT_MS = 1_500;

/** A link whose connection hears heartbeats while it is up and not half-open, and is made anew RECONNECT_MS after a drop. */
class FakeConnection implements LinkProbe {
  readonly name = 'the fake connection';
  up = false;
  halfOpen = false;
  /** connections dropped */
  resets = 0;
  connections = 0;

  constructor(private readonly link: FanOutLink) {}

  connectAfter(ms: number): void {
    setTimeout(() => {
      this.up = true;
      this.halfOpen = false;
      this.connections += 1;
      this.link.connected();
    }, ms);
  }

  send(): Promise<void> {
    // heard a few milliseconds later, as a NOTIFY would be
    if (this.up && !this.halfOpen) setTimeout(() => this.link.heard(), 5);
    return Promise.resolve();
  }

  reset(): void {
    // while a connection is being made there is nothing to drop
    if (!this.up) return;
    this.resets += 1;
    this.up = false;
    this.connectAfter(RECONNECT_MS);
  }
}

describe('FanOutLink', () => {
  let link: FanOutLink;
  let connection: FakeConnection;

  beforeEach(() => {
    jest.useFakeTimers();
    link = new FanOutLink({ fanOutHeartbeatMs: HEARTBEAT_MS });
    connection = new FakeConnection(link);
  });

  afterEach(() => {
    link.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('is not ready before the link has carried a heartbeat, and ready once it has', async () => {
    link.attach(connection);
    connection.connectAfter(100);
    expect(link.problem).toMatch(/no heartbeat yet/);
    await jest.advanceTimersByTimeAsync(150);
    expect(link.problem).toBeNull();
  });

  it('keeps a first connection that takes longer than three heartbeats to make', async () => {
    link.attach(connection);
    connection.connectAfter(RECONNECT_MS);
    await jest.advanceTimersByTimeAsync(RECONNECT_MS + 3 * HEARTBEAT_MS);
    expect(link.problem).toBeNull();
    expect(connection.connections).toBe(1);
    expect(connection.up).toBe(true);
  });

  it('re-makes a half-open connection, and keeps the new one although it took longer than the window to make', async () => {
    link.attach(connection);
    connection.connectAfter(10);
    await jest.advanceTimersByTimeAsync(500);
    expect(link.problem).toBeNull();

    connection.halfOpen = true;
    await jest.advanceTimersByTimeAsync(4 * HEARTBEAT_MS + 10);
    expect(link.problem).toMatch(/the fake connection has carried no heartbeat/);
    expect(connection.resets).toBe(1);

    await jest.advanceTimersByTimeAsync(RECONNECT_MS + 3 * HEARTBEAT_MS);
    expect(link.problem).toBeNull();
    expect(connection.connections).toBe(2);
    expect(connection.resets).toBe(1);
  });

  it('tells its listeners when heartbeats are heard again, once per recovery', async () => {
    const recoveries: number[] = [];
    link.onRecovered(() => recoveries.push(Date.now()));
    link.attach(connection);
    connection.connectAfter(10);
    await jest.advanceTimersByTimeAsync(500);
    connection.halfOpen = true;
    await jest.advanceTimersByTimeAsync(RECONNECT_MS + 10 * HEARTBEAT_MS);
    expect(recoveries).toHaveLength(2);
  });

  it('re-makes a new connection that never carries a heartbeat, a window after it was made', async () => {
    link.attach(connection);
    connection.connectAfter(10);
    await jest.advanceTimersByTimeAsync(500);
    connection.halfOpen = true;
    // the re-made connection is half-open too: it is given its window, then dropped again
    const connectAfter = connection.connectAfter.bind(connection);
    connection.connectAfter = (ms) => {
      connectAfter(ms);
      setTimeout(() => (connection.halfOpen = true), ms);
    };
    await jest.advanceTimersByTimeAsync(4 * HEARTBEAT_MS + 10 + RECONNECT_MS);
    expect(connection.resets).toBe(1);
    await jest.advanceTimersByTimeAsync(4 * HEARTBEAT_MS);
    expect(connection.resets).toBe(2);
    expect(link.problem).not.toBeNull();
  });
});
