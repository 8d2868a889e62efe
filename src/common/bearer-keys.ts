import type { BrandScope } from '../config/brand-scope';
import { SecretMatcher } from './secret-matcher';

/** Which key was presented: its index (never the key itself), and the brand it is limited to (null: every brand). */
export interface KeyHolder {
  index: number;
  scope: BrandScope;
}

/** Global keys reach every brand, a brand's own keys only that brand; compared in constant time. */
export function brandKeyMatcher(global: readonly string[], brands: ReadonlyArray<{ id: string; keys: readonly string[] }>): SecretMatcher<KeyHolder> {
  const keys: Array<[string, BrandScope]> = [
    ...global.map((key): [string, BrandScope] => [key, null]),
    ...brands.flatMap((brand) => brand.keys.map((key): [string, BrandScope] => [key, brand.id])),
  ];
  return new SecretMatcher(keys.map(([key, scope], index) => [key, { index, scope }] as const));
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer ([^\s]+)$/i.exec(authorization ?? '')?.[1];
}
