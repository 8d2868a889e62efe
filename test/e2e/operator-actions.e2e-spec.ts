import { createHmac, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

import type { MessageView } from '../../src/messages/message.view';
import { createTestApp, TestApp } from '../utils/create-test-app';
import { eventually, expectQuietFor } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { freePort } from '../utils/free-port';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { SocketPlayer } from '../utils/socket-player';

const SECRET = 'operator-action-secret-0123456789abcdef';

interface ActionCall {
  body: Record<string, unknown>;
  raw: string;
  signature: string;
  verified: boolean;
}

/** The operator's platform on loopback: records each action call, verifies its signature, answers as told. */
class FakeOperator {
  readonly calls: ActionCall[] = [];
  /** answers in turn (the last one repeats): an HTTP status and a JSON body */
  answers: Array<{ status: number; body: unknown }> = [{ status: 200, body: { ok: true, message: 'Bonus credited' } }];
  delayMs = 0;
  private server?: Server;

  constructor(public port = 0) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/actions`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const signature = String(req.headers['x-cim-signature'] ?? '');
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
    const verified = t !== undefined && createHmac('sha256', SECRET).update(`${t}.${raw}`).digest('hex') === v1;
    this.calls.push({ body: JSON.parse(raw) as Record<string, unknown>, raw, signature, verified });
    const answer = this.answers[Math.min(this.calls.length - 1, this.answers.length - 1)];
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    // a platform that checks the signature refuses a forged call
    const { status, body } = verified ? answer : { status: 401, body: { error: 'bad signature' } };
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

/** SPEC v2 §7: a button whose action the server executes, once, however often and wherever it is pressed. */
describe('operator API: server-executed actions', () => {
  let smartico: FakeSmarticoServer;
  let operator: FakeOperator;
  let one: TestApp;
  let two: TestApp;
  const sockets: SocketPlayer[] = [];
  const apps: TestApp[] = [];

  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    operator = new FakeOperator();
    await operator.start();
    const actions = { url: operator.url, secret: SECRET, waitMs: 1_500 };
    one = await createTestApp({ callbackAllowedHosts: ['127.0.0.1'], operatorActions: actions });
    two = await createTestApp({ callbackAllowedHosts: ['127.0.0.1'], operatorActions: actions }, { database: one.database });
  });

  beforeEach(() => {
    operator.calls.length = 0;
    operator.answers = [{ status: 200, body: { ok: true, message: 'Bonus credited' } }];
    operator.delayMs = 0;
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const app of apps.splice(0)) await app.close();
  });

  afterAll(async () => {
    await two.close();
    await one.close();
    await operator.stop();
    await smartico.close();
  });

  const newPlayer = (): string => `player-${randomUUID()}`;
  const post = async (app: TestApp, playerId: string): Promise<string> => {
    const reply = await postGateway(
      app.url,
      customIm({
        ext_user_id: playerId,
        callback_url: smartico.url(),
        extension: { title: 'Claim your bonus', buttons: [{ id: 'claim', text: 'Claim', action: 'bonus.claim' }, { text: 'Later' }] },
      }),
    );
    expect(reply.json.error_code).toBe(0);
    return String(reply.json.ext_message_id);
  };
  const press = async (app: TestApp, playerId: string, id: string, buttonId = 'claim'): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${app.url}/inbox/messages/${id}/buttons/${buttonId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await playerToken(playerId)}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const tab = async (app: TestApp, playerId: string): Promise<SocketPlayer> => {
    const socket = await SocketPlayer.connect(app.url, await playerToken(playerId));
    sockets.push(socket);
    return socket;
  };
  const actionResultOf = (socket: SocketPlayer, id: string): unknown =>
    (socket.updates as unknown as MessageView[]).find((view) => view.id === id && view.action_result !== null)?.action_result;

  it('20 concurrent presses from 3 sockets and REST on 2 instances make one signed call; every press and tab gets its result', async () => {
    const player = newPlayer();
    const tabs = [await tab(one, player), await tab(one, player), await tab(two, player)];
    const id = await post(one, player);
    for (const socket of tabs) await socket.waitForMessages(1);
    operator.delayMs = 300; // every press arrives while the first call is under way

    const presses = Array.from({ length: 20 }, (_, i) => {
      if (i % 4 === 3) return tabs[i % 3].emit('clicked', { id, button_id: 'claim' });
      return press(i % 2 === 0 ? one : two, player, id);
    });
    const answers = await Promise.all(presses);
    for (const answer of answers) {
      if ('status' in answer) expect(answer).toEqual({ status: 200, body: { link: null, ok: true, message: 'Bonus credited' } });
      else expect(answer).toEqual({ ok: true });
    }
    expect(operator.calls).toHaveLength(1);
    const [call] = operator.calls;
    expect(call.verified).toBe(true);
    expect(call.body).toEqual({
      id,
      im_uid: expect.any(String) as string,
      brand: 'default',
      ext_user_id: player,
      button_id: 'claim',
      action: 'bonus.claim',
      idempotency_key: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
    });
    for (const socket of tabs) {
      await socket.waitFor(() => actionResultOf(socket, id) !== undefined, 'the update with the action result');
      expect(actionResultOf(socket, id)).toEqual({ button_id: 'claim', ok: true, message: 'Bonus credited', at: expect.any(String) as string });
    }
    // the press recorded clicked, once
    await eventually(() => smartico.requests.some((request) => request.query.ext_message_id === id && request.query.status === 'clicked'), {
      what: 'the clicked callback',
      timeoutMs: 5_000,
    });
    await expectQuietFor(300, 'calls after the result', () => operator.calls.length);
    expect(operator.calls).toHaveLength(1);
    expect(smartico.requests.filter((request) => request.query.ext_message_id === id).map((request) => request.query.status)).toEqual([
      'delivered',
      'opened',
      'clicked',
    ]);
    // pressed again later: the stored result, no call
    expect((await press(two, player, id)).body).toEqual({ link: null, ok: true, message: 'Bonus credited' });
    expect(operator.calls).toHaveLength(1);
  });

  it('retries a 503 with the same idempotency key, and shows an ok: false answer as the result', async () => {
    const player = newPlayer();
    const id = await post(one, player);
    operator.answers = [
      { status: 503, body: {} },
      { status: 503, body: {} },
      { status: 200, body: { ok: false, message: 'Not eligible: deposit first' } },
    ];
    expect(await press(one, player, id)).toEqual({ status: 200, body: { link: null, ok: false, message: 'Not eligible: deposit first' } });
    expect(operator.calls).toHaveLength(3);
    expect(new Set(operator.calls.map((call) => call.body.idempotency_key)).size).toBe(1);
    expect(operator.calls.every((call) => call.verified)).toBe(true);
  });

  it('a forged signature is refused by the operator, and that refusal is the result', async () => {
    const player = newPlayer();
    const forger = await createTestApp(
      { callbackAllowedHosts: ['127.0.0.1'], operatorActions: { url: operator.url, secret: 'not-the-operators-secret-0123456789', waitMs: 1_500 } },
      { database: one.database },
    );
    apps.push(forger);
    const id = await post(forger, player);
    expect(await press(forger, player, id)).toEqual({ status: 200, body: { link: null, ok: false, message: 'the operator refused the action (HTTP 401)' } });
    expect(operator.calls.map((call) => call.verified)).toEqual([false]);
  });

  it('the operator down past the wait: the press answers pending, and the result follows as an update when it is back', async () => {
    const player = newPlayer();
    const port = await freePort();
    const down = new FakeOperator(port);
    const app = await createTestApp(
      { callbackAllowedHosts: ['127.0.0.1'], operatorActions: { url: down.url, secret: SECRET, waitMs: 1_000 } },
      { database: one.database },
    );
    apps.push(app);
    try {
      const id = await post(app, player);
      const socket = await tab(app, player);
      await socket.waitForMessages(1);
      expect(await press(app, player, id)).toEqual({ status: 200, body: { link: null, pending: true } });
      await down.start();
      await socket.waitFor(() => actionResultOf(socket, id) !== undefined, 'the result as an update', 10_000);
      expect(actionResultOf(socket, id)).toMatchObject({ button_id: 'claim', ok: true, message: 'Bonus credited' });
      expect(down.calls).toHaveLength(1);
      // the view has it from now on
      const list = await fetch(`${app.url}/inbox/messages`, { headers: { authorization: `Bearer ${await playerToken(player)}` } });
      const items = ((await list.json()) as { items: MessageView[] }).items;
      expect(items[0].action_result).toMatchObject({ button_id: 'claim', ok: true });
    } finally {
      await down.stop();
    }
  });
});
