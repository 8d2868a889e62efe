import { Module } from '@nestjs/common';

import { MessageRepository } from './message.repository';
import { MessageEvents } from './message-events';

@Module({
  providers: [MessageRepository, MessageEvents],
  exports: [MessageRepository, MessageEvents],
})
export class MessagesModule {}
