import { isHttpUrl } from './http-url';
import { toIso } from './iso-time';
import { toBoolean, toInt } from './query-transforms';
import { isUuid } from './uuid';

describe('isUuid', () => {
  it.each(['6f1c2b1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f', '6F1C2B1E-2A3B-4C5D-8E9F-0A1B2C3D4E5F'])('accepts %s', (value) => expect(isUuid(value)).toBe(true));
  it.each(['', '6f1c2b1e2a3b4c5d8e9f0a1b2c3d4e5f', '6f1c2b1e-2a3b-4c5d-8e9f-0a1b2c3d4e5', ' 6f1c2b1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f', 42, null])(
    'refuses %p',
    (value) => expect(isUuid(value)).toBe(false),
  );
});

describe('isHttpUrl', () => {
  it.each(['http://a.example/x', 'https://a.example:8443/x?y=1', 'HTTPS://A.EXAMPLE'])('accepts %s', (value) => expect(isHttpUrl(value)).toBe(true));
  it.each(['', 'ftp://a.example', 'javascript:alert(1)', '/relative', 'http://', 'mailto:a@b.c'])('refuses %s', (value) =>
    expect(isHttpUrl(value)).toBe(false),
  );
});

describe('toIso', () => {
  it('shows a date in UTC with milliseconds and null as null', () => {
    expect(toIso(new Date(Date.UTC(2026, 11, 3, 18, 0, 0, 5)))).toBe('2026-12-03T18:00:00.005Z');
    expect(toIso(null)).toBeNull();
  });
});

describe('query transforms', () => {
  it('convert only exact text', () => {
    expect(toInt({ value: '42' })).toBe(42);
    expect(toInt({ value: '-3' })).toBe(-3);
    expect(toInt({ value: '4.2' })).toBe('4.2');
    expect(toInt({ value: '1e3' })).toBe('1e3');
    expect(toBoolean({ value: 'true' })).toBe(true);
    expect(toBoolean({ value: 'false' })).toBe(false);
    expect(toBoolean({ value: '1' })).toBe('1');
  });
});
