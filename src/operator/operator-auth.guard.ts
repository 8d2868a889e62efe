import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { bearerToken, brandKeyMatcher, KeyHolder } from '../common/bearer-keys';
import type { SecretMatcher } from '../common/secret-matcher';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { BrandScope } from '../config/brand-scope';

/** After OperatorAuthGuard: which key was presented (its index, never the key) and the brand it is limited to. */
export type OperatorRequest = FastifyRequest & { operatorKeyIndex?: number; operatorScope?: BrandScope };

/**
 * `Authorization: Bearer <key>`, compared in constant time against OPERATOR_API_KEYS (every brand) and each brand's
 * `operatorApiKeys` (that brand only); with no keys configured nobody gets in.
 */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  private readonly matcher: SecretMatcher<KeyHolder>;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'operatorApiKeys' | 'brands'>) {
    this.matcher = brandKeyMatcher(
      config.operatorApiKeys,
      (config.brands ?? []).map((brand) => ({ id: brand.id, keys: brand.operatorApiKeys })),
    );
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<OperatorRequest>();
    const key = this.matcher.match(bearerToken(request.headers.authorization));
    if (key === undefined) throw new UnauthorizedException('a valid operator API key is required');
    request.operatorKeyIndex = key.index;
    request.operatorScope = key.scope;
    return true;
  }
}
