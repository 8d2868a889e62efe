/**
 * Scenario sizes. `npm run test:reliability` sets RELIABILITY_FULL=1 and runs every scenario at the
 * sizes its issue names; inside `npm test` the same scenarios run as a quick selection with smaller
 * numbers (fewer posts, shorter load, fewer fuzz runs), never skipped.
 */
export const FULL = process.env.RELIABILITY_FULL === '1';

/** `full` under `npm run test:reliability`, `quick` inside `npm test`. */
export function scale<T>(full: T, quick: T): T {
  return FULL ? full : quick;
}
