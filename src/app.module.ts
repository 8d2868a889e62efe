import { DynamicModule, Module } from '@nestjs/common';
import { LoggingModule } from './common/logging.module';
import { AppConfig } from './config/app.config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DevModule } from './dev/dev.module';
import { GatewayModule } from './gateway/gateway.module';
import { HealthModule } from './health/health.module';
import { InboxModule } from './inbox/inbox.module';
import { TrackingModule } from './tracking/tracking.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        DatabaseModule,
        HealthModule,
        GatewayModule,
        InboxModule,
        TrackingModule,
        ...(config.devMode ? [DevModule] : []),
      ],
    };
  }
}
