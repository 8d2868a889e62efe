import { Inject, Injectable, Logger, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };

import { RequestValidationError } from '../common/request-validation.error';
import { APP_CONFIG, AppConfig, brandIdsOf } from '../config/app.config';
import { chooseBrand } from '../config/brand-scope';
import type { DemoToken } from './demo.dto';

const DEFAULT_EXPIRES_IN = 900;

/** Lets anyone act as any player, as an operator's backend could: dev mode and DEMO=true only. */
@Injectable()
export class DemoTokenService implements OnModuleInit {
  private readonly logger = new Logger(DemoTokenService.name);
  private jose!: typeof JoseModule;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    // jose is ESM-only; a dynamic import loads it from CommonJS
    this.jose = await import('jose');
    if (!this.config.devMode) {
      this.logger.warn('DEMO=true: /demo/token mints a player token for any ext_user_id; never enable it where players can reach it');
    }
  }

  /** Signed as the brand's own backend would: with its key in CIM_BRANDS, or the global one, and its `brand` claim. */
  async mint(extUserId: string, expiresIn = DEFAULT_EXPIRES_IN, requestedBrand?: string): Promise<DemoToken> {
    const choice = chooseBrand(brandIdsOf(this.config), null, requestedBrand);
    if (choice.kind !== 'brand')
      throw new RequestValidationError([{ field: 'brand', message: choice.kind === 'invalid' ? choice.message : 'brand not found', tooLarge: false }]);
    const brand = choice.brand;
    const own = this.config.brands?.find((entry) => entry.id === brand);
    const { issuer, audience } = this.config.player;
    const jwtSecret = own?.playerJwksUrl !== undefined ? undefined : (own?.playerJwtSecret ?? this.config.player.jwtSecret);
    if (jwtSecret === undefined) {
      throw new ServiceUnavailableException('demo tokens need an HS256 secret for this brand (its tokens are verified with a JWKS here)');
    }
    const now = Math.floor(Date.now() / 1000);
    const jwt = new this.jose.SignJWT({ brand })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(extUserId)
      .setIssuedAt(now)
      .setExpirationTime(now + expiresIn);
    if (issuer !== undefined) jwt.setIssuer(issuer);
    if (audience !== undefined) jwt.setAudience(audience);
    const token = await jwt.sign(new TextEncoder().encode(jwtSecret));
    return { token, brand, ext_user_id: extUserId, expires_at: new Date((now + expiresIn) * 1000).toISOString() };
  }
}
