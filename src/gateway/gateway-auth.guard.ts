import { CanActivate, ExecutionContext, Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';

import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { GatewayConfig } from '../config/env.validation';
import { GatewayError, GatewayErrorCode } from './gateway.errors';
import { GatewayDirectory } from './gateway-directory';

export type GatewayRequest = FastifyRequest & { gateway?: GatewayConfig };

const MINUTE_MS = 60_000;

/** The whole Authorization value names the gateway (SPEC §2); only bad attempts are limited, per address. */
@Injectable()
export class GatewayAuthGuard implements CanActivate, OnApplicationShutdown {
  private readonly badAttempts = new ThrottlerStorageService();
  private readonly limit: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly directory: GatewayDirectory,
  ) {
    this.limit = config.rateLimits.gatewayBadAuthPerMinute;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<GatewayRequest>();
    const gateway = this.directory.match(request.headers.authorization);
    if (gateway !== undefined) {
      request.gateway = gateway;
      return true;
    }
    const record = await this.badAttempts.increment(`gateway-auth:${request.ip}`, MINUTE_MS, this.limit, MINUTE_MS, 'gateway-auth');
    if (record.isBlocked) {
      throw new GatewayError(GatewayErrorCode.RateLimited, 'too many unauthorized attempts from this address; retry in a minute');
    }
    throw new GatewayError(GatewayErrorCode.Unauthorized, 'unauthorized');
  }

  onApplicationShutdown(): void {
    this.badAttempts.onApplicationShutdown();
  }
}
