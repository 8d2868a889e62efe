import { createHmac, timingSafeEqual } from 'node:crypto';

import { isUuid } from '../common/uuid';

export interface ClickTarget {
  messageId: string;
  targetUrl: string;
}

const VERSION = 1;
const UUID_BYTES = 16;
// 128 bits: forging one needs ~2^128 online guesses, and it keeps links short
const MAC_BYTES = 16;
const MAX_TOKEN_LENGTH = 8_192;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Signed click-link tokens: base64url(version ‖ uuid bytes ‖ target URL) '.' base64url(HMAC-SHA256
 * truncated). The MAC covers a context label too, so a secret shared with another use cannot mint these.
 */
export class ClickTokenCodec {
  private readonly secret: Buffer;

  constructor(secret: Buffer | string) {
    this.secret = Buffer.from(secret);
    if (this.secret.length === 0) throw new TypeError('click token secret must not be empty');
  }

  sign(messageId: string, targetUrl: string): string {
    if (!isUuid(messageId)) throw new TypeError('messageId must be a uuid');
    if (!isWebUrl(targetUrl)) throw new TypeError('targetUrl must be an http(s) URL');
    const payload = Buffer.concat([Buffer.of(VERSION), Buffer.from(messageId.replace(/-/g, ''), 'hex'), Buffer.from(targetUrl, 'utf8')]).toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  verify(token: string): ClickTarget | null {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
    const parts = token.split('.');
    if (parts.length !== 2) return null;
    const [payload, signature] = parts;
    const presented = decodeCanonical(signature);
    if (!presented || presented.length !== MAC_BYTES || !timingSafeEqual(presented, this.mac(payload))) return null;

    const bytes = decodeCanonical(payload);
    if (!bytes || bytes.length <= 1 + UUID_BYTES || bytes[0] !== VERSION) return null;
    const hex = bytes.subarray(1, 1 + UUID_BYTES).toString('hex');
    const messageId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    let targetUrl: string;
    try {
      targetUrl = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(1 + UUID_BYTES));
    } catch {
      return null;
    }
    return isWebUrl(targetUrl) ? { messageId, targetUrl } : null;
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.secret).update('cim-inbox click v1\n').update(payload).digest().subarray(0, MAC_BYTES);
  }
}

/** Node's decoder skips characters it does not know; only the exact re-encodable form is accepted. */
function decodeCanonical(text: string): Buffer | null {
  if (!BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

function isWebUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
