import { Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { requestIdFor } from './request-id';

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

/** JSON logs through pino: one line per request with its id; headers and bodies are not logged. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          // Fastify has already given the request its id (X-Request-Id or a new one)
          genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? requestIdFor(req),
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          customProps: () => ({ service: 'cim-inbox' }),
          serializers: {
            req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
              id: req.id,
              method: req.method,
              path: req.url.split('?', 1)[0],
              remoteAddress: req.remoteAddress,
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
            error || res.statusCode >= 500 ? 'error' : 'info',
          quietReqLogger: true,
        },
      }),
    }),
  ],
})
export class LoggingModule {}
