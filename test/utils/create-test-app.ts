import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

import { AppModule } from '../../src/app.module';
import { configureApp, createFastifyAdapter, NEST_APP_OPTIONS } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app.config';
import { FanOutLink } from '../../src/inbox/fan-out-link';
import { eventually } from './eventually';
import { createTestDatabase, TestDatabase } from './test-database';

export const GATEWAY_A = { id: 'brand-a', authorization: 'Secret-A-0123456789', apiKey: 'api-key-a', brand: 'default' };
export const GATEWAY_B = { id: 'brand-b', authorization: 'Secret-B-9876543210', apiKey: 'api-key-b', brand: 'default' };
export const PLAYER_JWT_SECRET = 'test-player-secret-that-is-at-least-32-bytes-long';
export const SUPPORT_KEY = 'support-key-0123456789';
export const OPERATOR_KEY = 'operator-key-0123456789';

export function testConfig(databaseUrl: string, overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    databaseUrl,
    dataDir: '/tmp/cim-test-unused',
    gateways: [GATEWAY_A, GATEWAY_B],
    devMode: false,
    callbackAllowedHosts: ['*.smartico.ai', '127.0.0.1', 'localhost'],
    player: { jwtSecret: PLAYER_JWT_SECRET },
    supportApiKeys: [SUPPORT_KEY],
    operatorApiKeys: [OPERATOR_KEY],
    suppressionExemptCategories: ['service', 'responsible_gambling'],
    retention: { days: 90, sweepMs: 60_000 },
    logLevel: 'silent',
    dbPoolSize: 10,
    linkSecret: 'test-link-secret-0123456789abcdef0123456789',
    callbacks: {
      timeoutMs: 1_000,
      retryBaseMs: 50,
      retryMaxMs: 400,
      retryWindowMs: 60_000,
      concurrency: 16,
      connectionsPerHost: 16,
      pollMs: 50,
      leaseMs: 3_000,
    },
    expirySweepMs: 200,
    fanOutHeartbeatMs: 200,
    leaderPollMs: 200,
    rateLimits: { playerPerMinute: 300, supportPerMinute: 1200, gatewayBadAuthPerMinute: 20 },
    popups: { maxAgeSeconds: 3_600 },
    ...overrides,
  };
}

export interface TestApp {
  app: NestFastifyApplication;
  /** http://127.0.0.1:<port> */
  url: string;
  config: AppConfig;
  database: TestDatabase;
  close(): Promise<void>;
}

/** Boots the real AppModule through configureApp() on a loopback port, against its own database. */
export async function createTestApp(overrides: Partial<AppConfig> = {}, options: { database?: TestDatabase } = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig(overrides.databaseUrl ?? database.url, overrides);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), createFastifyAdapter(), { ...NEST_APP_OPTIONS, logger: false });
  await configureApp(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  // ready as a load balancer would see it: pushes announced before the fan-out link works would reach nobody here
  const link = app.get(FanOutLink);
  await eventually(() => link.problem === null, { what: 'the fan-out link to carry a heartbeat', timeoutMs: 15_000 });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    config,
    database,
    close: async () => {
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}
