import { Module } from '@nestjs/common';

import { MessagesModule } from '../messages/messages.module';
import { GatewayController } from './gateway.controller';
import { GatewayService } from './gateway.service';
import { GatewayAuthGuard } from './gateway-auth.guard';
import { GatewayDirectory } from './gateway-directory';
import { GatewayDurationHook } from './gateway-duration.hook';
import { GatewayErrorMapper } from './gateway-error.mapper';

@Module({
  imports: [MessagesModule],
  controllers: [GatewayController],
  providers: [GatewayService, GatewayDirectory, GatewayAuthGuard, GatewayErrorMapper, GatewayDurationHook],
  exports: [GatewayErrorMapper],
})
export class GatewayModule {}
