import { Injectable, Logger } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';

import type { MessageRow } from './message.table';
import type { MessageEvent } from './message-status';

export interface MessageChanged {
  row: MessageRow;
  events: MessageEvent[];
}

/** In-process notifications between modules, always after the change is committed. */
@Injectable()
export class MessageEvents {
  private readonly logger = new Logger(MessageEvents.name);
  private readonly accepted$ = new Subject<MessageRow>();
  private readonly changed$ = new Subject<MessageChanged>();

  get accepted(): Observable<MessageRow> {
    return this.accepted$.asObservable();
  }

  get changed(): Observable<MessageChanged> {
    return this.changed$.asObservable();
  }

  publishAccepted(row: MessageRow): void {
    this.publish(() => this.accepted$.next(row), row.id);
  }

  publishChanged(row: MessageRow, events: MessageEvent[]): void {
    if (events.length > 0) this.publish(() => this.changed$.next({ row, events }), row.id);
  }

  private publish(emit: () => void, messageId: string): void {
    try {
      emit();
    } catch (error) {
      // a failing listener must not fail the change that was already committed
      this.logger.error({ messageId, err: (error as Error).message }, 'message event listener failed');
    }
  }
}
