const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

export interface Iso8601Options {
  /** What a date-time without a zone means: UTC (as every timestamp this API shows), or not an instant at all. */
  timeWithoutZone: 'utc' | 'refuse';
}

/**
 * An ISO 8601 date or date-time as milliseconds since the epoch; null when it is not one, or names
 * a day or time that does not exist (2026-02-30, 24:00). A bare date is midnight UTC.
 */
export function parseIso8601(value: string, options: Iso8601Options): number | null {
  const match = ISO_8601.exec(value);
  if (match === null) return null;
  const [, year, month, day, hour, minute = '0', second = '0', fraction = '', zone] = match;
  if (hour !== undefined && zone === undefined && options.timeWithoutZone === 'refuse') return null;
  const [y, mo, d, h, mi, s] = [year, month, day, hour ?? '0', minute, second].map(Number);
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3)));
  // Date.UTC rolls 2026-02-30 over to March 2nd; a real date survives the round trip
  if (new Date(local).getUTCDate() !== d) return null;
  const offset = zoneOffsetMinutes(zone ?? 'Z');
  if (offset === null) return null;
  const instant = local - offset * 60_000;
  return /^\d{4}-/.test(new Date(instant).toISOString()) ? instant : null;
}

/** A query's instant: a date-time without a zone is UTC. */
export function parseIsoInstant(value: string): number | null {
  return parseIso8601(value, { timeWithoutZone: 'utc' });
}

function zoneOffsetMinutes(zone: string): number | null {
  if (zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return null;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}
