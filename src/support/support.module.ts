import { Module } from '@nestjs/common';

import { InboxModule } from '../inbox/inbox.module';
import { MessagesModule } from '../messages/messages.module';
import { OperatorModule } from '../operator/operator.module';
import { TrackingModule } from '../tracking/tracking.module';
import { SupportController } from './support.controller';
import { SupportRepository } from './support.repository';
import { SupportService } from './support.service';
import { SupportAuthGuard } from './support-auth.guard';

@Module({
  imports: [MessagesModule, TrackingModule, InboxModule, OperatorModule],
  controllers: [SupportController],
  providers: [SupportService, SupportRepository, SupportAuthGuard],
})
export class SupportModule {}
