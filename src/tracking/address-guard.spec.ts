import { expect } from '@jest/globals';

import { HostAllowlist } from '../common/host-allowlist';
import { CallbackAddressGuard, LookupAll } from './address-guard';

const resolvingTo =
  (table: Record<string, string[]>): LookupAll =>
  (hostname) => {
    const addresses = table[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };

const dns = resolvingTo({
  'api.smartico.ai': ['34.120.10.20'],
  'v6.smartico.ai': ['2606:4700:4700::1111'],
  'dual.smartico.ai': ['2606:4700:4700::1111', '34.120.10.20'],
  'rebind.smartico.ai': ['127.0.0.1'],
  'metadata.smartico.ai': ['169.254.169.254'],
  'mixed.smartico.ai': ['34.120.10.20', '10.0.0.5'],
  'mapped.smartico.ai': ['::ffff:127.0.0.1'],
  'mapped-public.smartico.ai': ['::ffff:34.120.10.20'],
  'ula.smartico.ai': ['fd00::1'],
  'cgnat.smartico.ai': ['100.64.1.1'],
  'zero.smartico.ai': ['0.0.0.0'],
  'empty.smartico.ai': [],
  'junk.smartico.ai': ['not-an-ip'],
  'internal.example.com': ['10.1.2.3'],
  'public.example.com': ['34.120.10.20'],
});

describe('CallbackAddressGuard', () => {
  describe('with named hosts', () => {
    const sut = new CallbackAddressGuard(new HostAllowlist(['*.smartico.ai', 'internal.example.com', '127.0.0.1', '::1']), {
      lookup: dns,
    });
    const check = (url: string) => sut.check(new URL(url));

    it('allows a public name and returns the address to pin', async () => {
      await expect(check('https://api.smartico.ai/cb')).resolves.toEqual({ ok: true, address: '34.120.10.20', family: 4 });
      await expect(check('https://v6.smartico.ai/cb')).resolves.toEqual({ ok: true, address: '2606:4700:4700::1111', family: 6 });
    });

    it('returns the first address in resolver order when all are public', async () => {
      await expect(check('https://dual.smartico.ai/cb')).resolves.toEqual({ ok: true, address: '2606:4700:4700::1111', family: 6 });
    });

    it('unwraps an IPv4-mapped address and pins it as IPv4', async () => {
      await expect(check('https://mapped-public.smartico.ai/cb')).resolves.toEqual({ ok: true, address: '34.120.10.20', family: 4 });
    });

    it.each(['ftp://api.smartico.ai/cb', 'file:///etc/passwd', 'javascript:alert(1)', 'ws://api.smartico.ai/'])('refuses the scheme of %s', async (url) => {
      await expect(check(url)).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('scheme') });
    });

    it.each(['https://evil.com/cb', 'https://smartico.ai/cb', 'https://api.smartico.ai.evil.com/cb', 'http://localhost/cb', 'http://127.0.0.2/cb'])(
      'refuses %s, which the allowlist does not match',
      async (url) => {
        await expect(check(url)).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('not allowed') });
      },
    );

    it('allows non-public addresses behind hosts the allowlist names exactly', async () => {
      await expect(check('http://internal.example.com:8080/cb')).resolves.toEqual({ ok: true, address: '10.1.2.3', family: 4 });
      await expect(check('http://[::1]:9/cb')).resolves.toEqual({ ok: true, address: '::1', family: 6 });
    });

    it('refuses a name under a subdomain pattern that resolves to a non-public address', async () => {
      // (rebind.smartico.ai → 127.0.0.1 passes here only because 127.0.0.1 itself is listed)
      await expect(check('http://metadata.smartico.ai/cb')).resolves.toEqual({
        ok: false,
        reason: 'metadata.smartico.ai resolves to 169.254.169.254 (linkLocal)',
      });
      await expect(check('http://mixed.smartico.ai/cb')).resolves.toEqual({ ok: false, reason: 'mixed.smartico.ai resolves to 10.0.0.5 (private)' });
    });

    it('refuses a name with no addresses, or one it cannot parse', async () => {
      await expect(check('https://empty.smartico.ai/cb')).resolves.toEqual({ ok: false, reason: 'host empty.smartico.ai has no address' });
      await expect(check('https://junk.smartico.ai/cb')).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('unparsable') });
    });

    it('lets a lookup failure reject, since it is not a refusal', async () => {
      await expect(check('https://nowhere.smartico.ai/cb')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    });

    it('classifies IP literals without DNS, in every form the URL parser normalises', async () => {
      const lookup = jest.fn<ReturnType<LookupAll>, Parameters<LookupAll>>();
      const guard = new CallbackAddressGuard(new HostAllowlist(['127.0.0.1', '::1', '34.120.10.20']), { lookup });
      for (const url of ['http://127.0.0.1:9/cb', 'http://0x7f000001/cb', 'http://2130706433/cb', 'http://127.1/cb', 'http://0177.0.0.1/']) {
        await expect(guard.check(new URL(url))).resolves.toEqual({ ok: true, address: '127.0.0.1', family: 4 });
      }
      await expect(guard.check(new URL('http://[0:0:0:0:0:0:0:1]:9/cb'))).resolves.toEqual({ ok: true, address: '::1', family: 6 });
      await expect(guard.check(new URL('http://34.120.10.20/cb'))).resolves.toEqual({ ok: true, address: '34.120.10.20', family: 4 });
      expect(lookup).not.toHaveBeenCalled();
    });
  });

  describe('with the * wildcard', () => {
    const sut = new CallbackAddressGuard(new HostAllowlist(['*']), { lookup: dns });
    const check = (url: string) => sut.check(new URL(url));

    it('allows any public host', async () => {
      await expect(check('https://public.example.com/cb')).resolves.toEqual({ ok: true, address: '34.120.10.20', family: 4 });
      await expect(check('http://34.120.10.20/cb')).resolves.toEqual({ ok: true, address: '34.120.10.20', family: 4 });
    });

    it.each([
      ['rebind.smartico.ai', '127.0.0.1 (loopback)'],
      ['metadata.smartico.ai', '169.254.169.254 (linkLocal)'],
      ['mixed.smartico.ai', '10.0.0.5 (private)'],
      ['mapped.smartico.ai', '127.0.0.1 (loopback)'],
      ['ula.smartico.ai', 'fd00::1 (uniqueLocal)'],
      ['cgnat.smartico.ai', '100.64.1.1 (carrierGradeNat)'],
      ['zero.smartico.ai', '0.0.0.0 (unspecified)'],
      ['internal.example.com', '10.1.2.3 (private)'],
    ])('refuses %s, a name resolving to a non-public address', async (host, detail) => {
      await expect(check(`https://${host}/cb`)).resolves.toEqual({ ok: false, reason: `${host} resolves to ${detail}` });
    });

    it.each([
      'http://127.0.0.1/cb',
      'http://0x7f000001/cb',
      'http://127.1/cb',
      'http://[::1]/cb',
      'http://[::ffff:127.0.0.1]/cb',
      'http://[::ffff:7f00:1]/cb',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/cb',
      'http://10.0.0.1/cb',
      'http://192.168.1.1/cb',
      'http://172.16.0.1/cb',
      'http://0.0.0.0/cb',
      'http://[::]/cb',
      'http://255.255.255.255/cb',
      'http://224.0.0.1/cb',
      'http://240.0.0.1/cb',
      'http://198.18.0.1/cb',
      'http://[ff02::1]/cb',
      'http://[64:ff9b::7f00:1]/cb',
      'http://[2002:7f00:1::]/cb',
    ])('refuses the non-public literal %s', async (url) => {
      await expect(check(url)).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('resolves to') });
    });
  });

  it('allows a non-public address under * only when that exact address is named', async () => {
    const sut = new CallbackAddressGuard(new HostAllowlist(['*', '127.0.0.1']), { lookup: dns });
    await expect(sut.check(new URL('http://rebind.smartico.ai/cb'))).resolves.toEqual({ ok: true, address: '127.0.0.1', family: 4 });
    await expect(sut.check(new URL('http://mapped.smartico.ai/cb'))).resolves.toEqual({ ok: true, address: '127.0.0.1', family: 4 });
    await expect(sut.check(new URL('http://metadata.smartico.ai/cb'))).resolves.toMatchObject({ ok: false });
    await expect(sut.check(new URL('http://mixed.smartico.ai/cb'))).resolves.toMatchObject({ ok: false });
  });

  it('uses the system resolver by default', async () => {
    const sut = new CallbackAddressGuard(new HostAllowlist(['localhost']));
    await expect(sut.check(new URL('http://localhost/cb'))).resolves.toMatchObject({ ok: true });
  });
});
