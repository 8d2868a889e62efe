import fc from 'fast-check';
import { Client } from 'pg';

import { AppProcess } from '../utils/app-process';
import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET, SUPPORT_KEY } from '../utils/create-test-app';
import { createTestDatabase, TestDatabase } from '../utils/test-database';
import { logLines } from './lib/auth-attacks';
import { BODY_KINDS, fuzzExamples, FuzzRequest, fuzzRequest, JSON_CONTENT_TYPES, sendRaw } from './lib/gateway-fuzz';
import { Ledger } from './lib/ledger';
import { scale } from './scale';

jest.setTimeout(600_000);

const RUNS = scale(3_000, 200);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface StoredRow {
  id: string;
  gateway_id: string;
  im_uid: string;
  ext_user_id: string;
  body: string;
  callback_url: string;
  extension: unknown;
}

describe('gateway fuzzing (issue 8, scenario 6)', () => {
  let database: TestDatabase;
  let app: AppProcess;
  let url: string;
  let db: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ app, url } = await AppProcess.startHealthy({
      DATABASE_URL: database.url,
      CIM_GATEWAYS: JSON.stringify([GATEWAY_A, GATEWAY_B]),
      PLAYER_JWT_SECRET,
      SUPPORT_API_KEYS: SUPPORT_KEY,
      CALLBACK_ALLOWED_HOSTS: '*.smartico.ai',
      LOG_LEVEL: 'warn',
      // so random Authorization values keep reaching the guard instead of the bad-auth limit
      GATEWAY_BAD_AUTH_PER_MIN: '1000000',
    }));
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  it('refuses an extension nested 5,000 levels deep (which overflowed the stack: error_code 5 and an error log) with error_code 3', async () => {
    const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const body = Buffer.from(
      JSON.stringify({ ext_user_id: 'p', body: 'b', im_uid: 'deep-1', callback_url: 'https://api.smartico.ai/c', extension: '__X__' }).replace('"__X__"', deep),
    );
    const reply = await sendRaw(url, { authorization: GATEWAY_A.authorization, contentType: 'application/json', headers: {}, body, kind: 'deep' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ error_code: 3, error_message: 'extension must nest at most 64 levels' });
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(0);
  });

  it('stores an extension with keys named constructor, prototype, valueOf, toString … exactly as sent (they were silently dropped)', async () => {
    const extension =
      '{"constructor":"c","prototype":{"p":1},"valueOf":null,"toString":"t","hasOwnProperty":[1],"nested":{"constructor":{"x":1},"isPrototypeOf":"i"}}';
    const body = Buffer.from(`{"ext_user_id":"p","body":"b","im_uid":"proto-keys","callback_url":"https://api.smartico.ai/c","extension":${extension}}`);
    const reply = await sendRaw(url, { authorization: GATEWAY_A.authorization, contentType: 'application/json', headers: {}, body, kind: 'proto keys' });
    const json = JSON.parse(reply.text) as { error_code: number; ext_message_id: string };
    expect(json.error_code).toBe(0);
    const stored = (await db.query<{ extension: unknown }>('SELECT extension FROM messages WHERE id = $1', [json.ext_message_id])).rows[0].extension;
    expect(stored).toEqual(JSON.parse(extension));
    await db.query('DELETE FROM messages WHERE id = $1', [json.ext_message_id]);
  });

  afterAll(async () => {
    await db.end();
    app.kill('SIGTERM');
    await app.exited;
    await database.drop();
  });

  it(`answers ${RUNS} hostile requests with HTTP 200 and exactly {error_code, ext_message_id} or {error_code, error_message}, storing a row only for error_code 0, as sent`, async () => {
    // (gateway, im_uid) → the accepted row, as the request stated it
    const accepted = new Map<string, StoredRow>();
    const codes = new Map<number, number>();
    const kinds = new Map<string, number>();
    const ledger = new Ledger();
    let wrongContentTypes = 0;
    let strayHeaders = 0;
    const seed = Math.floor(Math.random() * 0x7fffffff);

    const outcome = await fc.check(
      fc.asyncProperty(fuzzRequest, async (fuzz: FuzzRequest) => {
        kinds.set(fuzz.kind, (kinds.get(fuzz.kind) ?? 0) + 1);
        if (fuzz.contentType === undefined || !JSON_CONTENT_TYPES.includes(fuzz.contentType)) wrongContentTypes += 1;
        if (Object.keys(fuzz.headers).length > 0) strayHeaders += 1;
        const reply = await sendRaw(url, fuzz);
        expect(reply.status).toBe(200);
        expect(reply.contentType).toMatch(/^application\/json\b/);
        const json = JSON.parse(reply.text) as Record<string, unknown>;
        expect(typeof json === 'object' && json !== null && !Array.isArray(json)).toBe(true);
        const code = json.error_code as number;
        codes.set(code, (codes.get(code) ?? 0) + 1);

        if (code === 0) {
          expect(Object.keys(json).sort()).toEqual(['error_code', 'ext_message_id']);
          expect(json.ext_message_id).toMatch(UUID);
          const gatewayId =
            fuzz.authorization === GATEWAY_A.authorization ? GATEWAY_A.id : fuzz.authorization === GATEWAY_B.authorization ? GATEWAY_B.id : undefined;
          expect(gatewayId).toBeDefined();
          const sent = JSON.parse(fuzz.body.toString('utf8')) as Record<string, unknown>;
          const expected: StoredRow = {
            id: String(json.ext_message_id),
            gateway_id: gatewayId!,
            im_uid: sent.im_uid as string,
            ext_user_id: typeof sent.ext_user_id === 'number' ? String(sent.ext_user_id) : (sent.ext_user_id as string),
            body: sent.body as string,
            callback_url: sent.callback_url as string,
            extension: sent.extension === undefined || sent.extension === null ? null : JSON.parse(JSON.stringify(sent.extension)),
          };
          ledger.recordReply({ gatewayId: gatewayId!, im_uid: expected.im_uid, ext_user_id: expected.ext_user_id }, json);
          const key = `${gatewayId}\u0000${expected.im_uid}`;
          const earlier = accepted.get(key);
          // a replay answers the first id and changes nothing
          if (earlier !== undefined) expect(expected.id).toBe(earlier.id);
          const rows = (
            await db.query<StoredRow>('SELECT id, gateway_id, im_uid, ext_user_id, body, callback_url, extension FROM messages WHERE id = $1', [expected.id])
          ).rows;
          expect(rows).toEqual([earlier ?? expected]);
          if (earlier === undefined) accepted.set(key, expected);
        } else {
          expect(Object.keys(json).sort()).toEqual(['error_code', 'error_message']);
          expect([1, 2, 3, 4, 6]).toContain(code); // never 5: the database is up, so that would be an unexpected error
          expect(typeof json.error_message).toBe('string');
          expect((json.error_message as string).length).toBeGreaterThan(0);
        }
        // nothing partial: exactly the accepted messages are stored, and nothing else was written
        // but the expiry sweep's `failed` for an accepted message whose expires_at has passed
        const counts = (
          await db.query<{ messages: number; events: number; callbacks: number }>(
            `SELECT (SELECT count(*) FROM messages)::int AS messages,
                    (SELECT count(*) FROM message_events e JOIN messages m ON m.id = e.message_id
                      WHERE NOT (e.event = 'failed' AND m.expires_at <= now()))::int AS events,
                    (SELECT count(*) FROM callbacks c JOIN messages m ON m.id = c.message_id
                      WHERE NOT (c.status = 'failed' AND m.expires_at <= now()))::int AS callbacks`,
          )
        ).rows[0];
        expect(counts).toEqual({ messages: accepted.size, events: 0, callbacks: 0 });
      }),
      // every body kind, a wrong content type and stray headers come first, whatever the draws then
      { numRuns: RUNS, endOnFailure: true, seed, examples: fuzzExamples(seed).map((example) => [example]) },
    );
    if (outcome.failed) {
      // a counterexample can be 256 KiB of brackets: report its shape, not its bytes
      const [fuzz] = outcome.counterexample ?? [];
      const shown = fuzz ? { ...fuzz, body: `${fuzz.body.length} bytes: ${fuzz.body.subarray(0, 300).toString('utf8')}…` } : undefined;
      throw new Error(
        `after ${outcome.numRuns} runs (seed ${outcome.seed}, path ${outcome.counterexamplePath}):\n${JSON.stringify(shown, null, 1)}\n${String(outcome.errorInstance)}`,
      );
    }

    // the generator reached every kind of input and the gateway both accepted and refused
    process.stdout.write(
      `gateway fuzz: ${RUNS} runs (seed ${seed}), error codes ${JSON.stringify(Object.fromEntries(codes))}, kinds ${JSON.stringify(Object.fromEntries(kinds))}, ` +
        `wrong content types ${wrongContentTypes}, stray headers ${strayHeaders}\n`,
    );
    expect([...kinds.keys()].sort()).toEqual([...BODY_KINDS].sort());
    expect(wrongContentTypes).toBeGreaterThan(0);
    expect(strayHeaders).toBeGreaterThan(0);
    expect(codes.get(0) ?? 0).toBeGreaterThan(0);
    expect(codes.get(2) ?? 0).toBeGreaterThan(0);
    // and the ledger: every error_code 0 stored once, as told, a replay answering the first id
    const report = await ledger.reconcile(db);
    expect(report.problems).toEqual({});
    expect(new Set(ledger.acceptedIds()).size).toBe(accepted.size);

    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(logLines(app.stdout).filter((line) => Number(line.level) >= 50)).toEqual([]);
    expect(app.stderr).toBe('');
  });
});
