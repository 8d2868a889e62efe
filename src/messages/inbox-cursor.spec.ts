import { decodeCursor, encodeCursor } from './inbox-cursor';

describe('inbox cursor', () => {
  const cursor = { createdUs: '1795315843996123', id: '0b6d6c3e-8f1a-4b7e-9d59-2f6f1b1f9a10' };

  it('round-trips', () => {
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    '',
    'not base64!',
    Buffer.from('123').toString('base64url'),
    Buffer.from('abc.0b6d6c3e-8f1a-4b7e-9d59-2f6f1b1f9a10').toString('base64url'),
    Buffer.from('1.2.3').toString('base64url'),
    Buffer.from("1.' OR 1=1 --").toString('base64url'),
    'x'.repeat(500),
  ])('refuses %j', (value) => {
    expect(decodeCursor(value)).toBeNull();
  });
});
