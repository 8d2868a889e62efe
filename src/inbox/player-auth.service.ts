import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type { JWTVerifyGetKey, JWTVerifyOptions } from 'jose' with { 'resolution-mode': 'import' };

import { APP_CONFIG, AppConfig, brandIdsOf } from '../config/app.config';
import type { PlayerRef } from '../messages/player-ref';

type Jose = typeof JoseModule;

export interface Player extends PlayerRef {
  /** when the token stops being valid (ms since the epoch) */
  expiresAt: number;
}

export class PlayerUnauthorizedError extends Error {
  override readonly name = 'PlayerUnauthorizedError';
}

interface KeySource {
  jwtSecret?: string;
  jwksUrl?: string;
}

interface Verifier {
  key: Uint8Array | JWTVerifyGetKey;
  options: JWTVerifyOptions;
}

/**
 * Player JWTs (HS256 secret or a JWKS jose caches), `sub` and `exp` required; behind the REST guard and the socket
 * middleware. The `brand` claim picks the key: that brand's own (CIM_BRANDS) or the global one, so a token signed
 * by brand A's key verifies only as a brand-A player.
 */
@Injectable()
export class PlayerAuthService implements OnModuleInit {
  private jose!: Jose;
  private readonly brands: Set<string>;
  /** the brand an absent claim means: set only when there is one */
  private readonly onlyBrand?: string;
  private global?: Verifier;
  private readonly own = new Map<string, Verifier>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const ids = brandIdsOf(config);
    this.brands = new Set(ids);
    this.onlyBrand = ids.length === 1 ? ids[0] : undefined;
  }

  async onModuleInit(): Promise<void> {
    // jose is ESM-only; a dynamic import loads it from CommonJS
    this.jose = await import('jose');
    this.global = this.verifier(this.config.player);
    for (const brand of this.config.brands ?? []) {
      const verifier = this.verifier({ jwtSecret: brand.playerJwtSecret, jwksUrl: brand.playerJwksUrl });
      if (verifier !== undefined) this.own.set(brand.id, verifier);
    }
  }

  /** The player a token names; throws PlayerUnauthorizedError for anything else. */
  async verify(token: unknown): Promise<Player> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw new PlayerUnauthorizedError('unauthorized');
    try {
      const brand = this.brandOf(this.jose.decodeJwt(token).brand);
      const verifier = this.own.get(brand) ?? this.global;
      if (verifier === undefined) throw new PlayerUnauthorizedError('unauthorized');
      const { payload } =
        typeof verifier.key === 'function'
          ? await this.jose.jwtVerify(token, verifier.key, verifier.options)
          : await this.jose.jwtVerify(token, verifier.key, verifier.options);
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255 || payload.exp === undefined) {
        throw new PlayerUnauthorizedError('unauthorized');
      }
      return { brand, id: payload.sub, expiresAt: payload.exp * 1000 };
    } catch {
      throw new PlayerUnauthorizedError('unauthorized');
    }
  }

  // the claim is read before the signature is checked only to choose the key; the key then decides
  private brandOf(claim: unknown): string {
    const brand = claim === undefined ? this.onlyBrand : claim;
    if (typeof brand !== 'string' || !this.brands.has(brand)) throw new PlayerUnauthorizedError('unauthorized');
    return brand;
  }

  private verifier({ jwtSecret, jwksUrl }: KeySource): Verifier | undefined {
    const { issuer, audience } = this.config.player;
    const options: JWTVerifyOptions = {
      algorithms: jwksUrl !== undefined ? ['RS256', 'ES256'] : ['HS256'],
      requiredClaims: ['sub', 'exp'],
      ...(issuer !== undefined ? { issuer } : {}),
      ...(audience !== undefined ? { audience } : {}),
      clockTolerance: 5,
    };
    if (jwksUrl !== undefined) {
      return { key: this.jose.createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 }), options };
    }
    if (jwtSecret !== undefined) return { key: new TextEncoder().encode(jwtSecret), options };
    return undefined;
  }
}
