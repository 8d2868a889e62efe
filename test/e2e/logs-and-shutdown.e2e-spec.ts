import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { AppProcess } from '../utils/app-process';
import { PLAYER_JWT_SECRET } from '../utils/create-test-app';
import { eventually, sleep } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

const GATEWAY = { id: 'brand-log', authorization: `GW-SECRET-${randomUUID()}`, apiKey: `API-KEY-${randomUUID()}` };
const SUPPORT_KEY = `SUPPORT-KEY-${randomUUID()}`;

describe('the built app: log hygiene and graceful shutdown (SPEC §6)', () => {
  let database: TestDatabase;
  let db: Client;
  let smartico: FakeSmarticoServer;

  const start = async (logLevel: string): Promise<{ app: AppProcess; url: string }> => {
    return AppProcess.startHealthy({
      DATABASE_URL: database.url,
      CIM_GATEWAYS: JSON.stringify([GATEWAY]),
      PLAYER_JWT_SECRET,
      SUPPORT_API_KEYS: SUPPORT_KEY,
      CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      LOG_LEVEL: logLevel,
    });
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    smartico = await FakeSmarticoServer.start();
  });

  afterAll(async () => {
    await smartico.close();
    await db.end();
    await database.drop();
  });

  it('logs JSON lines with request ids and never a secret, token, api key or message body', async () => {
    const { app, url } = await start('debug');
    const playerId = `player-${randomUUID()}`;
    const token = await playerToken(playerId);
    const body = `BODY-TEXT-${randomUUID()}`;
    const wrongSecret = `WRONG-SECRET-${randomUUID()}`;
    const socket = await SocketPlayer.connect(url, token);
    try {
      const reply = await postGateway(
        url,
        customIm({ ext_user_id: playerId, body, callback_url: smartico.url('/cb'), extension: { cta_url: 'https://casino.example/offer' } }),
        { authorization: GATEWAY.authorization, headers: { 'x-request-id': 'trace-abc-123' } },
      );
      const id = String(reply.json.ext_message_id);
      await socket.waitForMessages(1);
      await fetch(`${url}/inbox/messages/${id}/opened`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      const list = (await (await fetch(`${url}/inbox/messages`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        items: Array<{ cta_link: string }>;
      };
      await fetch(`${url}${list.items[0].cta_link}`, { redirect: 'manual' });
      await postGateway(url, customIm({ body }), { authorization: wrongSecret });
      await fetch(`${url}/support/messages/${id}`, { headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
      const callbacks = (): number => smartico.requests.filter((request) => request.query.ext_message_id === id).length;
      await eventually(() => callbacks() >= 3, { what: () => `3 callbacks for ${id}, got ${callbacks()}`, timeoutMs: 5_000 });
      expect(smartico.requests.some((request) => request.query.api_key === GATEWAY.apiKey)).toBe(true);
    } finally {
      socket.close();
    }
    app.kill('SIGTERM');
    await app.exited;

    const output = app.stdout + app.stderr;
    for (const secret of [GATEWAY.authorization, GATEWAY.apiKey, SUPPORT_KEY, token, PLAYER_JWT_SECRET, body, wrongSecret]) {
      expect(output).not.toContain(secret);
    }
    const lines = app.stdout.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(5);
    const entries = lines.map((line) => JSON.parse(line) as { reqId?: string; req?: { path?: string }; msg?: string });
    const gatewayLines = entries.filter((entry) => entry.req?.path === '/gateway/custom-im');
    expect(gatewayLines.length).toBe(2); // one line per request
    expect(gatewayLines.map((entry) => entry.reqId)).toContain('trace-abc-123');
    expect(entries.filter((entry) => entry.req !== undefined).every((entry) => typeof entry.reqId === 'string')).toBe(true);
  });

  it('on SIGTERM under load: answers in-flight requests, exits 0 within 10 s, stores every accepted message, and drops sockets so they reconnect', async () => {
    const { app, url } = await start('error');
    const socket = await SocketPlayer.connect(url, await playerToken(`player-${randomUUID()}`));
    const disconnectReason = new Promise<string>((resolve) => socket.socket.once('disconnect', (reason) => resolve(reason)));
    const accepted: string[] = [];
    const refusedOrFailed: unknown[] = [];
    let stop = false;
    const posters = Array.from({ length: 10 }, async () => {
      while (!stop) {
        try {
          const reply = await postGateway(url, customIm({ callback_url: smartico.url('/cb') }), { authorization: GATEWAY.authorization });
          if (reply.json.error_code === 0) accepted.push(String(reply.json.ext_message_id));
          else refusedOrFailed.push(reply.json);
        } catch (error) {
          refusedOrFailed.push(String(error)); // connection refused or 503 once the server stopped listening
          await sleep(5);
        }
      }
    });
    await sleep(700);
    const signalledAt = Date.now();
    app.kill('SIGTERM');
    const exit = await app.exited;
    const tookMs = Date.now() - signalledAt;
    await sleep(200);
    stop = true;
    await Promise.all(posters);

    expect(exit.code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    expect(await disconnectReason).toBe('transport close');
    expect(accepted.length).toBeGreaterThan(20);
    const stored = await db.query('SELECT id FROM messages WHERE id = ANY($1::uuid[])', [accepted]);
    expect(stored.rowCount).toBe(accepted.length);
    socket.close();
  });
});
