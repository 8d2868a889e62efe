import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { expect } from '@jest/globals';
import { Client } from 'pg';

import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET, SUPPORT_KEY } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { createTestDatabase, TestDatabase } from '../utils/test-database';
import { API_KEYS } from './lib/harness';
import { Ledger } from './lib/ledger';
import { AppNamespace, Decoy, NamespacedApp } from './lib/ssrf-decoy';

jest.setTimeout(120_000);

// a single-label name the machine's /etc/hosts maps to 127.0.0.1 (e.g. its host name), else localhost
const LOOPBACK_NAME =
  readFileSync('/etc/hosts', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[0] === '127.0.0.1' && fields.slice(1).some((name) => name !== 'localhost' && !name.includes('.')))
    ?.slice(1)
    .find((name) => name !== 'localhost' && !name.includes('.')) ?? 'localhost';

// in the app's mount namespace only: dotted names under an allow-listed pattern that resolve to loopback
const HOSTILE_NAMES = { 'cb.partner-callbacks.example': '127.0.0.1', 'cb6.partner-callbacks.example': '::1' };
// in the app's network namespace only, on its loopback, each with a decoy on port 80: the cloud
// metadata address, a private IPv4 and a unique-local IPv6 address a hostile callback_url names
const DECOY_ADDRESSES = ['169.254.169.254', '10.0.0.1', 'fd00::1'];

function appEnv(databaseUrl: string, allowedHosts: string): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    CIM_GATEWAYS: JSON.stringify([GATEWAY_A, GATEWAY_B]),
    PLAYER_JWT_SECRET,
    SUPPORT_API_KEYS: SUPPORT_KEY,
    CALLBACK_ALLOWED_HOSTS: allowedHosts,
    LOG_LEVEL: 'warn',
    // a refused callback is retried a few times, then dead well within the test
    CALLBACK_TIMEOUT_MS: '2000',
    CALLBACK_RETRY_BASE_MS: '50',
    CALLBACK_RETRY_MAX_MS: '200',
    CALLBACK_RETRY_WINDOW_MS: '1500',
    CALLBACK_LEASE_MS: '5000',
    CALLBACK_POLL_MS: '50',
    PLAYER_RATE_LIMIT_PER_MIN: '100000',
    GATEWAY_BAD_AUTH_PER_MIN: '100000',
  };
}

/** Every loopback, link-local, unspecified or private spelling an attacker can put in callback_url. */
function hostileUrls(port: number): string[] {
  return [
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://api.smartico.ai@169.254.169.254/latest/meta-data/',
    `http://[::1]:${port}/cb`,
    `http://0x7f000001:${port}/cb`,
    `http://2130706433:${port}/cb`,
    `http://127.1:${port}/cb`,
    `http://0177.0.0.1:${port}/cb`,
    `http://127.0.0.1:${port}/cb`,
    `http://[::ffff:127.0.0.1]:${port}/cb`,
    `http://[::ffff:7f00:1]:${port}/cb`,
    `http://0.0.0.0:${port}/cb`,
    `http://[::]:${port}/cb`,
    `http://api.smartico.ai@127.0.0.1:${port}/cb`,
    `http://127.0.0.1:${port}\\@api.smartico.ai/cb`,
    `http://localhost:${port}/cb`,
    `http://LOCALHOST.:${port}/cb`,
    `http://${LOOPBACK_NAME}:${port}/cb`,
    `http://10.0.0.1/cb`,
    `http://[fd00::1]/cb`,
    // link-local IPv6 cannot be connected to without a zone (`%eth0`), which a URL cannot carry, so
    // no decoy can watch it: the guard's recorded refusal is what shows it was never tried
    `http://[fe80::1]/cb`,
    `http://[::ffff:169.254.169.254]/cb`,
  ];
}

