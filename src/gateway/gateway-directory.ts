import { Inject, Injectable } from '@nestjs/common';

import { SecretMatcher } from '../common/secret-matcher';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { GatewayConfig } from '../config/env.validation';

/** The gateway an `Authorization` value names (SPEC §2: the whole value, compared in constant time against each). */
@Injectable()
export class GatewayDirectory {
  private readonly matcher: SecretMatcher<GatewayConfig>;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'gateways'>) {
    this.matcher = new SecretMatcher(config.gateways.map((gateway) => [gateway.authorization, gateway] as const));
  }

  match(authorization: unknown): GatewayConfig | undefined {
    return this.matcher.match(typeof authorization === 'string' ? authorization : undefined);
  }
}
