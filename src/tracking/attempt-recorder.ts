import { GroupCommit } from '../common/group-commit';
import type { AttemptRecord, OutboxRepository } from './outbox.repository';

export type AttemptRecorder = GroupCommit<AttemptRecord, void>;

export interface AttemptRecorderOptions {
  /** how long a record waits for others to share its statement, unless `fullBatch` wait */
  lingerMs: number;
  fullBatch: number;
  /** the most records that can be outstanding at once */
  maxBatch: number;
}

/**
 * Attempt records commit together. A failed write is retried with backoff rather than dropped: a
 * dropped record would leave its callback claimed but unrecorded, sent again once its lease ends.
 */
export function createAttemptRecorder(outbox: Pick<OutboxRepository, 'recordAttempts'>, options: AttemptRecorderOptions): AttemptRecorder {
  return new GroupCommit<AttemptRecord, void>(
    async (records) => {
      await outbox.recordAttempts(records);
      return records.map(() => undefined);
    },
    { maxBatch: options.maxBatch, maxInFlight: 1, lingerMs: options.lingerMs, fullBatch: options.fullBatch, onFailure: 'retry' },
  );
}
