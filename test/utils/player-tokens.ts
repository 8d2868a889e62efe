import { PLAYER_JWT_SECRET } from './create-test-app';

export interface TokenOptions {
  expiresIn?: string | number;
  secret?: string;
  claims?: Record<string, unknown>;
  withoutSub?: boolean;
  withoutExp?: boolean;
}

/** An HS256 player token as the operator's backend would mint it. */
export async function playerToken(playerId: string, options: TokenOptions = {}): Promise<string> {
  const { SignJWT } = await import('jose');
  const jwt = new SignJWT({ ...options.claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (!options.withoutSub) jwt.setSubject(playerId);
  if (!options.withoutExp) jwt.setExpirationTime(options.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(options.secret ?? PLAYER_JWT_SECRET));
}

/** An unsigned token (`alg: none`), which must never be accepted. */
export function unsignedToken(playerId: string): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: playerId, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}
