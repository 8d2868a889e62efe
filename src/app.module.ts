import { DynamicModule, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';

import { LoggingModule } from './common/logging.module';
import { AppConfig } from './config/app.config';
import { ConfigModule } from './config/config.module';
import { ConsoleModule } from './console/console.module';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo/demo.module';
import { DevModule } from './dev/dev.module';
import { GatewayModule } from './gateway/gateway.module';
import { HealthModule } from './health/health.module';
import { InboxModule } from './inbox/inbox.module';
import { LimitsModule } from './limits/limits.module';
import { RateLimitStore } from './limits/rate-limit.store';
import { MetricsModule } from './metrics/metrics.module';
import { OperatorModule } from './operator/operator.module';
import { SupportModule } from './support/support.module';
import { TrackingModule } from './tracking/tracking.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LimitsModule,
        ThrottlerModule.forRootAsync({
          imports: [LimitsModule],
          inject: [RateLimitStore],
          useFactory: (store: RateLimitStore) => ({
            throttlers: [
              { name: 'player', ttl: 60_000, limit: config.rateLimits.playerPerMinute },
              { name: 'support', ttl: 60_000, limit: config.rateLimits.supportPerMinute },
            ],
            storage: store.throttlerStorage(),
            errorMessage: 'too many requests; slow down',
          }),
        }),
        LoggingModule,
        DatabaseModule.forRoot(config),
        HealthModule,
        MetricsModule,
        GatewayModule,
        InboxModule,
        TrackingModule,
        SupportModule,
        ConsoleModule,
        OperatorModule,
        ...(config.devMode ? [DevModule] : []),
        ...(config.devMode || config.demo === true ? [DemoModule] : []),
      ],
    };
  }
}
