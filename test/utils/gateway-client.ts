import { randomUUID } from 'node:crypto';

import { GATEWAY_A } from './create-test-app';

export interface GatewayReply {
  status: number;
  contentType: string | null;
  json: Record<string, unknown>;
}

export interface PostOptions {
  authorization?: string | null;
  contentType?: string | null;
  headers?: Record<string, string>;
}

/** A Custom IM request shaped as Smartico sends it (seed 002). */
export function customIm(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ext_user_id: 'player-1',
    from_number: null,
    body: 'Best offer ever',
    im_uid: `im-${randomUUID()}`,
    callback_url: 'https://api.smartico.ai/cim/callback?label=7',
    extension: { title: 'Microsoft is raising', description: 'The bullish trend...', action: 'BUY', instrument: 'MSFT' },
    ...overrides,
  };
}

/** POSTs a raw body (string or object) to the gateway as Smartico would, with the brand-a secret by default. */
export async function postGateway(baseUrl: string, body: unknown, options: PostOptions = {}): Promise<GatewayReply> {
  const headers: Record<string, string> = { ...options.headers };
  const authorization = options.authorization === undefined ? GATEWAY_A.authorization : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const response = await fetch(`${baseUrl}/gateway/custom-im`, {
    method: 'POST',
    headers,
    body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`gateway answered non-JSON (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, contentType: response.headers.get('content-type'), json };
}
