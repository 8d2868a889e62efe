import { Module } from '@nestjs/common';

import { MessagesModule } from '../messages/messages.module';
import { TrackingModule } from '../tracking/tracking.module';
import { ActionRepository } from './action.repository';
import { OperatorController } from './operator.controller';
import { OperatorService } from './operator.service';
import { OperatorActions } from './operator-actions';
import { OperatorAuthGuard } from './operator-auth.guard';
import { SuppressionRepository } from './suppression.repository';

@Module({
  imports: [MessagesModule, TrackingModule],
  controllers: [OperatorController],
  providers: [OperatorService, OperatorAuthGuard, SuppressionRepository, ActionRepository, OperatorActions],
  exports: [OperatorService, OperatorActions],
})
export class OperatorModule {}
