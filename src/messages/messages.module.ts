import { Module } from '@nestjs/common';

import { MessageRepository } from './message.repository';
import { MessageEvents } from './message-events';
import { MessageStateRepository } from './message-state.repository';
import { PopupPolicy } from './popup-policy';

@Module({
  providers: [MessageRepository, MessageStateRepository, MessageEvents, PopupPolicy],
  exports: [MessageRepository, MessageStateRepository, MessageEvents, PopupPolicy],
})
export class MessagesModule {}
