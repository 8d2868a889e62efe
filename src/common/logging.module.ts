import { Module } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';

import { APP_CONFIG, AppConfig } from '../config/app.config';

/** Never logged, wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'authorization',
  'token',
  'apiKey',
  'api_key',
  'body',
  '*.authorization',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.body',
];

/** JSON logs through pino; request lines come from logRequests, not pino-http's per-request child loggers. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          base: { service: 'cim-inbox' },
        },
        forRoutes: [],
      }),
    }),
  ],
})
export class LoggingModule {}

const asIs = <T>(value: T): T => value;

export function logRequests(fastify: FastifyInstance): void {
  let requestLogger: Logger | undefined;
  fastify.addHook('onResponse', (request, reply, done) => {
    // the root logger is made when the app starts; its pino-http serializers expect raw requests
    requestLogger ??= PinoLogger.root?.child({}, { serializers: { req: asIs, res: asIs } });
    const logger = requestLogger;
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    if (logger !== undefined && logger.isLevelEnabled(level)) {
      logger[level](
        {
          reqId: request.id,
          req: { id: request.id, method: request.method, path: request.url.split('?', 1)[0], remoteAddress: request.ip },
          res: { statusCode: reply.statusCode },
          responseTime: Math.round(reply.elapsedTime),
        },
        'request completed',
      );
    }
    done();
  });
}
