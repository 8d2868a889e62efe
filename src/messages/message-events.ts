import { Injectable, Logger } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { MessageRow } from './message.view';

/**
 * In-process notifications between modules, always after the change is committed: the gateway
 * announces accepted messages without knowing who pushes them.
 */
@Injectable()
export class MessageEvents {
  private readonly logger = new Logger(MessageEvents.name);
  private readonly accepted$ = new Subject<MessageRow>();

  get accepted(): Observable<MessageRow> {
    return this.accepted$.asObservable();
  }

  publishAccepted(row: MessageRow): void {
    try {
      this.accepted$.next(row);
    } catch (error) {
      // a failing listener must not turn an accepted message into an error reply
      this.logger.error({ messageId: row.id, err: error }, 'accepted-message listener failed');
    }
  }
}
