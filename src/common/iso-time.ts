/** A timestamp as the API shows it (ISO 8601, UTC, milliseconds), or null. */
export function toIso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