describe('SSRF: callback_url never reaches an internal address (issue 8, scenario 5)', () => {
  let namespace: AppNamespace;
  let decoy: Decoy;
  const databases: TestDatabase[] = [];
  const apps: NamespacedApp[] = [];
  const clients: Client[] = [];
  let nextPort = 4100;

  beforeAll(async () => {
    namespace = await AppNamespace.start(
      DECOY_ADDRESSES.map((address) => `${address}/${address.includes(':') ? 128 : 32}`),
      HOSTILE_NAMES,
    );
    decoy = await Decoy.start(namespace, DECOY_ADDRESSES);
    // the app reaches the test PostgreSQL at the same address inside the namespace
    const pg = new URL(process.env.CIM_TEST_ADMIN_URL!);
    await namespace.forwardOut(Number(pg.port), { host: pg.hostname, port: Number(pg.port) });
  });

  afterAll(async () => {
    for (const client of clients) await client.end();
    for (const app of apps) await app.stop();
    for (const database of databases) await database.drop();
    await decoy?.close();
    await namespace?.stop();
  });

  async function start(allowedHosts: string): Promise<{ app: NamespacedApp; db: Client; ledger: Ledger }> {
    const database = await createTestDatabase();
    databases.push(database);
    const app = await NamespacedApp.start(namespace, appEnv(database.url, allowedHosts), nextPort++);
    apps.push(app);
    const db = new Client({ connectionString: database.url });
    await db.connect();
    clients.push(db);
    return { app, db, ledger: new Ledger() };
  }

  /** Posts for a fresh player and has them open it, which queues `delivered` and `opened`. */
  async function postAndOpen(app: NamespacedApp, ledger: Ledger, callbackUrl: string): Promise<string> {
    const playerId = `player-${randomUUID()}`;
    const request = customIm({ ext_user_id: playerId, callback_url: callbackUrl });
    const reply = await postGateway(app.url, request);
    expect({ callbackUrl, reply: reply.json.error_code }).toEqual({ callbackUrl, reply: 0 });
    ledger.recordReply({ gatewayId: GATEWAY_A.id, im_uid: request.im_uid, ext_user_id: playerId }, reply.json);
    const id = String(reply.json.ext_message_id);
    const opened = await fetch(`${app.url}/inbox/messages/${id}/opened`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await playerToken(playerId)}` },
    });
    expect(opened.status).toBe(200);
    return id;
  }

  async function waitUntilAllDead(db: Client, ids: string[], timeoutMs = 30_000): Promise<Array<{ message_id: string; state: string; errors: string[] }>> {
    const allDead = async (): Promise<Array<{ message_id: string; state: string; errors: string[] }>> => {
      const { rows } = await db.query<{ message_id: string; state: string; errors: string[] }>(
        `SELECT c.message_id, c.state, array_remove(array_agg(a.error ORDER BY a.id), NULL) AS errors
           FROM callbacks c LEFT JOIN callback_attempts a ON a.callback_id = c.id
          WHERE c.message_id = ANY($1::uuid[]) GROUP BY c.id`,
        [ids],
      );
      if (rows.length === ids.length * 2 && rows.every((row) => row.state === 'dead')) return rows;
      throw new Error(`not dead: ${JSON.stringify(rows.filter((row) => row.state !== 'dead'))}`);
    };
    return eventually(allDead, { what: 'every callback to be dead', timeoutMs, everyMs: 50 });
  }

  const decoyAddresses = (): string[] => ['127.0.0.1', '::1', ...DECOY_ADDRESSES];
  const seenAt = (connections: Decoy['connections']): string[] =>
    [...new Set(connections.map((connection) => connection.address.replace(/^::ffff:/, '')))].sort();

  it('control: the decoy is reachable at every address it watches, from inside the namespace and by the app when each is allow-listed by exact address', async () => {
    // a plain connection from inside the namespace to each
    const before = decoy.connections.length;
    for (const address of decoyAddresses()) {
      const port = address === '127.0.0.1' || address === '::1' ? decoy.port : 80;
      expect({ address, result: await namespace.connectFrom(address, port) }).toEqual({ address, result: 'connected' });
    }
    await waitFor(() => decoy.connections.length - before >= decoyAddresses().length);
    expect(seenAt(decoy.connections.slice(before))).toEqual([...decoyAddresses()].sort());

    // the app's own callbacks, when the addresses are allowed by exact entries
    const { app, db, ledger } = await start('127.0.0.1,[::1],169.254.169.254,10.0.0.1,[fd00::1]');
    const fromApp = decoy.connections.length;
    const urls = [
      `http://0x7f000001:${decoy.port}/cb`,
      `http://[::1]:${decoy.port}/cb`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/cb',
      'http://[fd00::1]/cb',
    ];
    const ids = [];
    for (const url of urls) ids.push(await postAndOpen(app, ledger, url));
    await waitUntilAllDead(db, ids);
    await app.stop();
    expect(seenAt(decoy.connections.slice(fromApp))).toEqual([...decoyAddresses()].sort());
    const report = await ledger.reconcile(db, { apiKeys: API_KEYS });
    expect(report.problems).toEqual({});
  });

  it('with CALLBACK_ALLOWED_HOSTS=*, accepts every hostile callback_url but refuses each at send time: dead, recorded, and the decoy sees no connection', async () => {
    const baseline = decoy.connections.length;
    const { app, db, ledger } = await start('*');
    const urls = hostileUrls(decoy.port).concat(Object.keys(HOSTILE_NAMES).map((name) => `http://${name}:${decoy.port}/cb`));
    const ids = [];
    const urlOf = new Map<string, string>();
    for (const url of urls) {
      const id = await postAndOpen(app, ledger, url);
      ids.push(id);
      urlOf.set(id, url);
    }
    const callbacks = await waitUntilAllDead(db, ids);

    for (const callback of callbacks) {
      const url = urlOf.get(callback.message_id)!;
      expect({ url, attempts: callback.errors.length > 0 }).toEqual({ url, attempts: true });
      // "localhost." (trailing dot) does not resolve through /etc/hosts, and the namespace has no
      // network to reach a DNS server: the lookup fails (not found, or try again), never connected
      const refusal = url.includes('LOCALHOST.') ? /^(refused by address guard: |dns lookup failed: (ENOTFOUND|EAI_AGAIN)$)/ : /^refused by address guard: /;
      for (const error of callback.errors) expect({ url, error }).toEqual({ url, error: expect.stringMatching(refusal) });
    }
    // the support API shows the refusal for the metadata address
    const detail = await fetch(`${app.url}/support/messages/${ids[0]}`, { headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
    const attempts = ((await detail.json()) as { callbacks: Array<{ error: string }> }).callbacks;
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((attempt) => /^refused by address guard: .*169\.254\.169\.254/.test(attempt.error))).toBe(true);

    expect(decoy.connections.slice(baseline)).toEqual([]);
    expect(app.alive).toBe(true);
    const report = await ledger.reconcile(db, { apiKeys: API_KEYS });
    expect(report.problems).toEqual({});
    expect(report.figures.accepted).toBe(urls.length);
  });

  it('with only public name patterns allowed, refuses literal addresses at the gateway (error_code 2, nothing stored), and a name under an allowed pattern that resolves to loopback at send time', async () => {
    const baseline = decoy.connections.length;
    const { app, db, ledger } = await start('*.smartico.ai,*.partner-callbacks.example');
    for (const url of hostileUrls(decoy.port)) {
      const request = customIm({ callback_url: url });
      const reply = await postGateway(app.url, request);
      expect({ url, reply: reply.json }).toEqual({ url, reply: { error_code: 2, error_message: expect.stringMatching(/CALLBACK_ALLOWED_HOSTS/) } });
      expect(ledger.recordReply({ gatewayId: GATEWAY_A.id, im_uid: request.im_uid, ext_user_id: request.ext_user_id }, reply.json)).toBe(false);
    }
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(0);

    const ids = [];
    for (const name of Object.keys(HOSTILE_NAMES)) ids.push(await postAndOpen(app, ledger, `http://${name}:${decoy.port}/cb`));
    const callbacks = await waitUntilAllDead(db, ids);
    for (const callback of callbacks) {
      expect(callback.errors.length).toBeGreaterThan(0);
      for (const error of callback.errors)
        expect(error).toMatch(/^refused by address guard: cb6?\.partner-callbacks\.example resolves to (127\.0\.0\.1|::1) \(loopback\)$/);
    }
    expect(decoy.connections.slice(baseline)).toEqual([]);
    expect(app.alive).toBe(true);
    // exactly the accepted messages are stored: nothing of the refused ones
    const report = await ledger.reconcile(db, { apiKeys: API_KEYS });
    expect(report.problems).toEqual({});
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(ledger.accepted.length);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  await eventually(condition, { what: 'the decoy to see every connection', timeoutMs });
}
