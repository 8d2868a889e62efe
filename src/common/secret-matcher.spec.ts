import { SecretMatcher } from './secret-matcher';

describe('SecretMatcher', () => {
  const sut = new SecretMatcher([
    ['secret-a', 'A'],
    ['secret-bb', 'B'],
  ] as const);

  it('finds the owner of an exact secret', () => {
    expect(sut.match('secret-a')).toBe('A');
    expect(sut.match('secret-bb')).toBe('B');
  });

  it.each([undefined, '', 'secret-A', 'secret-a ', ' secret-a', 'secret-', 'secret-bbb', 'x'.repeat(10_000)])(
    'finds nobody for %j, without throwing on a length mismatch',
    (presented) => {
      expect(sut.match(presented)).toBeUndefined();
    },
  );

  it('never matches an empty presented value, even against an empty configured secret', () => {
    expect(new SecretMatcher([['', 'E']] as const).match('')).toBeUndefined();
  });
});
