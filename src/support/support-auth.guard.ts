import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { SecretMatcher } from '../common/secret-matcher';
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
  private readonly matcher: SecretMatcher<{ index: number; scope: BrandScope }>;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'supportApiKeys' | 'brands'>) {
    const keys: Array<[string, BrandScope]> = [
      ...config.supportApiKeys.map((key): [string, BrandScope] => [key, null]),
      ...(config.brands ?? []).flatMap((brand) => brand.supportApiKeys.map((key): [string, BrandScope] => [key, brand.id])),
    ];
    this.matcher = new SecretMatcher(keys.map(([key, scope], index) => [key, { index, scope }] as const));
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<SupportRequest>();
    const presented = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const key = this.matcher.match(presented);
    if (key === undefined) throw new UnauthorizedException('a valid support API key is required');
    request.supportKeyIndex = key.index;
    request.supportScope = key.scope;
    return true;
  }
}
