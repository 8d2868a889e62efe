import { CallbackStatus, isCallbackStatus } from '../messages/message-status';

// the dispatcher checks statuses where it builds URLs
export { isCallbackStatus };

export interface CallbackParams {
  messageId: string;
  status: CallbackStatus;
  apiKey: string;
}

// existing parameters kept byte for byte (a signed URL stays valid), except ones named like ours
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
