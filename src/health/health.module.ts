import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { InboxModule } from '../inbox/inbox.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }), InboxModule],
  controllers: [HealthController],
})
export class HealthModule {}
