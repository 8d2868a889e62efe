import { Client } from 'pg';

import { createTestApp, TestApp } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { customIm, postGateway } from '../utils/gateway-client';
import { TcpProxy } from '../utils/tcp-proxy';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

describe('gateway and readiness with the database unreachable', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let sut: TestApp;
  let db: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = TcpProxy.forUrl(database.url);
    await proxy.start();
    sut = await createTestApp({ databaseUrl: proxy.rewrite(database.url) }, { database });
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await sut.close();
    await proxy.stop();
    await database.drop();
  });

  afterEach(() => proxy.restore());

  it('answers error_code 5 and stores nothing while the database is down, then accepts again with no restart', async () => {
    expect((await postGateway(sut.url, customIm())).json.error_code).toBe(0);

    await proxy.cut();
    const refusedRequest = customIm();
    const refused = await postGateway(sut.url, refusedRequest);
    expect(refused.status).toBe(200);
    expect(refused.json).toEqual({ error_code: 5, error_message: 'temporarily unavailable; retry later (a retry with the same im_uid is never stored twice)' });

    await proxy.restore();
    const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE im_uid = $1', [refusedRequest.im_uid]);
    expect(count.rows[0].n).toBe(0);

    // the same request, retried as Smartico would, now succeeds and is stored
    const retried = await postGateway(sut.url, refusedRequest);
    expect(retried.json.error_code).toBe(0);
    const stored = await db.query('SELECT id FROM messages WHERE im_uid = $1', [refusedRequest.im_uid]);
    expect(stored.rows).toEqual([{ id: retried.json.ext_message_id }]);
  });

  it('keeps limiting bad Authorization attempts while the database is down: error_code 1, then 6 past the limit, counted in memory', async () => {
    await proxy.cut();
    const headers = { 'x-forwarded-for': '10.20.30.40' };
    const codes: unknown[] = [];
    for (let attempt = 0; attempt < 21; attempt += 1) codes.push((await postGateway(sut.url, customIm(), { authorization: 'wrong', headers })).json.error_code);
    expect(codes).toEqual([...Array<number>(20).fill(1), 6]);
  });

  it('reports /health/ready 503 while the database is down and 200 after, while /health stays 200', async () => {
    // the tests before cut the database, and the fan-out link with it
    await eventually(async () => (await fetch(`${sut.url}/health/ready`)).status === 200, { what: 'readiness 200 to begin with', timeoutMs: 20_000 });
    await proxy.cut();
    const down = await fetch(`${sut.url}/health/ready`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'error' });
    expect((await fetch(`${sut.url}/health`)).status).toBe(200);
    await proxy.restore();
    // the fan-out link went through the same proxy: ready again once it carries a heartbeat too
    await eventually(async () => (await fetch(`${sut.url}/health/ready`)).status === 200, { what: 'readiness back to 200', timeoutMs: 20_000 });
  });
});
