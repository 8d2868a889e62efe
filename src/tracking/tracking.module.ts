import { Module } from '@nestjs/common';

import { HostAllowlist } from '../common/host-allowlist';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { MessagesModule } from '../messages/messages.module';
import { CallbackAddressGuard } from './address-guard';
import { CallbackClient } from './callback.client';
import { CallbackDispatcher } from './callback-dispatcher.service';
import { ClickLinkController } from './click-link.controller';
import { ClickLinks } from './click-links';
import { MessageViews } from './message-views';
import { OutboxRepository } from './outbox.repository';
import { RetentionService } from './retention.service';
import { TrackingService } from './tracking.service';

@Module({
  imports: [MessagesModule],
  controllers: [ClickLinkController],
  providers: [
    {
      provide: CallbackClient,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new CallbackClient(new CallbackAddressGuard(new HostAllowlist(config.callbackAllowedHosts)), {
          timeoutMs: config.callbacks.timeoutMs,
          connections: config.callbacks.connectionsPerHost,
        }),
    },
    OutboxRepository,
    CallbackDispatcher,
    ClickLinks,
    MessageViews,
    TrackingService,
    RetentionService,
  ],
  exports: [ClickLinks, MessageViews, TrackingService, OutboxRepository, CallbackClient],
})
export class TrackingModule {}
