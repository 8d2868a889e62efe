import type { Pool, PoolClient, QueryResult } from 'pg';

const LISTEN_SETTLE_MS = 2_000;

/**
 * The pool the socket.io PostgreSQL adapter takes its LISTEN connection from. Once closed, gives the adapter no
 * failure to retry, so no reconnect outlives the app (src/inbox/README.md). It holds one LISTEN connection at a
 * time: when a connection dies in the middle of the adapter's LISTEN, the adapter schedules two reconnections
 * (one on `end`, one on the failed statement) and would keep two connections, hearing every message twice and
 * holding the pool's connections until heartbeats and announcements wait for one; a new connection retires the last.
 */
export class FanOutPool {
  private closed = false;
  private readonly checkedOut = new Map<PoolClient, Set<Promise<unknown>>>();

  /** Runs on each connection handed to the adapter, before it LISTENs there (the link's heartbeat is heard on it). */
  onListenClient?: (client: PoolClient) => Promise<void>;

  constructor(private readonly pool: Pool) {}

  /** Drops a connection handed out, at the socket: a half-open one would never end by itself. The adapter re-makes it on its `end`. */
  drop(client: PoolClient): void {
    if (!this.checkedOut.delete(client)) return;
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }

  query(text: string, values?: unknown[]): Promise<QueryResult> {
    return this.pool.query(text, values);
  }

  async connect(): Promise<PoolClient> {
    if (this.closed) return never();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      if (this.closed) return never();
      throw error;
    }
    if (this.closed) {
      client.release(true);
      return never();
    }
    for (const previous of [...this.checkedOut.keys()]) this.retire(previous);
    const inFlight = new Set<Promise<unknown>>();
    this.checkedOut.set(client, inFlight);
    // tracked while the adapter holds it: end() waits for its LISTENs
    const tracked = client as unknown as { query: (...args: unknown[]) => unknown };
    tracked.query = (...args: unknown[]) => {
      const running = (Object.getPrototypeOf(client) as typeof tracked).query.apply(client, args);
      if (running instanceof Promise) {
        inFlight.add(running);
        const settled = (): void => void inFlight.delete(running);
        running.then(settled, settled);
      }
      return running;
    };
    const release = client.release.bind(client);
    let released = false;
    client.release = (destroy?: Error | boolean) => {
      // the adapter releases the client it last knew of on close, which may be one retired already
      if (released) return;
      released = true;
      this.checkedOut.delete(client);
      delete (tracked as { query?: unknown }).query;
      release(destroy);
    };
    // the adapter drops a connection that ended without releasing it: the pool would count it as taken for good,
    // and after `max` of them no heartbeat or announcement would get a connection
    client.once('end', () => client.release(true));
    try {
      await this.onListenClient?.(client);
    } catch (error) {
      client.release(true);
      throw error;
    }
    return client;
  }

  async end(): Promise<void> {
    this.closed = true;
    for (const [client, inFlight] of [...this.checkedOut]) {
      const deadline = Date.now() + LISTEN_SETTLE_MS;
      // one statement settles, the adapter's next may follow in the same tick: wait for a quiet one
      while (inFlight.size > 0 && Date.now() < deadline) {
        await Promise.race([Promise.allSettled(inFlight), new Promise((resolve) => setTimeout(resolve, deadline - Date.now()).unref())]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      this.retire(client);
    }
    await this.pool.end();
  }

  /** Closes a connection handed out without the adapter hearing of it: no `end` to reconnect on, no message heard twice. */
  private retire(client: PoolClient): void {
    client.removeAllListeners('end');
    client.removeAllListeners('notification');
    client.release(true);
  }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
