import { createHmac, timingSafeEqual } from 'node:crypto';

import { isUuid } from '../common/uuid';

export interface ClickTarget {
  messageId: string;
  targetUrl: string;
  /** the button whose link this is (SPEC v2 §2); absent for the message's cta_url */
  buttonId?: string;
}

const VERSION = 1;
// a button's link: the button id (length byte, UTF-8) between the message id and the target
const BUTTON_VERSION = 2;
const MAX_BUTTON_ID_BYTES = 255;
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

  sign(messageId: string, targetUrl: string, buttonId?: string): string {
    if (!isUuid(messageId)) throw new TypeError('messageId must be a uuid');
    if (!isWebUrl(targetUrl)) throw new TypeError('targetUrl must be an http(s) URL');
    const id = Buffer.from(messageId.replace(/-/g, ''), 'hex');
    const url = Buffer.from(targetUrl, 'utf8');
    let parts = [Buffer.of(VERSION), id, url];
    if (buttonId !== undefined) {
      const button = Buffer.from(buttonId, 'utf8');
      if (button.length === 0 || button.length > MAX_BUTTON_ID_BYTES) throw new TypeError('buttonId must be 1-255 bytes');
      parts = [Buffer.of(BUTTON_VERSION), id, Buffer.of(button.length), button, url];
    }
    const payload = Buffer.concat(parts).toString('base64url');
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
    if (!bytes || bytes.length <= 1 + UUID_BYTES || (bytes[0] !== VERSION && bytes[0] !== BUTTON_VERSION)) return null;
    const hex = bytes.subarray(1, 1 + UUID_BYTES).toString('hex');
    const messageId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    let rest = bytes.subarray(1 + UUID_BYTES);
    let buttonId: string | undefined;
    if (bytes[0] === BUTTON_VERSION) {
      const length = rest[0];
      if (length === 0 || rest.length <= 1 + length) return null;
      buttonId = decodeUtf8(rest.subarray(1, 1 + length)) ?? undefined;
      if (buttonId === undefined) return null;
      rest = rest.subarray(1 + length);
    }
    const targetUrl = decodeUtf8(rest);
    if (targetUrl === null || !isWebUrl(targetUrl)) return null;
    return buttonId === undefined ? { messageId, targetUrl } : { messageId, targetUrl, buttonId };
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.secret).update('cim-inbox click v1\n').update(payload).digest().subarray(0, MAC_BYTES);
  }
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
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
