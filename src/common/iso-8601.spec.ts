import { parseIso8601 } from './iso-8601';

const utc = { timeWithoutZone: 'utc' } as const;
const zoned = { timeWithoutZone: 'refuse' } as const;

describe('parseIso8601', () => {
  it.each([
    ['2026-01-31', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31T12:34', '2026-01-31T12:34:00.000Z'],
    ['2026-01-31T12:34:56Z', '2026-01-31T12:34:56.000Z'],
    ['2026-01-31T12:34:56.789Z', '2026-01-31T12:34:56.789Z'],
    ['2026-01-31T12:34:56.789123Z', '2026-01-31T12:34:56.789Z'],
    ['2026-01-31T12:34:56,5Z', '2026-01-31T12:34:56.500Z'],
    ['2026-01-31T12:34:56', '2026-01-31T12:34:56.000Z'],
    ['2026-01-31 12:34:56Z', '2026-01-31T12:34:56.000Z'],
    ['2026-01-31t12:34:56z', '2026-01-31T12:34:56.000Z'],
    ['2026-01-31T12:34:56+02:00', '2026-01-31T10:34:56.000Z'],
    ['2026-01-31T12:34:56-0530', '2026-01-31T18:04:56.000Z'],
    ['2026-01-31T12:34:56+02', '2026-01-31T10:34:56.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('reads %s', (value, iso) => {
    expect(new Date(parseIso8601(value, utc)!).toISOString()).toBe(iso);
  });

  it.each([
    '',
    'yesterday',
    '2026-13-01',
    '2026-02-30',
    '2026-04-31T10:00:00Z',
    '2025-02-29',
    '2026-01-31T24:00:00Z',
    '2026-01-31T12:60:00Z',
    '2026-01-31T12:00:60Z',
    '2026-01-31T12:00:00+25:00',
    '2026-01-31T12:00:00+02:60',
    '2026-01-31 12:00:00 02:00', // a "+" sent unencoded in a query string arrives as a space
    ' 2026-01-31',
    '0999-01-01',
    '9999-12-31T23:59:59-01:00',
    "2026-01-01' OR '1'='1",
    '1769860800000',
  ])('refuses %j', (value) => {
    expect(parseIso8601(value, utc)).toBeNull();
  });

  describe('when a date-time must name its zone', () => {
    it('refuses a date-time without one', () => {
      expect(parseIso8601('2026-01-31T12:34:56', zoned)).toBeNull();
      expect(parseIso8601('2026-01-31 12:34', zoned)).toBeNull();
    });

    it('still reads a bare date as midnight UTC, and a zoned date-time', () => {
      expect(parseIso8601('2026-01-31', zoned)).toBe(Date.UTC(2026, 0, 31));
      expect(parseIso8601('2026-01-31T12:34:56+01:00', zoned)).toBe(Date.UTC(2026, 0, 31, 11, 34, 56));
    });
  });
});
