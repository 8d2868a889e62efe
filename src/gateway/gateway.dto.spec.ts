import 'reflect-metadata';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

import { APP_CONFIG } from '../config/app.config';
import { RateLimitStore } from '../limits/rate-limit.store';
import { CUSTOM_IM_LIMITS } from './custom-im.parser';
import { GatewayController } from './gateway.controller';
import { GatewayService } from './gateway.service';
import { GatewayDirectory } from './gateway-directory';

// the route alone: enough for its OpenAPI document, with no database behind it
@Module({
  controllers: [GatewayController],
  providers: [
    { provide: GatewayService, useValue: {} },
    { provide: GatewayDirectory, useValue: {} },
    { provide: RateLimitStore, useValue: { limiter: () => ({}) } },
    { provide: APP_CONFIG, useValue: { gateways: [], rateLimits: { gatewayBadAuthPerMinute: 1 } } },
  ],
})
class GatewayDocsModule {}

interface PropertySchema {
  minLength?: number;
  maxLength?: number;
  description?: string;
}

describe('CustomImRequestDto, the gateway request in OpenAPI', () => {
  let sut: Record<string, PropertySchema>;

  beforeAll(async () => {
    const app = await NestFactory.create<NestFastifyApplication>(GatewayDocsModule, new FastifyAdapter(), { logger: false });
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    await app.close();
    sut = (document.components!.schemas!.CustomImRequestDto as { properties: Record<string, PropertySchema> }).properties;
  });

  // typed by the limits' keys: a limit added to the parser does not compile here until it is documented
  const documents: Record<keyof typeof CUSTOM_IM_LIMITS, (limit: number) => void> = {
    idLength: (limit) => {
      expect(sut.ext_user_id).toMatchObject({ minLength: 1, maxLength: limit });
      expect(sut.im_uid).toMatchObject({ minLength: 1, maxLength: limit });
    },
    callbackUrlLength: (limit) => expect(sut.callback_url).toMatchObject({ maxLength: limit }),
    bodyBytes: (limit) => expect(sut.body.description).toContain(`at most ${limit / 1024} KiB (UTF-8)`),
    extensionBytes: (limit) => expect(sut.extension.description).toContain(`at most ${limit / 1024} KiB as JSON`),
    depth: (limit) => expect(sut.extension.description).toContain(`nesting at most ${limit} levels`),
  };

  it.each(Object.keys(documents) as Array<keyof typeof CUSTOM_IM_LIMITS>)("states the parser's %s", (name) => {
    documents[name](CUSTOM_IM_LIMITS[name]);
  });
});
