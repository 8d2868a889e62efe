import { CALLBACK_STATUSES, CallbackStatus, FUNNEL_STATUSES, isCallbackStatus } from '../messages/message-status';
import { buildCallbackUrl } from './callback-url';

const params = { messageId: '7f1c0a52-9a43-4f1e-8d2a-1b5e0c3d4e5f', status: 'delivered' as const, apiKey: 'key-123' };

describe('buildCallbackUrl', () => {
  const sut = buildCallbackUrl;

  it('appends the four parameters to a URL without a query', () => {
    expect(sut('https://api.smartico.ai/cim/callback', params)).toBe(
      'https://api.smartico.ai/cim/callback?type=cim&ext_message_id=7f1c0a52-9a43-4f1e-8d2a-1b5e0c3d4e5f&status=delivered&api_key=key-123',
    );
  });

  it('keeps the existing query byte for byte, ours after it', () => {
    const result = sut('https://api.smartico.ai/cb?brand=a%20b&sig=x~y%2Fz&flag', params);
    expect(result).toBe(
      'https://api.smartico.ai/cb?brand=a%20b&sig=x~y%2Fz&flag&type=cim&ext_message_id=7f1c0a52-9a43-4f1e-8d2a-1b5e0c3d4e5f&status=delivered&api_key=key-123',
    );
  });

  it('keeps scheme, host, port and path', () => {
    const result = new URL(sut('http://127.0.0.1:8080/a/b/?x=1', params));
    expect(result.origin).toBe('http://127.0.0.1:8080');
    expect(result.pathname).toBe('/a/b/');
    expect(result.searchParams.get('x')).toBe('1');
  });

  it('replaces parameters that already carry one of our names instead of duplicating them', () => {
    const result = new URL(sut('https://api.smartico.ai/cb?type=email&status=opened&keep=1&api%5Fkey=old&api_key=older&ext_message_id=1', params));
    for (const name of ['type', 'ext_message_id', 'status', 'api_key']) expect(result.searchParams.getAll(name)).toHaveLength(1);
    expect(Object.fromEntries(result.searchParams)).toEqual({
      keep: '1',
      type: 'cim',
      ext_message_id: params.messageId,
      status: 'delivered',
      api_key: 'key-123',
    });
  });

  it('URL-encodes values', () => {
    const result = sut('https://api.smartico.ai/cb', { ...params, apiKey: 'a&b=c d+e/é#' });
    expect(result).toContain('api_key=a%26b%3Dc+d%2Be%2F%C3%A9%23');
    expect(new URL(result).searchParams.get('api_key')).toBe('a&b=c d+e/é#');
  });

  it('drops the fragment, which is never sent', () => {
    expect(sut('https://api.smartico.ai/cb?x=1#frag', params)).toBe(
      'https://api.smartico.ai/cb?x=1&type=cim&ext_message_id=7f1c0a52-9a43-4f1e-8d2a-1b5e0c3d4e5f&status=delivered&api_key=key-123',
    );
  });

  it('ignores a bare "?" and empty pairs', () => {
    expect(sut('https://api.smartico.ai/cb?&&', params)).toBe(sut('https://api.smartico.ai/cb', params));
  });

  it.each(CALLBACK_STATUSES)('sends status %s as is', (status) => {
    expect(new URL(sut('https://api.smartico.ai/cb', { ...params, status })).searchParams.get('status')).toBe(status);
  });

  it('refuses a status outside the list, whatever the compiler was told', () => {
    expect(() => sut('https://api.smartico.ai/cb', { ...params, status: 'accepted' as CallbackStatus })).toThrow(TypeError);
  });

  it('throws on a URL that does not parse', () => {
    expect(() => sut('not a url', params)).toThrow('Invalid URL');
  });
});

describe('callback statuses', () => {
  it('are a subset of Smartico’s list, funnel first, failed and rejected separate', () => {
    const smartico = ['accepted', 'delivered', 'failed', 'rejected', 'complained', 'opened', 'unsubscribed', 'clicked'];
    for (const status of CALLBACK_STATUSES) expect(smartico).toContain(status);
    expect(FUNNEL_STATUSES).toEqual(['delivered', 'opened', 'clicked']);
    expect(CALLBACK_STATUSES).toEqual(['delivered', 'opened', 'clicked', 'failed', 'rejected']);
  });

  it('isCallbackStatus narrows strings', () => {
    expect(isCallbackStatus('clicked')).toBe(true);
    expect(isCallbackStatus('accepted')).toBe(false);
    expect(isCallbackStatus('DELIVERED')).toBe(false);
  });
});
