import { Injectable, Logger } from '@nestjs/common';

import { MessageEvents } from '../messages/message-events';
import { MessageStateRepository, VoidMatch } from '../messages/message-state.repository';

/** What the operator's own platform asks of us (SPEC v2 §7). */
@Injectable()
export class OperatorService {
  private readonly logger = new Logger(OperatorService.name);

  constructor(
    private readonly states: MessageStateRepository,
    private readonly events: MessageEvents,
  ) {}

  /** Voids every match in one statement, then tells the players' tabs and wakes the callbacks; how many it voided. */
  async void(match: VoidMatch, reason: string): Promise<number> {
    const voided = await this.states.voidMessages(match, reason);
    for (const { row, failed } of voided) this.events.publishChanged(row, failed ? ['voided', 'failed'] : ['voided']);
    if (voided.length > 0) this.logger.log({ count: voided.length, failed: voided.filter((entry) => entry.failed).length }, 'messages voided');
    return voided.length;
  }
}
