import { Module } from '@nestjs/common';

import { MessagesModule } from '../messages/messages.module';
import { OperatorModule } from '../operator/operator.module';
import { TrackingModule } from '../tracking/tracking.module';
import { AcceptedChannels } from './accepted-channels';
import { FanOutAttachments } from './fan-out-attachments';
import { FanOutLink } from './fan-out-link';
import { InboxController } from './inbox.controller';
import { InboxGateway } from './inbox.gateway';
import { InboxPublisher } from './inbox.publisher';
import { InboxService } from './inbox.service';
import { LivePushService } from './live-push.service';
import { PlayerAuthGuard } from './player-auth.guard';
import { PlayerAuthService } from './player-auth.service';
import { PlayerSessions } from './player-sessions';
import { PresenceRepository } from './presence.repository';
import { UnreadBadges } from './unread-badges';

@Module({
  imports: [MessagesModule, TrackingModule, OperatorModule],
  controllers: [InboxController],
  providers: [
    AcceptedChannels,
    FanOutLink,
    FanOutAttachments,
    InboxService,
    InboxGateway,
    InboxPublisher,
    PlayerAuthService,
    PlayerAuthGuard,
    PlayerSessions,
    LivePushService,
    PresenceRepository,
    UnreadBadges,
  ],
  exports: [AcceptedChannels, FanOutLink, InboxService, InboxPublisher, PlayerAuthService, PresenceRepository],
})
export class InboxModule {}
