import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { expect } from '@jest/globals';

import { createTestApp, TestApp } from '../utils/create-test-app';
import { SocketPlayer } from '../utils/socket-player';

// the page and the SDK bundle are served from dist/client, which `npm run build` (and so `npm test`) makes
const BUILT = existsSync(join(__dirname, '..', '..', 'dist', 'client', 'cim-inbox.js'));

describe('demo page and token route (dev mode or DEMO=true)', () => {
  describe('with DEMO=true', () => {
    let sut: TestApp;

    beforeAll(async () => {
      sut = await createTestApp({ demo: true });
    });

    afterAll(() => sut.close());

    const mint = (body: unknown): Promise<Response> =>
      fetch(`${sut.url}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    it('mints a player token the inbox accepts, over REST and socket.io', async () => {
      const reply = await mint({ ext_user_id: 'demo-player' });
      expect(reply.status).toBe(200);
      const body = (await reply.json()) as { token: string; brand: string; ext_user_id: string; expires_at: string };
      expect(body).toEqual({ token: expect.any(String), brand: 'default', ext_user_id: 'demo-player', expires_at: expect.any(String) });
      expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(800_000); // 15 min by default

      const rest = await fetch(`${sut.url}/inbox/unread-count`, { headers: { authorization: `Bearer ${body.token}` } });
      expect(rest.status).toBe(200);
      const socket = await SocketPlayer.connect(sut.url, body.token);
      socket.close();
    });

    it('mints an already expired token on request (for the signed-out state), which the inbox refuses', async () => {
      const { token } = (await (await mint({ ext_user_id: 'demo-player', expires_in: -60 })).json()) as { token: string };
      expect(await SocketPlayer.refusal(sut.url, token)).toBe('unauthorized');
    });

    it.each([
      [{}, 'ext_user_id must be a string'],
      [{ ext_user_id: '' }, 'ext_user_id must be 1-255 characters'],
      [{ ext_user_id: 'p', expires_in: 10 ** 9 }, 'expires_in must be at most 604800 (7 days)'],
    ])('refuses %j with 400 naming the field', async (body, message) => {
      const reply = await mint(body);
      expect(reply.status).toBe(400);
      expect(((await reply.json()) as { message: string[] }).message).toContain(message);
    });

    (BUILT ? it : it.skip)('serves the page, the SDK bundle and the assets with their types, and nothing else', async () => {
      const page = await fetch(`${sut.url}/demo`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('<script type="module" src="/demo/demo.js">');

      for (const [path, type] of [
        ['/demo/cim-inbox.js', 'text/javascript; charset=utf-8'],
        ['/demo/cim-inbox.d.ts', 'text/plain; charset=utf-8'],
        ['/demo/demo.js', 'text/javascript; charset=utf-8'],
        ['/demo/demo.css', 'text/css; charset=utf-8'],
        ['/demo/landing', 'text/html; charset=utf-8'],
        ['/demo/assets/chart.svg', 'image/svg+xml'],
      ]) {
        const reply = await fetch(`${sut.url}${path}`);
        expect([path, reply.status, reply.headers.get('content-type')]).toEqual([path, 200, type]);
      }
      for (const path of ['/demo/nope.js', '/demo/..%2Fpackage.json', '/demo/assets/..%2F..%2Fmain.js', '/demo/index.html.bak']) {
        expect([path, (await fetch(`${sut.url}${path}`)).status]).toEqual([path, 404]);
      }
    });
  });

  it('is on in dev mode', async () => {
    const sut = await createTestApp({ devMode: true });
    try {
      expect(
        (await fetch(`${sut.url}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ext_user_id":"p"}' })).status,
      ).toBe(200);
    } finally {
      await sut.close();
    }
  });

  it('is off otherwise: no page, no token route', async () => {
    const sut = await createTestApp();
    try {
      expect((await fetch(`${sut.url}/demo`)).status).toBe(404);
      expect(
        (await fetch(`${sut.url}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ext_user_id":"p"}' })).status,
      ).toBe(404);
    } finally {
      await sut.close();
    }
  });
});
