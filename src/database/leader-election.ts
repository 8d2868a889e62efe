import { Client } from 'pg';
import { BehaviorSubject, filter, Observable } from 'rxjs';

/** One database session that can hold the leader lock; the lock lives and dies with it. */
export interface LockSession {
  tryLock(): Promise<boolean>;
  /** A round trip: fails once the session, and so the lock, is gone. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a session; `onLost` is called when it errors or ends on its own. */
export type OpenLockSession = (onLost: (error?: Error) => void) => Promise<LockSession>;

export interface LeaderElectionOptions {
  pollMs: number;
  /** reconnects back off from `pollMs`, doubling up to this */
  maxBackoffMs?: number;
  warn?: (message: string, error?: Error) => void;
}

export interface PeriodicTask {
  /** Stops the schedule and waits for the run in hand. */
  stop(): Promise<void>;
}

const DEFAULT_MAX_BACKOFF_MS = 30_000;

/**
 * Leader election on a session-level advisory lock (src/tracking/README.md, "One leader"): tried at
 * start and every `pollMs`; the leader pings its session as often and steps down as soon as it is lost.
 */
export class LeaderElection {
  private readonly leading$ = new BehaviorSubject(false);
  private session?: LockSession;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly open: OpenLockSession,
    private readonly options: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading$.value;
  }

  /** The current state, then each change. */
  get changes(): Observable<boolean> {
    return this.leading$.asObservable();
  }

  /** The first attempt is awaited, so a lone instance leads once it has booted. */
  async start(): Promise<void> {
    this.stopped = false;
    this.ticking = this.tick();
    await this.ticking;
  }

  /** Closing the session releases the lock: the next instance takes it within its poll. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const session = this.session;
    this.session = undefined;
    this.setLeading(false);
    await session?.close().catch(() => undefined);
  }

  /** Runs `task` every `ms` while leading, and at once on taking over; never two runs at a time. */
  every(ms: number, task: () => Promise<unknown>): PeriodicTask {
    let running: Promise<unknown> | undefined;
    const run = (): void => {
      if (!this.isLeader) return;
      running ??= task()
        .catch((error: Error) => this.options.warn?.('leader task failed', error))
        .finally(() => (running = undefined));
    };
    const timer = setInterval(run, ms);
    const subscription = this.leading$.pipe(filter(Boolean)).subscribe(run);
    return {
      stop: async () => {
        clearInterval(timer);
        subscription.unsubscribe();
        await running;
      },
    };
  }

  private async tick(): Promise<void> {
    let session = this.session;
    try {
      if (session === undefined) {
        // a failing connect may report its loss before it rejects, while `opened.session` is unset
        const opened: { session?: LockSession } = {};
        session = opened.session = await this.open((error) => this.lost(opened.session, error));
        if (this.stopped) {
          await session.close();
          return;
        }
        this.session = session;
      }
      if (this.isLeader) await session.ping();
      else if (await session.tryLock()) this.setLeading(true);
      this.failures = 0;
    } catch (error) {
      if (session === undefined) this.failures += 1;
      else this.lost(session, error as Error);
    }
    this.schedule();
  }

  private lost(session: LockSession | undefined, error?: Error): void {
    if (session === undefined || session !== this.session) return;
    this.session = undefined;
    this.failures += 1;
    // at once, not at the next poll: another instance may be taking the lock already
    this.setLeading(false);
    this.options.warn?.('leader lock connection lost; reconnecting', error);
    void session.close().catch(() => undefined);
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const { pollMs, maxBackoffMs = DEFAULT_MAX_BACKOFF_MS } = this.options;
    const delay = this.failures === 0 ? pollMs : Math.min(pollMs * 2 ** (this.failures - 1), Math.max(pollMs, maxBackoffMs));
    this.timer = setTimeout(() => {
      this.ticking = this.tick();
    }, delay);
  }

  private setLeading(leading: boolean): void {
    if (this.leading$.value !== leading) this.leading$.next(leading);
  }
}

// A server that stops hearing from the leader's host drops its session, and so the lock, in about
// idle + interval × count seconds, not after the system default of two hours.
const SERVER_KEEPALIVES = 'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3';

/** A dedicated connection (not from the request pool) holding `pg_try_advisory_lock(key)`. */
export function advisoryLockSession(connectionString: string, key: number, timeoutMs: number): OpenLockSession {
  return async (onLost) => {
    const client = new Client({
      connectionString,
      application_name: 'cim-inbox-leader',
      // a dead server or network is noticed here too, not only by the next query
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: timeoutMs,
      // a ping that hangs (network gone) fails, so the leader steps down
      query_timeout: timeoutMs,
    });
    // an unhandled 'error' would end the process
    client.on('error', (error: Error) => onLost(error));
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(SERVER_KEEPALIVES);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return {
      tryLock: async () => {
        const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
        return result.rows[0].locked;
      },
      ping: async () => void (await client.query('SELECT 1')),
      // with a query hung on a dead socket, end() destroys the socket rather than waiting
      close: () => client.end(),
    };
  };
}
