import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type { JWTVerifyGetKey, JWTVerifyOptions } from 'jose' with { 'resolution-mode': 'import' };

import { APP_CONFIG, AppConfig } from '../config/app.config';

type Jose = typeof JoseModule;

export interface Player {
  /** the token's `sub`: the player's ext_user_id */
  id: string;
  /** when the token stops being valid (ms since the epoch) */
  expiresAt: number;
}

export class PlayerUnauthorizedError extends Error {
  override readonly name = 'PlayerUnauthorizedError';
}

/** Player JWTs (HS256 secret or a JWKS jose caches), `sub` and `exp` required; behind the REST guard and the socket middleware. */
@Injectable()
export class PlayerAuthService implements OnModuleInit {
  private jose!: Jose;
  private key?: Uint8Array | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const { issuer, audience, jwksUrl } = config.player;
    this.options = {
      algorithms: jwksUrl !== undefined ? ['RS256', 'ES256'] : ['HS256'],
      requiredClaims: ['sub', 'exp'],
      ...(issuer !== undefined ? { issuer } : {}),
      ...(audience !== undefined ? { audience } : {}),
      clockTolerance: 5,
    };
  }

  async onModuleInit(): Promise<void> {
    // jose is ESM-only; a dynamic import loads it from CommonJS
    this.jose = await import('jose');
    const { jwtSecret, jwksUrl } = this.config.player;
    if (jwksUrl !== undefined) {
      this.key = this.jose.createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
    } else if (jwtSecret !== undefined) {
      this.key = new TextEncoder().encode(jwtSecret);
    }
  }

  /** The player a token names; throws PlayerUnauthorizedError for anything else. */
  async verify(token: unknown): Promise<Player> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192 || this.key === undefined) {
      throw new PlayerUnauthorizedError('unauthorized');
    }
    try {
      const { payload } =
        typeof this.key === 'function' ? await this.jose.jwtVerify(token, this.key, this.options) : await this.jose.jwtVerify(token, this.key, this.options);
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255 || payload.exp === undefined) {
        throw new PlayerUnauthorizedError('unauthorized');
      }
      return { id: payload.sub, expiresAt: payload.exp * 1000 };
    } catch {
      throw new PlayerUnauthorizedError('unauthorized');
    }
  }
}
