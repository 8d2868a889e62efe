import { defineTable, text, timestamptz } from '../database/table';

/** When each player last had a socket open (support: "last seen online"). */
export const presenceTable = defineTable('player_presence', {
  brand: text(),
  ext_user_id: text(),
  last_seen_at: timestamptz(),
});
