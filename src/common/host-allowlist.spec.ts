import { HostAllowlist } from './host-allowlist';

const hostOf = (url: string): string => new URL(url).hostname;

describe('HostAllowlist', () => {
  const sut = new HostAllowlist(['*.smartico.ai', '127.0.0.1', 'Receiver.Example.com', '::1']);

  it.each([
    ['https://api.smartico.ai/cb', true],
    ['https://deep.api.smartico.ai/cb', true],
    ['https://API.SMARTICO.AI/cb', true],
    ['https://api.smartico.ai./cb', true],
    ['https://receiver.example.com/cb', true],
    ['http://127.0.0.1:8080/cb', true],
    ['http://[::1]:8080/cb', true],
    ['https://smartico.ai/cb', false],
    ['https://evilsmartico.ai/cb', false],
    ['https://api.smartico.ai.evil.com/cb', false],
    ['https://api.smartico.ai@169.254.169.254/cb', false],
    ['http://127.0.0.2/cb', false],
    ['http://localhost/cb', false],
  ])('%s → %s', (url, allowed) => {
    expect(sut.allows(hostOf(url))).toBe(allowed);
  });

  it('matches IP literals in the forms the URL parser normalises', () => {
    for (const url of ['http://0x7f000001/', 'http://2130706433/', 'http://127.1/', 'http://0177.0.0.1/']) {
      expect(sut.allows(hostOf(url))).toBe(true);
    }
  });

  it('allows any host with *, but does not count that as naming it', () => {
    const any = new HostAllowlist(['*']);
    expect(any.allows('anything.example')).toBe(true);
    expect(any.allowsAnyHost).toBe(true);
    expect(any.namesExplicitly('anything.example')).toBe(false);
    expect(sut.namesExplicitly('receiver.example.com')).toBe(true);
    expect(sut.namesExplicitly('127.0.0.1')).toBe(true);
    // a wildcard never unlocks a private address: any subdomain could be made to resolve to one
    expect(sut.namesExplicitly('api.smartico.ai')).toBe(false);
  });
});
