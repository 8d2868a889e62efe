import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { GatewayConfig } from '../config/env.validation';
import { SecretMatcher } from '../common/secret-matcher';
import { GatewayError, GatewayErrorCode } from './gateway.errors';

export type GatewayRequest = FastifyRequest & { gateway?: GatewayConfig };

/** Identifies the calling gateway by its whole Authorization value (SPEC §2). */
@Injectable()
export class GatewayAuthGuard implements CanActivate {
  private readonly matcher: SecretMatcher<GatewayConfig>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.matcher = new SecretMatcher(config.gateways.map((gateway) => [gateway.authorization, gateway] as const));
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<GatewayRequest>();
    const header = request.headers.authorization;
    const gateway = this.matcher.match(typeof header === 'string' ? header : undefined);
    if (gateway === undefined) throw new GatewayError(GatewayErrorCode.Unauthorized, 'unauthorized');
    request.gateway = gateway;
    return true;
  }
}
