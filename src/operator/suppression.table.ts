import { defineTable, RowOf, text, timestamptz } from '../database/table';

export const SUPPRESSION_STATES = ['none', 'cooling_off', 'self_excluded'] as const;
export type SuppressionState = (typeof SUPPRESSION_STATES)[number];

/** A player's responsible-gambling state, as the operator last set it (SPEC v2 §7); no row: `none`. */
export const suppressionTable = defineTable('player_suppressions', {
  brand: text(),
  ext_user_id: text(),
  suppression: text<SuppressionState>(),
  until: timestamptz().orNull(),
  set_at: timestamptz().notInserted(),
});

export type SuppressionRow = RowOf<typeof suppressionTable>;
