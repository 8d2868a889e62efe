import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { expect } from '@jest/globals';

import { createTestApp, TestApp } from '../utils/create-test-app';

// the page is served from dist/client, which `npm run build` (and so `npm test`) makes
const BUILT = join(__dirname, '..', '..', 'dist', 'client', 'console', 'console.js');

describe('support console page (GET /console, always on)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error('the console is not built: run `npm run build` first (npm test does)');
    sut = await createTestApp();
  });

  afterAll(() => sut.close());

  it('serves the page with a strict policy (no inline script, no eval) and the bundle it loads', async () => {
    const page = await fetch(`${sut.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("connect-src 'self';");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/console/console.js">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file

    for (const [path, type] of [
      ['/console/console.js', 'text/javascript; charset=utf-8'],
      ['/console/console.css', 'text/css; charset=utf-8'],
      ['/console/favicon.svg', 'image/svg+xml'],
    ]) {
      const reply = await fetch(`${sut.url}${path}`);
      expect([path, reply.status, reply.headers.get('content-type'), reply.headers.get('content-security-policy')]).toEqual([path, 200, type, policy]);
    }
    const bundle = await (await fetch(`${sut.url}/console/console.js`)).text();
    expect(bundle).toContain('/support/messages');
    for (const key of sut.config.supportApiKeys) expect(bundle).not.toContain(key);
  });

  it('answers 404 for any other name, and stays out of the OpenAPI document', async () => {
    for (const path of ['/console/nope.js', '/console/..%2Fdemo%2Fdemo.js', '/console/index.html.bak', '/console/cim-inbox.js']) {
      expect([path, (await fetch(`${sut.url}${path}`)).status]).toEqual([path, 404]);
    }
    const document = (await (await fetch(`${sut.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/console'))).toEqual([]);
  });
});
