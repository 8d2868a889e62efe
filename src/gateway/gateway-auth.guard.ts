import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { GatewayConfig } from '../config/env.validation';
import type { FallbackLimiter } from '../limits/fallback-limiter';
import { RateLimitStore } from '../limits/rate-limit.store';
import { GatewayError, GatewayErrorCode } from './gateway.errors';
import { GatewayDirectory } from './gateway-directory';

export type GatewayRequest = FastifyRequest & { gateway?: GatewayConfig };

/** The whole Authorization value names the gateway (SPEC §2); only bad attempts are limited, per address, across instances. */
@Injectable()
export class GatewayAuthGuard implements CanActivate {
  private readonly badAttempts: FallbackLimiter;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    store: RateLimitStore,
    private readonly directory: GatewayDirectory,
  ) {
    this.badAttempts = store.limiter({ name: 'gateway-bad-auth', points: config.rateLimits.gatewayBadAuthPerMinute, durationSeconds: 60 });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<GatewayRequest>();
    const gateway = this.directory.match(request.headers.authorization);
    if (gateway !== undefined) {
      request.gateway = gateway;
      return true;
    }
    if ((await this.badAttempts.consume(request.ip)).limited) {
      throw new GatewayError(GatewayErrorCode.RateLimited, 'too many unauthorized attempts from this address; retry in a minute');
    }
    throw new GatewayError(GatewayErrorCode.Unauthorized, 'unauthorized');
  }
}
