import { GroupCommit } from '../common/group-commit';
import type { AttemptRecord, OutboxRepository } from './outbox.repository';

export type AttemptRecorder = GroupCommit<AttemptRecord, void>;

export interface AttemptRecorderOptions {
  lingerMs: number;
  fullBatch: number;
  maxBatch: number;
}

/** Retried, not dropped: a dropped record would leave its callback to be sent again after its lease. */
export function createAttemptRecorder(outbox: Pick<OutboxRepository, 'recordAttempts'>, options: AttemptRecorderOptions): AttemptRecorder {
  return new GroupCommit<AttemptRecord, void>(
    async (records) => {
      await outbox.recordAttempts(records);
      return records.map(() => undefined);
    },
    { maxBatch: options.maxBatch, maxInFlight: 1, lingerMs: options.lingerMs, fullBatch: options.fullBatch, onFailure: 'retry' },
  );
}
