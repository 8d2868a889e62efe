import { Module } from '@nestjs/common';

import { MessageRepository } from './message.repository';
import { MessageEvents } from './message-events';
import { MessageStateRepository } from './message-state.repository';

@Module({
  providers: [MessageRepository, MessageStateRepository, MessageEvents],
  exports: [MessageRepository, MessageStateRepository, MessageEvents],
})
export class MessagesModule {}
