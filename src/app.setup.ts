import { Server as NetServer } from 'node:net';

import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';

import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { AppValidationPipe } from './common/app-validation.pipe';
import { logRequests } from './common/logging.module';
import { QuietFrameworkLogger } from './common/quiet-framework.logger';
import { requestIdFor } from './common/request-id';
import { APP_CONFIG, AppConfig } from './config/app.config';
import { MAX_REQUEST_BYTES } from './gateway/gateway.constants';
import { GatewayErrorMapper } from './gateway/gateway-error.mapper';
import { AcceptedChannels } from './inbox/accepted-channels';
import { FanOutLink } from './inbox/fan-out-link';
import { InboxPublisher } from './inbox/inbox.publisher';
import { InboxIoAdapter } from './inbox/inbox-io.adapter';

// Fastify's JSON parser is the only one, so a form or text body is refused as 415 rather than half-parsed
export const NEST_APP_OPTIONS = { bodyParser: false, bufferLogs: true } as const;

export function createFastifyAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: MAX_REQUEST_BYTES,
    // click-tracking tokens carry their target URL: far over Fastify's default of 100
    routerOptions: { maxParamLength: 8_192 },
    trustProxy: true,
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
  instance.addHook('onSend', (_request, reply, payload, done) => {
    if (stopping.has(instance)) void reply.header('connection', 'close');
    done(null, payload);
  });
  instance.removeContentTypeParser('text/plain');
  return adapter;
}

const ioAdapters = new WeakMap<INestApplication, InboxIoAdapter>();
const stopping = new WeakSet<object>();

// keep-alive connections are still served this long after SIGTERM, each reply closing its connection
const DRAIN_GRACE_MS = 1_000;

/** SIGTERM: sockets, then HTTP drained without resetting keep-alive clients (docs/architecture.md), then the app. */
export async function gracefulStop(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const server = app.getHttpServer();
  stopping.add(fastify);
  ioAdapters.get(app)?.closeClients();
  // net.Server's close: http.Server's would drop idle keep-alive connections at once
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

export async function configureApp(app: NestFastifyApplication): Promise<INestApplication> {
  app.useLogger(new QuietFrameworkLogger(app.get(Logger)));
  const io = new InboxIoAdapter(app, app.get<AppConfig>(APP_CONFIG));
  await io.connect({ link: app.get(FanOutLink), channels: app.get(AcceptedChannels), publisher: app.get(InboxPublisher) });
  app.useWebSocketAdapter(io);
  ioAdapters.set(app, io);
  // players' browsers call the REST API from the operator's origin with a bearer token (no cookies)
  app.enableCors({ origin: true, credentials: false, exposedHeaders: ['x-request-id'] });
  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter([app.get(GatewayErrorMapper)]));

  const openApi = new DocumentBuilder()
    .setTitle('cim-inbox')
    .setDescription(
      'Self-hosted in-platform notification center for Smartico Custom IM: the gateway Smartico calls, ' +
        'the player inbox, the support API and operations endpoints.',
    )
    .setVersion('1')
    .addServer('/', 'this instance')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: "the gateway's secret" }, 'gateway')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'player token; sub = ext_user_id' }, 'player')
    // addBearerAuth would add bearerFormat: JWT; support keys are plain strings
    .addSecurity('support', { type: 'http', scheme: 'bearer', description: 'one of SUPPORT_API_KEYS' })
    .addSecurity('operator', { type: 'http', scheme: 'bearer', description: "one of OPERATOR_API_KEYS, or a brand's operatorApiKeys" })
    .build();
  const document = SwaggerModule.createDocument(app, openApi);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', yamlDocumentUrl: 'docs/yaml' });
  return app;
}
