const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * An ISO 8601 date or date-time as milliseconds since the epoch (the precision of the views'
 * timestamps); null when it is not one, or names a day that does not exist (2026-02-30). Without a
 * zone it is UTC, as every timestamp this API shows.
 */
export function parseIsoInstant(value: string): number | null {
  const match = ISO_8601.exec(value);
  if (match === null) return null;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] = match;
  const fields = [year, month, day, hour, minute, second].map(Number);
  const [y, mo, d, h, mi, s] = fields;
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3)));
  // Date.UTC rolls 2026-02-30 over to March 2nd; a real date survives the round trip
  if (new Date(local).getUTCDate() !== d) return null;
  const offset = zoneOffsetMinutes(zone);
  if (offset === null) return null;
  const instant = local - offset * 60_000;
  return /^\d{4}-/.test(new Date(instant).toISOString()) ? instant : null;
}

function zoneOffsetMinutes(zone: string): number | null {
  if (zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return null;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}
