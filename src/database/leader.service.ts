import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Observable } from 'rxjs';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import { Metrics } from '../metrics/metrics.service';
import { advisoryLockSession, LeaderElection, PeriodicTask } from './leader-election';

// distinct from the migration lock (0x43494d31, "CIM1") and the test template lock ("CIMT")
export const LEADER_LOCK = 0x43494d4c; // "CIML"
const MIN_LOCK_TIMEOUT_MS = 2_000;

/** This instance's part in the leader election: periodic work that must run once per cluster asks it (SPEC §6). */
@Injectable()
export class Leader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Leader.name);
  private readonly election: LeaderElection;

  constructor(@Inject(APP_CONFIG) config: AppConfig, metrics: Metrics) {
    const timeoutMs = Math.max(config.leaderPollMs, MIN_LOCK_TIMEOUT_MS);
    this.election = new LeaderElection(advisoryLockSession(config.databaseUrl, LEADER_LOCK, timeoutMs), {
      pollMs: config.leaderPollMs,
      warn: (message, error) => this.logger.warn({ err: error?.message }, message),
    });
    let was = false;
    this.election.changes.subscribe((leading) => {
      metrics.leader.set(leading ? 1 : 0);
      if (leading) this.logger.log('this instance is the leader');
      else if (was) this.logger.warn('this instance is no longer the leader');
      was = leading;
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  /** The current state, then each change. */
  get changes(): Observable<boolean> {
    return this.election.changes;
  }

  /** Runs `task` every `ms` on the leader only (at once on taking over), one run at a time. */
  every(ms: number, task: () => Promise<unknown>): PeriodicTask {
    return this.election.every(ms, task);
  }

  onApplicationBootstrap(): Promise<void> {
    return this.election.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.election.stop();
  }
}
