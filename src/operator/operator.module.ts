import { Module } from '@nestjs/common';

import { MessagesModule } from '../messages/messages.module';
import { OperatorController } from './operator.controller';
import { OperatorService } from './operator.service';
import { OperatorAuthGuard } from './operator-auth.guard';
import { SuppressionRepository } from './suppression.repository';

@Module({
  imports: [MessagesModule],
  controllers: [OperatorController],
  providers: [OperatorService, OperatorAuthGuard, SuppressionRepository],
  exports: [OperatorService],
})
export class OperatorModule {}
