import { Module } from '@nestjs/common';

import { MessagesModule } from '../messages/messages.module';
import { TrackingModule } from '../tracking/tracking.module';
import { FanOutAttachments } from './fan-out-attachments';
import { InboxController } from './inbox.controller';
import { InboxGateway } from './inbox.gateway';
import { InboxPublisher } from './inbox.publisher';
import { InboxService } from './inbox.service';
import { LivePushService } from './live-push.service';
import { PlayerAuthGuard } from './player-auth.guard';
import { PlayerAuthService } from './player-auth.service';
import { PlayerSessions } from './player-sessions';
import { PresenceRepository } from './presence.repository';

@Module({
  imports: [MessagesModule, TrackingModule],
  controllers: [InboxController],
  providers: [
    FanOutAttachments,
    InboxService,
    InboxGateway,
    InboxPublisher,
    PlayerAuthService,
    PlayerAuthGuard,
    PlayerSessions,
    LivePushService,
    PresenceRepository,
  ],
  exports: [InboxService, InboxPublisher, PlayerAuthService, PresenceRepository],
})
export class InboxModule {}
