import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { bearerToken, brandKeyMatcher, KeyHolder } from '../common/bearer-keys';
import type { SecretMatcher } from '../common/secret-matcher';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { BrandScope } from '../config/brand-scope';

/** After SupportAuthGuard: which key was presented (its index, never the key), for per-key limits, and the brand it is limited to. */
export type SupportRequest = FastifyRequest & { supportKeyIndex?: number; supportScope?: BrandScope };

/**
 * `Authorization: Bearer <key>`, compared in constant time against SUPPORT_API_KEYS (every brand) and each brand's
 * `supportApiKeys` (that brand only); with no keys configured nobody gets in.
 */
@Injectable()
export class SupportAuthGuard implements CanActivate {
  private readonly matcher: SecretMatcher<KeyHolder>;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'supportApiKeys' | 'brands'>) {
    this.matcher = brandKeyMatcher(
      config.supportApiKeys,
      (config.brands ?? []).map((brand) => ({ id: brand.id, keys: brand.supportApiKeys })),
    );
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<SupportRequest>();
    const key = this.matcher.match(bearerToken(request.headers.authorization));
    if (key === undefined) throw new UnauthorizedException('a valid support API key is required');
    request.supportKeyIndex = key.index;
    request.supportScope = key.scope;
    return true;
  }
}
