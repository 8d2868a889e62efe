import { createHmac } from 'node:crypto';

import { ClickTokenCodec } from './click-token';

const secret = 'test-click-secret-0123456789abcdef';
const messageId = '7f1c0a52-9a43-4f1e-8d2a-1b5e0c3d4e5f';
const target = 'https://casino.example.com/promo?bonus=50&utm_source=inbox#top';

/** What a holder of the secret could mint, to show which checks come after the signature. */
function signRaw(payload: Buffer): string {
  const text = payload.toString('base64url');
  const mac = createHmac('sha256', secret).update('cim-inbox click v1\n').update(text).digest().subarray(0, 16);
  return `${text}.${mac.toString('base64url')}`;
}

const payloadOf = (id: string, url: Buffer | string, version = 1): Buffer =>
  Buffer.concat([Buffer.of(version), Buffer.from(id.replace(/-/g, ''), 'hex'), Buffer.from(url)]);

describe('ClickTokenCodec', () => {
  const sut = new ClickTokenCodec(secret);

  it('round-trips the message id and target URL', () => {
    const token = sut.sign(messageId, target);
    expect(sut.verify(token)).toEqual({ messageId, targetUrl: target });
  });

  it('round-trips a button id, which no other token of the message can be turned into', () => {
    const token = sut.sign(messageId, target, 'claim');
    expect(sut.verify(token)).toEqual({ messageId, targetUrl: target, buttonId: 'claim' });
    expect(sut.verify(sut.sign(messageId, target, 'é-1'))?.buttonId).toBe('é-1');
    expect(sut.verify(sut.sign(messageId, target))?.buttonId).toBeUndefined();
  });

  it('rejects a button token whose id length runs past the payload', () => {
    const id = Buffer.from(messageId.replace(/-/g, ''), 'hex');
    const lying = Buffer.concat([Buffer.of(2), id, Buffer.of(200), Buffer.from('ab'), Buffer.from('https://x.example/')]);
    expect(sut.verify(signRaw(lying))).toBeNull();
    const empty = Buffer.concat([Buffer.of(2), id, Buffer.of(0), Buffer.from('https://x.example/')]);
    expect(sut.verify(signRaw(empty))).toBeNull();
  });

  it('produces compact URL-safe tokens', () => {
    const token = sut.sign(messageId, 'https://example.com/p');
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(token.length).toBeLessThanOrEqual(75);
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('returns the message id in lower case', () => {
    expect(sut.verify(sut.sign(messageId.toUpperCase(), target))?.messageId).toBe(messageId);
  });

  it('keeps non-ASCII target URLs', () => {
    const url = 'https://example.com/naïve/ü?q=日本';
    expect(sut.verify(sut.sign(messageId, url))).toEqual({ messageId, targetUrl: url });
  });

  it('accepts a Buffer secret equal to the string one', () => {
    expect(new ClickTokenCodec(Buffer.from(secret)).verify(sut.sign(messageId, target))).toEqual({ messageId, targetUrl: target });
  });

  it('rejects a token signed with another secret', () => {
    expect(new ClickTokenCodec('another-secret').verify(sut.sign(messageId, target))).toBeNull();
  });

  it('rejects any single-character change', () => {
    const token = sut.sign(messageId, 'https://example.com/x');
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      const replacement = token[i] === 'A' ? 'B' : 'A';
      expect(sut.verify(token.slice(0, i) + replacement + token.slice(i + 1))).toBeNull();
    }
  });

  it('rejects a target swapped under the original signature', () => {
    const [, signature] = sut.sign(messageId, target).split('.');
    const [otherPayload] = sut.sign(messageId, 'https://evil.example/').split('.');
    expect(sut.verify(`${otherPayload}.${signature}`)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['a lone dot', '.'],
    ['no signature', 'abc'],
    ['three parts', 'a.b.c'],
    ['padding', `${'A'.repeat(24)}==.${'A'.repeat(22)}`],
    ['standard base64 characters', 'ab+/.cd+/'],
    ['whitespace', ' abc.def'],
    ['a huge input', `${'A'.repeat(10_000)}.${'A'.repeat(22)}`],
  ])('rejects malformed input: %s', (_label, token) => {
    expect(sut.verify(token)).toBeNull();
  });

  it('rejects a signature of the wrong length without throwing', () => {
    const [payload, signature] = sut.sign(messageId, target).split('.');
    expect(sut.verify(`${payload}.${signature.slice(0, 20)}`)).toBeNull();
    expect(sut.verify(`${payload}.${signature}AAAA`)).toBeNull();
  });

  it('rejects a signature in a non-canonical encoding', () => {
    const token = sut.sign(messageId, target);
    // 16 bytes leave 4 unused bits in the last base64url character; flipping them decodes the same bytes
    const last = token.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1];
    expect(Buffer.from(token.slice(-22, -1) + twin, 'base64url')).toEqual(Buffer.from(token.slice(-22), 'base64url'));
    expect(sut.verify(token.slice(0, -1) + twin)).toBeNull();
  });

  describe('even with a valid signature', () => {
    it('accepts what it signs', () => {
      expect(sut.verify(signRaw(payloadOf(messageId, target)))).toEqual({ messageId, targetUrl: target });
    });

    it.each([
      ['an unknown version', payloadOf(messageId, target, 2)],
      ['no target', payloadOf(messageId, '')],
      ['a truncated uuid', Buffer.concat([Buffer.of(1), Buffer.alloc(10)])],
      ['a javascript: target', payloadOf(messageId, 'javascript:alert(1)')],
      ['a data: target', payloadOf(messageId, 'data:text/html,<script>alert(1)</script>')],
      ['a relative target', payloadOf(messageId, '/promo')],
      ['invalid UTF-8', payloadOf(messageId, Buffer.from([0x68, 0x74, 0xff, 0xfe]))],
    ])('rejects %s', (_label, payload) => {
      expect(sut.verify(signRaw(payload))).toBeNull();
    });
  });

  it('refuses to sign a non-uuid message id or a non-web target', () => {
    expect(() => sut.sign('123', target)).toThrow('uuid');
    expect(() => sut.sign(`${messageId}0`, target)).toThrow('uuid');
    expect(() => sut.sign(messageId, 'javascript:alert(1)')).toThrow('http(s)');
    expect(() => sut.sign(messageId, 'not a url')).toThrow('http(s)');
  });

  it('refuses an empty secret', () => {
    expect(() => new ClickTokenCodec('')).toThrow('empty');
    expect(() => new ClickTokenCodec(Buffer.alloc(0))).toThrow('empty');
  });
});
