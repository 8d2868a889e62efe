import { Client } from 'pg';

import { DEFAULT_CALLBACK_CONCURRENCY } from '../../../src/config/env.validation';
import { CALLBACK_CLAIM_BATCH } from '../../../src/tracking/callback-dispatcher.service';

// the app's default CALLBACK_CONCURRENCY; pass the test's own value when it sets one
export { DEFAULT_CALLBACK_CONCURRENCY };

/**
 * Attempts that reached the receiver: it answered (any status), or it accepted the request and then
 * hung or reset. Refused connections and address-guard refusals never did.
 */
export const REACHED_RECEIVER_SQL = `(a.error IS NULL OR a.http_status IS NOT NULL OR a.error IN ('timeout', 'connection reset'))`;

/** What the database held for each (ext_message_id, status) when a sender was killed. */
interface CrashSnapshot {
  /** when the snapshot was taken: after the killed process was gone, before anything was restarted */
  at: number;
  /** attempts recorded so far that reached the receiver, by `${message_id}/${status}` */
  recorded: Map<string, number>;
  /** when other senders kept running: the keys the killed one sent, the only ones it can have left unrecorded */
  sentByKilled?: ReadonlySet<string>;
}

/** One (ext_message_id, status) as the receivers and the database saw it. */
export interface CallbackKeyFacts {
  /** when each request for it arrived at a watched receiver */
  receivedAt: number[];
  /** recorded attempts that reached the receiver */
  attempts: number;
  /** of those, the failed ones (so Smartico heard it and was asked again) */
  failed: number;
  /** of those, the successful ones */
  succeeded: number;
}

export interface DuplicateJudgement {
  problems: string[];
  /** extra receptions of an (ext_message_id, status) */
  duplicates: number;
  /** of those, receptions the database holds no attempt for (lost to a crash between send and record) */
  unrecorded: number;
  /** per crash, how many (ext_message_id, status) it caught sent and not yet recorded */
  lostPerCrash: number[];
}

/**
 * Crashes of the callback sender, and what each may explain. The dispatcher records an attempt
 * only after the request ends, so a `kill -9` can cut off the record of a callback Smartico already
 * has, and that callback is sent again after its lease. Such a duplicate is explained by a crash
 * only if the receiver had heard the key before that crash more often than the database had
 * recorded at that crash (it straddles the crash), at most once per key and crash (a sender holds a
 * callback once), and at most `maxLostPerCrash` keys per crash: the dispatcher never has more than
 * CALLBACK_CONCURRENCY + CALLBACK_CLAIM_BATCH sends started and not yet recorded (it stops starting
 * sends at that bound until records commit), so no crash can lose more records than that. Anything
 * first received after the last crash may be repeated only for a recorded failed attempt.
 */
export class CallbackCrashLog {
  private readonly crashes: CrashSnapshot[] = [];
  readonly maxLostPerCrash: number;

  constructor(callbackConcurrency = DEFAULT_CALLBACK_CONCURRENCY) {
    this.maxLostPerCrash = callbackConcurrency + CALLBACK_CLAIM_BATCH;
  }

  get count(): number {
    return this.crashes.length;
  }

  /**
   * Call once the killed process has exited and before anything takes over its work. While other
   * senders run, pass `sentByKilled`: their sends not yet recorded are not the crash's doing.
   */
  async noteCrash(db: Client, sentByKilled?: ReadonlySet<string>): Promise<void> {
    const at = Date.now();
    const { rows } = await db.query<{ key: string; n: number }>(
      `SELECT c.message_id || '/' || c.status AS key, count(a.id)::int AS n
         FROM callbacks c JOIN callback_attempts a ON a.callback_id = c.id AND ${REACHED_RECEIVER_SQL}
        GROUP BY c.id`,
    );
    this.crashes.push({ at, recorded: new Map(rows.map((row) => [row.key, row.n])), sentByKilled });
  }

  /** Every key received more than once must be explained by recorded failed attempts or by crashes it straddles. */
  judge(facts: Map<string, CallbackKeyFacts>): DuplicateJudgement {
    const problems: string[] = [];
    const lostPerCrash = this.crashes.map(() => 0);
    let duplicates = 0;
    let unrecordedTotal = 0;
    for (const [key, fact] of facts) {
      const count = fact.receivedAt.length;
      // receptions before each crash that the database did not hold at it: cumulative, per crash
      let deficitBefore = 0;
      let lost = 0;
      for (const [index, crash] of this.crashes.entries()) {
        const heard = fact.receivedAt.filter((at) => at <= crash.at).length;
        const mayBeKilleds = crash.sentByKilled === undefined || crash.sentByKilled.has(key);
        const deficit = mayBeKilleds ? Math.max(0, heard - (crash.recorded.get(key) ?? 0)) : 0;
        const lostHere = deficit - deficitBefore;
        if (lostHere > 1) problems.push(`${key}: ${lostHere} unrecorded receptions lost at crash ${index + 1} (a sender holds a callback once)`);
        if (lostHere > 0) {
          lostPerCrash[index] += 1;
          lost += 1;
        }
        deficitBefore = Math.max(deficitBefore, deficit);
      }
      if (count < 2) continue;
      const unrecorded = Math.max(0, count - fact.attempts);
      unrecordedTotal += unrecorded;
      duplicates += count - 1;
      const explained = fact.failed + Math.min(unrecorded, lost);
      if (fact.succeeded > 1 || count - 1 > explained) {
        problems.push(
          `${key} × ${count} (recorded attempts ${fact.attempts}, failed ${fact.failed}, succeeded ${fact.succeeded}, straddles ${lost} of ${this.crashes.length} crashes)`,
        );
      }
    }
    for (const [index, lost] of lostPerCrash.entries()) {
      if (lost > this.maxLostPerCrash)
        problems.push(`crash ${index + 1} caught ${lost} callbacks sent and unrecorded, over the dispatcher's bound ${this.maxLostPerCrash}`);
    }
    return { problems, duplicates, unrecorded: unrecordedTotal, lostPerCrash };
  }
}

/** Attempt counts from the database for the given keys' callbacks (`${message_id}/${status}`). */
export async function callbackAttemptCounts(db: Client, messageIds: string[]): Promise<Map<string, { attempts: number; failed: number; succeeded: number }>> {
  const { rows } = await db.query<{ key: string; attempts: number; failed: number; succeeded: number }>(
    `SELECT c.message_id || '/' || c.status AS key,
            count(a.id) FILTER (WHERE ${REACHED_RECEIVER_SQL})::int AS attempts,
            count(a.id) FILTER (WHERE a.error IS NOT NULL AND ${REACHED_RECEIVER_SQL})::int AS failed,
            count(a.id) FILTER (WHERE a.error IS NULL)::int AS succeeded
       FROM callbacks c LEFT JOIN callback_attempts a ON a.callback_id = c.id
      WHERE c.message_id = ANY($1::uuid[])
      GROUP BY c.id`,
    [messageIds],
  );
  return new Map(rows.map((row) => [row.key, row]));
}
