import { Module } from '@nestjs/common';
import { MessageEvents } from './message-events';
import { MessageRepository } from './message.repository';

@Module({
  providers: [MessageRepository, MessageEvents],
  exports: [MessageRepository, MessageEvents],
})
export class MessagesModule {}
