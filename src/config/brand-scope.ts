/** A brand id (SPEC §1): what CIM_GATEWAYS, tokens and queries may name. */
export const BRAND_ID_PATTERN = /^[a-z0-9._-]{1,64}$/;
export const BRAND_ID_RULE = 'must be 1-64 characters of a-z, 0-9, ".", "_" or "-"';

/** What a key may reach: one brand, or every brand (null) for a global key. */
export type BrandScope = string | null;

export type BrandChoice = { kind: 'brand'; brand: string } | { kind: 'not-found' } | { kind: 'invalid'; message: string };

/**
 * Which brand a request about one player means (SPEC §5, §7): a brand key's own brand; for a global key the
 * requested one, which may be left out only when a single brand is configured. A brand key asking for another
 * brand learns nothing: it is answered as an unknown id would be.
 */
export function chooseBrand(brands: readonly string[], scope: BrandScope, requested: string | undefined): BrandChoice {
  if (scope !== null) return requested === undefined || requested === scope ? { kind: 'brand', brand: scope } : { kind: 'not-found' };
  if (requested !== undefined) {
    return brands.includes(requested) ? { kind: 'brand', brand: requested } : { kind: 'invalid', message: `brand "${requested}" is not a configured brand` };
  }
  if (brands.length === 1) return { kind: 'brand', brand: brands[0] };
  return { kind: 'invalid', message: 'brand is required when more than one brand is configured' };
}

/** The brand a search is limited to (null: all); like chooseBrand, but leaving it out of a global key's search means every brand. */
export function searchBrand(brands: readonly string[], scope: BrandScope, requested: string | undefined): BrandChoice | { kind: 'all' } {
  if (scope === null && requested === undefined) return { kind: 'all' };
  return chooseBrand(brands, scope, requested);
}
