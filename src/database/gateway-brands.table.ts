import { boolean, defineTable, text, timestamptz } from './table';

/** The brand each gateway's messages were given, as configured when it was first seen (src/database/brand-backfill.ts). */
export const gatewayBrandsTable = defineTable('gateway_brands', {
  gateway_id: text(),
  brand: text(),
  backfilled: boolean().notInserted(),
  recorded_at: timestamptz().notInserted(),
});
