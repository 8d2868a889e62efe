import { Module } from '@nestjs/common';

import { MessagesModule } from '../messages/messages.module';
import { GatewayController } from './gateway.controller';
import { GatewayService } from './gateway.service';
import { GatewayAuthGuard } from './gateway-auth.guard';

@Module({
  imports: [MessagesModule],
  controllers: [GatewayController],
  providers: [GatewayService, GatewayAuthGuard],
})
export class GatewayModule {}
