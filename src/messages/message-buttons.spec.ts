import { readButtons } from './message-buttons';

describe('readButtons', () => {
  it('reads up to three buttons, ids defaulting to their index', () => {
    const extension = {
      buttons: [
        { text: 'Claim', url: 'https://c.example/claim' },
        { id: 'join', text: 'Join', action: 'join_tournament' },
        { text: 'Close' },
        { text: 'Fourth', url: 'https://c.example/4' },
      ],
    };
    expect(readButtons(extension)).toEqual([
      { id: '0', text: 'Claim', url: 'https://c.example/claim', action: null },
      { id: 'join', text: 'Join', url: null, action: 'join_tournament' },
      { id: '2', text: 'Close', url: null, action: null },
    ]);
  });

  it.each([
    ['no text', { url: 'https://c.example' }],
    ['empty text', { text: ' ' }],
    ['a javascript: url', { text: 'x', url: 'javascript:alert(1)' }],
    ['a relative url', { text: 'x', url: '/promo' }],
    ['a numeric id', { id: 7, text: 'x' }],
    ['an empty action', { text: 'x', action: '' }],
    ['both a url and an action', { text: 'x', url: 'https://c.example', action: 'claim' }],
    ['not an object', 'Claim'],
  ])('drops an entry with %s, keeping the others', (_case, entry) => {
    expect(readButtons({ buttons: [entry, { id: 'ok', text: 'OK' }] })).toEqual([{ id: 'ok', text: 'OK', url: null, action: null }]);
  });

  it('keeps the first of two buttons with one id', () => {
    expect(
      readButtons({
        buttons: [
          { id: 'a', text: 'One' },
          { id: 'a', text: 'Two' },
        ],
      }).map((button) => button.text),
    ).toEqual(['One']);
  });

  it.each([[null], [{}], [{ buttons: 'x' }], [{ buttons: {} }]])('is empty for %j', (extension) => {
    expect(readButtons(extension as Record<string, unknown> | null)).toEqual([]);
  });
});
