import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET, SUPPORT_KEY } from '../utils/create-test-app';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { createTestDatabase, TestDatabase } from '../utils/test-database';
import { Decoy, NamespacedApp } from './lib/ssrf-decoy';

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
    `http://[fe80::1]/cb`,
    `http://[::ffff:169.254.169.254]/cb`,
  ];
}

describe('SSRF: callback_url never reaches an internal address (issue 8, scenario 5)', () => {
  let decoy: Decoy;
  let control: Decoy;
  const databases: TestDatabase[] = [];
  const apps: NamespacedApp[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    decoy = await Decoy.start();
    control = await Decoy.start();
  });

  afterAll(async () => {
    for (const client of clients) await client.end();
    for (const app of apps) await app.stop();
    for (const database of databases) await database.drop();
    await decoy.close();
    await control.close();
  });

  async function start(allowedHosts: string): Promise<{ app: NamespacedApp; db: Client }> {
    const database = await createTestDatabase();
    databases.push(database);
    const app = await NamespacedApp.start(appEnv(database.url, allowedHosts), HOSTILE_NAMES);
    apps.push(app);
    const db = new Client({ connectionString: database.url });
    await db.connect();
    clients.push(db);
    return { app, db };
  }

  /** Posts for a fresh player and has them open it, which queues `delivered` and `opened`. */
  async function postAndOpen(app: NamespacedApp, callbackUrl: string): Promise<string> {
    const playerId = `player-${randomUUID()}`;
    const reply = await postGateway(app.url, customIm({ ext_user_id: playerId, callback_url: callbackUrl }));
    expect({ callbackUrl, reply: reply.json.error_code }).toEqual({ callbackUrl, reply: 0 });
    const id = String(reply.json.ext_message_id);
    const opened = await fetch(`${app.url}/inbox/messages/${id}/opened`, { method: 'POST', headers: { authorization: `Bearer ${await playerToken(playerId)}` } });
    expect(opened.status).toBe(200);
    return id;
  }

  async function waitUntilAllDead(db: Client, ids: string[], timeoutMs = 30_000): Promise<Array<{ message_id: string; state: string; errors: string[] }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await db.query<{ message_id: string; state: string; errors: string[] }>(
        `SELECT c.message_id, c.state, array_remove(array_agg(a.error ORDER BY a.id), NULL) AS errors
           FROM callbacks c LEFT JOIN callback_attempts a ON a.callback_id = c.id
          WHERE c.message_id = ANY($1::uuid[]) GROUP BY c.id`,
        [ids],
      );
      if (rows.length === ids.length * 2 && rows.every((row) => row.state === 'dead')) return rows;
      if (Date.now() > deadline) throw new Error(`callbacks not all dead in ${timeoutMs} ms: ${JSON.stringify(rows.filter((row) => row.state !== 'dead'))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('control: the decoy is reachable where the loopback literals land, over IPv4 and IPv6, when loopback is allow-listed by exact address', async () => {
    const { app, db } = await start('127.0.0.1,[::1]');
    const ids = [await postAndOpen(app, `http://0x7f000001:${control.port}/cb`), await postAndOpen(app, `http://[::1]:${control.port}/cb`)];
    await waitUntilAllDead(db, ids);
    expect(control.connections.filter((connection) => connection.family === 'IPv4').length).toBeGreaterThan(0);
    expect(control.connections.filter((connection) => connection.family === 'IPv6').length).toBeGreaterThan(0);
  });

  it('with CALLBACK_ALLOWED_HOSTS=*, accepts every hostile callback_url but refuses each at send time: dead, recorded, and the decoy sees no connection', async () => {
    const { app, db } = await start('*');
    const urls = hostileUrls(decoy.port).concat(Object.keys(HOSTILE_NAMES).map((name) => `http://${name}:${decoy.port}/cb`));
    const ids = [];
    const urlOf = new Map<string, string>();
    for (const url of urls) {
      const id = await postAndOpen(app, url);
      ids.push(id);
      urlOf.set(id, url);
    }
    const callbacks = await waitUntilAllDead(db, ids);

    for (const callback of callbacks) {
      const url = urlOf.get(callback.message_id)!;
      expect({ url, attempts: callback.errors.length > 0 }).toEqual({ url, attempts: true });
      // "localhost." (trailing dot) does not resolve through this machine's /etc/hosts: refused by the lookup, never connected
      const refusal = url.includes('LOCALHOST.') ? /^(refused by address guard: |dns lookup failed: ENOTFOUND$)/ : /^refused by address guard: /;
      for (const error of callback.errors) expect({ url, error }).toEqual({ url, error: expect.stringMatching(refusal) });
    }
    // the support API shows the refusal for the metadata address
    const detail = await fetch(`${app.url}/support/messages/${ids[0]}`, { headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
    const attempts = ((await detail.json()) as { callbacks: Array<{ error: string }> }).callbacks;
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((attempt) => /^refused by address guard: .*169\.254\.169\.254/.test(attempt.error))).toBe(true);

    expect(decoy.connections).toEqual([]);
    expect(app.alive).toBe(true);
  });

  it('with only public name patterns allowed, refuses literal addresses at the gateway (error_code 2, nothing stored), and a name under an allowed pattern that resolves to loopback at send time', async () => {
    const { app, db } = await start('*.smartico.ai,*.partner-callbacks.example');
    for (const url of hostileUrls(decoy.port)) {
      const reply = await postGateway(app.url, customIm({ callback_url: url }));
      expect({ url, reply: reply.json }).toEqual({ url, reply: { error_code: 2, error_message: expect.stringMatching(/CALLBACK_ALLOWED_HOSTS/) } });
    }
    expect((await db.query('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(0);

    const ids = [];
    for (const name of Object.keys(HOSTILE_NAMES)) ids.push(await postAndOpen(app, `http://${name}:${decoy.port}/cb`));
    const callbacks = await waitUntilAllDead(db, ids);
    for (const callback of callbacks) {
      expect(callback.errors.length).toBeGreaterThan(0);
      for (const error of callback.errors) expect(error).toMatch(/^refused by address guard: cb6?\.partner-callbacks\.example resolves to (127\.0\.0\.1|::1) \(loopback\)$/);
    }
    expect(decoy.connections).toEqual([]);
    expect(app.alive).toBe(true);
  });
});
