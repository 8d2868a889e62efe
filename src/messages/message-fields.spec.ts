import { readWellKnownFields } from './message-fields';

describe('readWellKnownFields', () => {
  it('defaults without an extension', () => {
    expect(readWellKnownFields(undefined)).toEqual({ display: 'both', priority: 'normal', category: null, expires_at: null, body_html: null, group_key: null });
  });

  it('reads valid values', () => {
    expect(
      readWellKnownFields({ display: 'inbox', priority: 'high', category: 'bonus', expires_at: '2030-05-01T10:00:00+02:00', group: 'welcome-bonus' }),
    ).toEqual({
      display: 'inbox',
      priority: 'high',
      category: 'bonus',
      expires_at: new Date('2030-05-01T08:00:00Z'),
      body_html: null,
      group_key: 'welcome-bonus',
    });
  });

  it.each([
    [{ display: 'POPUP' }, 'display', 'both'],
    [{ group: 7 }, 'group_key', null],
    [{ group: '' }, 'group_key', null],
    [{ display: 1 }, 'display', 'both'],
    [{ priority: 'urgent' }, 'priority', 'normal'],
    [{ category: '' }, 'category', null],
    [{ category: ['a'] }, 'category', null],
    [{ expires_at: 'tomorrow' }, 'expires_at', null],
    [{ expires_at: 1893456000 }, 'expires_at', null],
    [{ expires_at: '2030-13-45T00:00:00Z' }, 'expires_at', null],
  ])('falls back to the default for %j', (extension, key, expected) => {
    expect(readWellKnownFields(extension)[key as 'display']).toEqual(expected);
  });

  it('reads a bare date as midnight UTC', () => {
    expect(readWellKnownFields({ expires_at: '2030-01-02' }).expires_at).toEqual(new Date('2030-01-02T00:00:00Z'));
  });
});
