/** Funnel statuses in the order a player reaches them; a later one implies the earlier ones. */
export const FUNNEL_STATUSES = ['delivered', 'opened', 'clicked'] as const;

/** The statuses we report: only values from Smartico's list, `failed` outside the funnel. */
export const CALLBACK_STATUSES = [...FUNNEL_STATUSES, 'failed'] as const;

export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

export function isCallbackStatus(value: string): value is CallbackStatus {
  return (CALLBACK_STATUSES as readonly string[]).includes(value);
}

export interface CallbackParams {
  messageId: string;
  status: CallbackStatus;
  apiKey: string;
}

/**
 * `callbackUrl` with Smartico's four parameters appended. Existing query parameters are kept
 * byte for byte (a signed URL stays valid), except ones named like ours, which ours replace.
 * The fragment is dropped: it is never sent.
 */
export function buildCallbackUrl(callbackUrl: string, params: CallbackParams): string {
  if (!isCallbackStatus(params.status)) throw new TypeError(`not a callback status: ${String(params.status)}`);
  const url = new URL(callbackUrl);
  const ours = new URLSearchParams({
    type: 'cim',
    ext_message_id: params.messageId,
    status: params.status,
    api_key: params.apiKey,
  });
  const kept = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !ours.has(decodedKey(pair)));
  url.search = [...kept, ours.toString()].join('&');
  url.hash = '';
  return url.href;
}

function decodedKey(pair: string): string {
  return new URLSearchParams(pair).keys().next().value ?? '';
}
