import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { SecretMatcher } from '../common/secret-matcher';
import { APP_CONFIG, AppConfig } from '../config/app.config';

/** After SupportAuthGuard: which of SUPPORT_API_KEYS was presented (its index, never the key), for per-key limits. */
export type SupportRequest = FastifyRequest & { supportKeyIndex?: number };

/** `Authorization: Bearer <one of SUPPORT_API_KEYS>`, compared in constant time; with no keys configured nobody gets in. */
@Injectable()
export class SupportAuthGuard implements CanActivate {
  private readonly matcher: SecretMatcher<number>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.matcher = new SecretMatcher(config.supportApiKeys.map((key, index) => [key, index] as const));
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<SupportRequest>();
    const presented = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const index = this.matcher.match(presented);
    if (index === undefined) throw new UnauthorizedException('a valid support API key is required');
    request.supportKeyIndex = index;
    return true;
  }
}
