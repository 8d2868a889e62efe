import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';

import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';

import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { AppValidationPipe } from './common/app-validation.pipe';
import { logRequests } from './common/logging.module';
import { requestIdFor } from './common/request-id';
import { APP_CONFIG, AppConfig } from './config/app.config';
import { MAX_REQUEST_BYTES } from './gateway/gateway.constants';
import { InboxIoAdapter } from './inbox/inbox-io.adapter';
import { Metrics } from './metrics/metrics.service';

/**
 * Options for NestFactory.create. Nest's own body parsers are off: Fastify's JSON parser is the only
 * one, so a form or text body is refused as 415 rather than half-parsed.
 */
export const NEST_APP_OPTIONS = { bodyParser: false, bufferLogs: true } as const;

/** The Fastify adapter with our limits; shared by main.ts and the e2e tests. */
export function createFastifyAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: MAX_REQUEST_BYTES,
    // click-tracking tokens (/t/:token) carry their target URL and ext_user_id path parameters may
    // be 255 characters: both far over Fastify's default of 100
    routerOptions: { maxParamLength: 8_192 },
    trustProxy: true,
    // logRequests writes the request lines through the app's pino; Fastify's own logger stays off
    logger: false,
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: requestIdFor,
  });
  const instance = adapter.getInstance();
  instance.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  logRequests(instance);
  // while stopping, every reply (in-flight ones included) tells the client not to reuse the connection
  instance.addHook('onSend', (_request, reply, payload, done) => {
    if (stopping.has(instance)) void reply.header('connection', 'close');
    done(null, payload);
  });
  // JSON only: text/plain and friends are refused as 415 (error_code 2 on the gateway)
  adapter.getInstance().removeContentTypeParser('text/plain');
  return adapter;
}

const ioAdapters = new WeakMap<INestApplication, InboxIoAdapter>();
const stopping = new WeakSet<object>();

/** How long open keep-alive connections are still served after SIGTERM, each reply closing its connection. */
const DRAIN_GRACE_MS = 1_000;

/**
 * SIGTERM: drop the players' socket transports first (their clients reconnect, to another
 * instance behind the load balancer), stop accepting connections, let in-flight requests finish,
 * then close the rest (the callback dispatcher finishes its batch, pools close).
 *
 * A keep-alive connection is not closed while idle right away: a client may be writing its next
 * request on it that instant and would see a reset. For a moment every reply says
 * `Connection: close`, so a busy client learns from a reply and its next connection is refused
 * (it goes elsewhere); only connections still idle after that are closed.
 */
export async function gracefulStop(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const server = app.getHttpServer();
  stopping.add(fastify);
  ioAdapters.get(app)?.closeClients();
  // net.Server's close stops listening and resolves once every connection has ended; http.Server's
  // own close would also drop the idle keep-alive connections at once
  const drained = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, DRAIN_GRACE_MS));
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  try {
    await drained;
  } finally {
    clearInterval(sweep);
  }
  await fastify.close();
  await app.close();
}

/** Pipes, filters, logger, sockets and OpenAPI: everything main.ts and the tests must configure alike. */
export async function configureApp(app: NestFastifyApplication): Promise<INestApplication> {
  app.useLogger(app.get(Logger));
  const io = new InboxIoAdapter(app, app.get<AppConfig>(APP_CONFIG));
  await io.connect();
  app.useWebSocketAdapter(io);
  ioAdapters.set(app, io);
  // players' browsers call the REST API from the operator's origin with a bearer token (no cookies)
  app.enableCors({ origin: true, credentials: false, exposedHeaders: ['x-request-id'] });
  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter(app.get(Metrics)));

  const openApi = new DocumentBuilder()
    .setTitle('cim-inbox')
    .setDescription(
      'Self-hosted in-platform notification center for Smartico Custom IM: the gateway Smartico calls, ' +
        'the player inbox, the support API and operations endpoints.',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: "the gateway's secret" }, 'gateway')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'player token; sub = ext_user_id' }, 'player')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'one of SUPPORT_API_KEYS' }, 'support')
    .build();
  const document = SwaggerModule.createDocument(app, openApi);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', yamlDocumentUrl: 'docs/yaml' });
  return app;
}
