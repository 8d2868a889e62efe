import { Module } from '@nestjs/common';

import { MessageRepository } from './message.repository';
import { MessageEvents } from './message-events';
import { MessageStateRepository } from './message-state.repository';
import { PopupPolicy } from './popup-policy';
import { RetentionRepository } from './retention.repository';

@Module({
  providers: [MessageRepository, MessageStateRepository, MessageEvents, PopupPolicy, RetentionRepository],
  exports: [MessageRepository, MessageStateRepository, MessageEvents, PopupPolicy, RetentionRepository],
})
export class MessagesModule {}
