import { expect } from '@jest/globals';

import { FakeSmarticoServer } from '../../test/utils/fake-smartico.server';
import { freePort } from '../../test/utils/free-port';
import { HostAllowlist } from '../common/host-allowlist';
import { CallbackAddressGuard, LookupAll } from './address-guard';
import { CallbackClient } from './callback.client';
import { buildCallbackUrl } from './callback-url';

const params = { messageId: '7f1c0a52-9a43-4f1e-8d2a-1b5e0c3d4e5f', status: 'opened' as const, apiKey: 'key-1' };

describe('CallbackClient against a fake Smartico', () => {
  let fake: FakeSmarticoServer;
  let sut: CallbackClient;

  beforeEach(async () => {
    fake = await FakeSmarticoServer.start();
    sut = new CallbackClient(new CallbackAddressGuard(new HostAllowlist(['127.0.0.1'])), { timeoutMs: 300 });
  });

  afterEach(async () => {
    await fake.close();
    await sut.close();
  });

  it('sends one GET with the callback parameters and succeeds on {"error_code":0}', async () => {
    const result = await sut.send(buildCallbackUrl(fake.url('/cb?brand=a'), params));

    expect(result).toEqual({ ok: true, httpStatus: 200, error: null, durationMs: expect.any(Number) });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: '/cb',
      query: { brand: 'a', type: 'cim', ext_message_id: params.messageId, status: 'opened', api_key: 'key-1' },
    });
    expect(fake.requests[0].headers.host).toBe(new URL(fake.url()).host);
  });

  it.each([
    [{ status: 500 }, 500, 'http 500'],
    [{ status: 404 }, 404, 'http 404'],
    [{ status: 429 }, 429, 'http 429'],
    [{ status: 204, body: '' }, 204, 'invalid json'],
    ['html' as const, 200, 'invalid json'],
    ['invalid-json' as const, 200, 'invalid json'],
    [{ status: 200, body: '{"error_code":0,,}' }, 200, 'invalid json'],
    [{ status: 200, body: '{"error_code":"0"}' }, 200, 'no numeric error_code in reply'],
    [{ status: 200, body: '{"ok":true}' }, 200, 'no numeric error_code in reply'],
    [{ status: 200, body: '[0]' }, 200, 'no numeric error_code in reply'],
    [{ status: 200, body: 'null' }, 200, 'no numeric error_code in reply'],
    [{ errorCode: 1, errorMessage: 'email was not found' }, 200, 'error_code 1: email was not found'],
    [{ status: 200, body: '{"error_code":7}' }, 200, 'error_code 7'],
  ])('fails on %j with http %s and "%s"', async (mode, httpStatus, error) => {
    fake.setMode(mode);
    await expect(sut.send(fake.url())).resolves.toEqual({ ok: false, httpStatus, error, durationMs: expect.any(Number) });
  });

  it('tolerates the trailing comma of Smartico’s documented reply, and nothing more', async () => {
    fake.setMode({ status: 200, body: '{\n  "error_code": 0,\n}\n' });
    await expect(sut.send(fake.url())).resolves.toMatchObject({ ok: true, error: null });
  });

  it('accepts any 2xx with the success reply', async () => {
    fake.setMode({ status: 201 });
    await expect(sut.send(fake.url())).resolves.toMatchObject({ ok: true, httpStatus: 201 });
  });

  it('truncates a long error_message to 200 characters on one line', async () => {
    fake.setMode({ errorCode: 3, errorMessage: `line one\nline two ${'x'.repeat(500)}` });
    const { error } = await sut.send(fake.url());
    expect(error).toBe(`error_code 3: line one line two ${'x'.repeat(200 - 'line one line two '.length)}`);
  });

  it('reads at most 64 KiB of the body', async () => {
    fake.setMode({ status: 200, body: `{"error_code":0,"pad":"${'x'.repeat(70_000)}"}` });
    await expect(sut.send(fake.url())).resolves.toMatchObject({ ok: false, httpStatus: 200, error: 'response body over 64 KiB' });
  });

  it('times out on a server that never answers', async () => {
    fake.setMode('hang');
    const result = await sut.send(fake.url());
    expect(result).toMatchObject({ ok: false, httpStatus: null, error: 'timeout' });
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
    expect(result.durationMs).toBeLessThan(2_000);
  });

  it('takes a per-call timeout over the client default', async () => {
    fake.setMode('hang');
    const ended: string[] = [];
    const sends = [sut.send(fake.url(), { timeoutMs: 100 }), sut.send(fake.url())].map((send, i) =>
      send.finally(() => ended.push(i === 0 ? 'per-call' : 'default')),
    );
    const [shorter] = await Promise.all(sends);
    expect(shorter).toMatchObject({ error: 'timeout' });
    expect(ended).toEqual(['per-call', 'default']);
  });

  it('reports a reset connection', async () => {
    fake.setMode('reset');
    await expect(sut.send(fake.url())).resolves.toMatchObject({ ok: false, httpStatus: null, error: 'connection reset' });
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a refused connection', async () => {
    const port = await freePort();
    await expect(sut.send(`http://127.0.0.1:${port}/cb`)).resolves.toMatchObject({
      ok: false,
      httpStatus: null,
      error: 'connection refused',
    });
  });

  it('does not follow a redirect, so its target receives nothing', async () => {
    const elsewhere = await FakeSmarticoServer.start();
    try {
      fake.setMode({ redirectTo: elsewhere.url('/internal') });
      await expect(sut.send(fake.url())).resolves.toMatchObject({
        ok: false,
        httpStatus: 302,
        error: 'http 302 (redirect not followed)',
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(elsewhere.requests).toHaveLength(0);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await elsewhere.close();
    }
  });

  it('reuses one keep-alive connection for consecutive callbacks, after failures too', async () => {
    fake.failNext(1, { status: 503 });
    fake.failNext(1, { errorCode: 2, errorMessage: 'busy' });
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push(await sut.send(fake.url()));
      // undici returns the connection to the pool a tick after the body ends
      await new Promise((resolve) => setImmediate(resolve));
    }

    expect(results.map((result) => result.error)).toEqual(['http 503', 'error_code 2: busy', null, null]);
    expect(new Set(fake.requests.map((request) => request.connectionId)).size).toBe(1);
  });

  it('bounds the connections per origin', async () => {
    const bounded = new CallbackClient(new CallbackAddressGuard(new HostAllowlist(['127.0.0.1'])), { connections: 2 });
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => bounded.send(fake.url())));
      expect(results.every((result) => result.ok)).toBe(true);
    } finally {
      await bounded.close();
    }
    expect(new Set(fake.requests.map((request) => request.connectionId)).size).toBe(2);
  });

  it('opens a new connection after a reset and carries on', async () => {
    fake.failNext(1, 'reset');
    expect((await sut.send(fake.url())).error).toBe('connection reset');
    expect((await sut.send(fake.url())).ok).toBe(true);
    expect(fake.requests[0].connectionId).not.toBe(fake.requests[1].connectionId);
  });

  it('refuses what the address guard refuses, without connecting', async () => {
    const port = new URL(fake.url()).port;
    await expect(sut.send(`http://127.0.0.2:${port}/cb`)).resolves.toEqual({
      ok: false,
      httpStatus: null,
      error: 'refused by address guard: host 127.0.0.2 not allowed',
      durationMs: expect.any(Number),
    });
    await expect(sut.send(`ftp://127.0.0.1:${port}/cb`)).resolves.toMatchObject({
      error: 'refused by address guard: scheme ftp: not allowed',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('never throws, even on a URL that does not parse', async () => {
    await expect(sut.send('not a url')).resolves.toMatchObject({ ok: false, httpStatus: null, error: 'invalid url' });
    await expect(sut.send('')).resolves.toMatchObject({ ok: false, error: 'invalid url' });
  });

  describe('with a resolver', () => {
    const client = (lookup: LookupAll, allowed = ['callbacks.smartico.test']): CallbackClient =>
      new CallbackClient(new CallbackAddressGuard(new HostAllowlist(allowed), { lookup }), { timeoutMs: 300 });

    it('connects to the checked address, keeping the host name in the Host header', async () => {
      const lookup = jest.fn<ReturnType<LookupAll>, Parameters<LookupAll>>(() => Promise.resolve([{ address: '127.0.0.1', family: 4 }]));
      const pinned = client(lookup);
      const port = new URL(fake.url()).port;
      try {
        await expect(pinned.send(`http://callbacks.smartico.test:${port}/cb?x=1`)).resolves.toMatchObject({ ok: true });
      } finally {
        await pinned.close();
      }
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(fake.requests[0].headers.host).toBe(`callbacks.smartico.test:${port}`);
      expect(fake.requests[0].query).toEqual({ x: '1' });
    });

    it('refuses a name that resolves to a non-public address under *', async () => {
      const rebinding = client(() => Promise.resolve([{ address: '127.0.0.1', family: 4 }]), ['*']);
      const port = new URL(fake.url()).port;
      try {
        await expect(rebinding.send(`http://rebind.example.com:${port}/cb`)).resolves.toMatchObject({
          ok: false,
          error: 'refused by address guard: rebind.example.com resolves to 127.0.0.1 (loopback)',
        });
      } finally {
        await rebinding.close();
      }
      expect(fake.requests).toHaveLength(0);
    });

    it('reports a failed lookup', async () => {
      const failing = client(() => {
        return Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
      });
      try {
        await expect(failing.send('http://callbacks.smartico.test/cb')).resolves.toMatchObject({
          ok: false,
          error: 'dns lookup failed: ENOTFOUND',
        });
      } finally {
        await failing.close();
      }
    });

    it('counts a lookup that hangs against the total timeout', async () => {
      const hanging = client(() => new Promise(() => undefined));
      try {
        const result = await hanging.send('http://callbacks.smartico.test/cb');
        expect(result).toMatchObject({ ok: false, error: 'timeout' });
        expect(result.durationMs).toBeLessThan(2_000);
      } finally {
        await hanging.close();
      }
    });
  });
});
