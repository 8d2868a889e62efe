import { createTestApp, TestApp } from '../utils/create-test-app';

describe('operations routes', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp();
  });

  afterAll(() => sut.close());

  it('GET /health answers 200 while the process is up', async () => {
    const response = await fetch(`${sut.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /health/ready answers 200 when the database answers', async () => {
    const response = await fetch(`${sut.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('serves the OpenAPI UI at /docs', async () => {
    const response = await fetch(`${sut.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toMatch(/swagger/i);
  });

  it('documents the gateway route with its request schema, reply schemas and error-code table at /docs/json', async () => {
    const document = (await (await fetch(`${sut.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { requestBody: unknown; description: string; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    };
    const operation = document.paths['/gateway/custom-im'].post;
    expect(JSON.stringify(operation.requestBody)).toContain('#/components/schemas/CustomImRequestDto');
    expect(JSON.stringify(operation.responses['200'])).toContain('GatewayAcceptedDto');
    expect(JSON.stringify(operation.responses['200'])).toContain('GatewayRefusedDto');
    for (const code of [1, 2, 3, 4, 5, 6]) expect(operation.description).toMatch(new RegExp(`\\| ${code} \\| \\w`));
    const request = document.components.schemas.CustomImRequestDto;
    expect(Object.keys(request.properties)).toEqual(expect.arrayContaining(['ext_user_id', 'body', 'im_uid', 'callback_url', 'extension']));
    expect(request.required).toEqual(expect.arrayContaining(['ext_user_id', 'body', 'im_uid', 'callback_url']));
  });

  it('documents every route, with its auth scheme, in the OpenAPI document', async () => {
    const document = (await (await fetch(`${sut.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { security?: Array<Record<string, unknown>>; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const routes = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /gateway/custom-im',
        'GET /inbox/messages',
        'GET /inbox/unread-count',
        'POST /inbox/messages/{id}/opened',
        'POST /inbox/messages/{id}/clicked',
        'POST /inbox/read-all',
        'DELETE /inbox/messages/{id}',
        'GET /t/{token}',
        'GET /support/messages',
        'GET /support/messages/{id}',
        'GET /support/players/{ext_user_id}',
        'POST /support/messages/{id}/callbacks/retry',
        'POST /operator/messages/void',
        'GET /health',
        'GET /health/ready',
        'GET /metrics',
      ]),
    );
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['gateway', 'operator', 'player', 'support']);
    expect(document.paths['/gateway/custom-im'].post.security).toEqual([{ gateway: [] }]);
    expect(document.paths['/inbox/messages'].get.security).toEqual([{ player: [] }]);
    expect(document.paths['/support/messages'].get.security).toEqual([{ support: [] }]);
    expect(document.paths['/operator/messages/void'].post.security).toEqual([{ operator: [] }]);
    for (const [route, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        expect([route, method, Object.keys(operation.responses).length > 0]).toEqual([route, method, true]);
      }
    }
  });

  it('echoes a sane X-Request-Id and makes one up otherwise', async () => {
    const given = await fetch(`${sut.url}/health`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const hostile = await fetch(`${sut.url}/health`, { headers: { 'x-request-id': 'bad id\twith "quotes"' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await fetch(`${sut.url}/no/such/route`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ statusCode: 404 });
  });
});
