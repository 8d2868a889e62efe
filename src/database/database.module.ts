import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import type { AppConfig } from '../config/app.config';
import { assignGatewayBrands } from './brand-backfill';
import { dataSourceOptions, runMigrationsLocked } from './data-source';
import { Leader } from './leader.service';

@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      // global: the leader is elected before any module's bootstrap asks it, and released after their shutdown
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(config.databaseUrl, config.dbPoolSize),
            retryAttempts: 5,
            retryDelay: 2_000,
          }),
          // migrations and the brand back-fill finish before any module can query
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await runMigrationsLocked(dataSource, () => assignGatewayBrands(dataSource, config.gateways));
            return dataSource;
          },
        }),
      ],
      providers: [Leader],
      exports: [Leader],
    };
  }
}
