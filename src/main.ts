import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';

import { AppModule } from './app.module';
import { configureApp, createFastifyAdapter, gracefulStop, NEST_APP_OPTIONS } from './app.setup';
import { EnvConfig, loadEnvConfig, withDevDefaults } from './config/app.config';
import { ConfigError } from './config/env.validation';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { devBanner } from './dev/dev-banner';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function bootstrap(): Promise<void> {
  // `node dist/main.js --check-config` validates the environment and exits: 0, or 78 with the reason
  // (docker-compose.yml runs it once before the app, so a bad setting stops there instead of restart-looping)
  const checkOnly = process.argv.includes('--check-config');
  let config: EnvConfig;
  try {
    config = checkOnly ? loadEnvConfig(process.env) : withDevDefaults(loadEnvConfig(process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`cim-inbox: configuration error: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  if (checkOnly) {
    process.stdout.write(`cim-inbox: configuration is valid (${config.devMode ? 'dev mode' : `${config.gateways.length} gateway(s)`})\n`);
    process.exit(0);
  }
  const log = pino({ level: config.logLevel, base: { service: 'cim-inbox' } });

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (databaseUrl === undefined) {
    try {
      embedded = await startEmbeddedPostgres(config.dataDir, {
        info: (message) => log.info(message),
        debug: (message) => log.debug(message),
        warn: (message) => log.warn(message),
      });
    } catch (error) {
      log.fatal({ err: error }, 'embedded PostgreSQL failed to start');
      process.stderr.write(`cim-inbox: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    }
    databaseUrl = embedded.url;
  }

  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ ...config, databaseUrl }), createFastifyAdapter(), NEST_APP_OPTIONS);
    await configureApp(app);
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    log.fatal({ err: error }, 'cim-inbox failed to start');
    await embedded?.stop();
    process.exit(1);
  }
  log.info({ port: config.port, host: config.host, embeddedDatabase: embedded !== undefined, devMode: config.devMode }, 'cim-inbox listening');
  if (config.devMode) process.stdout.write(devBanner(config));

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    void (async () => {
      try {
        await gracefulStop(app);
        await embedded?.stop();
        process.exit(0);
      } catch (error) {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  // embedded-postgres's own exit hook would stop the database while in-flight requests still need it
  process.removeAllListeners('SIGTERM');
  process.removeAllListeners('SIGINT');
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void bootstrap();
