import { Inject, Injectable, Logger, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };

import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { DemoToken } from './demo.dto';

type Jose = typeof JoseModule;

const DEFAULT_EXPIRES_IN = 900;

/**
 * Mints HS256 player tokens as an operator's backend would, so the demo page works with no setup.
 * It lets anyone who reaches it act as any player: dev mode and DEMO=true only.
 */
@Injectable()
export class DemoTokenService implements OnModuleInit {
  private readonly logger = new Logger(DemoTokenService.name);
  private jose!: Jose;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    // jose is ESM-only; a dynamic import loads it from CommonJS
    this.jose = await import('jose');
    if (!this.config.devMode) {
      this.logger.warn('DEMO=true: /demo/token mints a player token for any ext_user_id; never enable it where players can reach it');
    }
  }

  async mint(extUserId: string, expiresIn = DEFAULT_EXPIRES_IN): Promise<DemoToken> {
    const { jwtSecret, issuer, audience } = this.config.player;
    if (jwtSecret === undefined) {
      throw new ServiceUnavailableException('demo tokens need PLAYER_JWT_SECRET (player tokens are verified with PLAYER_JWKS_URL here)');
    }
    const now = Math.floor(Date.now() / 1000);
    const jwt = new this.jose.SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(extUserId)
      .setIssuedAt(now)
      .setExpirationTime(now + expiresIn);
    if (issuer !== undefined) jwt.setIssuer(issuer);
    if (audience !== undefined) jwt.setAudience(audience);
    const token = await jwt.sign(new TextEncoder().encode(jwtSecret));
    return { token, ext_user_id: extUserId, expires_at: new Date((now + expiresIn) * 1000).toISOString() };
  }
}
