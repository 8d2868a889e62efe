import { randomUUID } from 'node:crypto';

import fc from 'fast-check';
import { Client } from 'pg';

import { GATEWAY_A, GATEWAY_B, OPERATOR_KEY, PLAYER_JWT_SECRET, SUPPORT_KEY } from '../utils/create-test-app';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { freePort } from '../utils/free-port';
import { createTestDatabase, TestDatabase } from '../utils/test-database';
import {
  Ack,
  Act,
  checkAgreement,
  checkCallbacksDrained,
  Connect,
  CrashRestart,
  executed,
  Expire,
  inboxCommands,
  InboxModel,
  InboxReal,
  InboxSystem,
  Post,
  ReadAll,
  Reconnect,
  Suppress,
  Void,
} from './lib/inbox-model';
import { scale } from './scale';

jest.setTimeout(900_000);

const RUNS = scale(100, 15);
const MAX_COMMANDS = scale(30, 20);
// crash-restart (kill -9 and a fresh boot) is drawn in one of this many of its turns
const CRASH_ODDS = scale(4, 3);

describe('status state machine against a model (issue 8, scenario 7)', () => {
  let database: TestDatabase;
  let db: Client;
  let smartico: FakeSmarticoServer;
  let system: InboxSystem;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    smartico = await FakeSmarticoServer.start();
    system = new InboxSystem(
      {
        DATABASE_URL: database.url,
        CIM_GATEWAYS: JSON.stringify([GATEWAY_A, GATEWAY_B]),
        PLAYER_JWT_SECRET,
        SUPPORT_API_KEYS: SUPPORT_KEY,
        OPERATOR_API_KEYS: OPERATOR_KEY,
        CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
        LOG_LEVEL: 'warn',
        CALLBACK_POLL_MS: '50',
        CALLBACK_TIMEOUT_MS: '500',
        CALLBACK_LEASE_MS: '1100',
        CALLBACK_RETRY_BASE_MS: '50',
        CALLBACK_RETRY_MAX_MS: '200',
        EXPIRY_SWEEP_MS: '100',
        PLAYER_RATE_LIMIT_PER_MIN: '100000',
      },
      await freePort(),
      db,
      smartico,
    );
    await system.start();
  });

  afterAll(async () => {
    system?.app.kill('SIGTERM');
    await system?.app.exited;
    await db?.end();
    await smartico?.close();
    await database?.drop();
  });

  it(`agrees with the model over ${RUNS} random sequences of post, connect, ack, open, click, archive, read-all, expire, void, suppress, reconnect and crash-restart across two players`, async () => {
    let commandsRun = 0;
    const outcome = await fc.check(
      fc.asyncProperty(fc.commands(inboxCommands(CRASH_ODDS), { maxCommands: MAX_COMMANDS, size: 'max' }), async (commands) => {
        const run = randomUUID().slice(0, 8);
        const model: InboxModel = { messages: [], sockets: [], suppressed: new Set() };
        const real: InboxReal = { run, players: [`m-${run}-0`, `m-${run}-1`], system, sockets: [], seen: new Map() };
        try {
          await fc.asyncModelRun(() => ({ model, real }), commands);
          commandsRun += [...commands].length;
          await checkAgreement(model, real);
          await checkCallbacksDrained(model, real);
        } finally {
          for (const socket of real.sockets) socket.close();
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    if (outcome.failed) {
      throw new Error(
        `after ${outcome.numRuns} runs (seed ${outcome.seed}, path ${outcome.counterexamplePath}), commands ${fc.stringify(outcome.counterexample?.[0])}:\n${String(outcome.errorInstance)}`,
      );
    }
    process.stdout.write(
      `status model: ${RUNS} runs, ${commandsRun} commands generated, run: ${JSON.stringify(Object.fromEntries(executed))}, ` +
        `${system.restarts} crash-restarts, ${smartico.requests.length} callbacks received\n`,
    );
  });

  const fresh = (): { model: InboxModel; real: InboxReal } => {
    const run = randomUUID().slice(0, 8);
    return {
      model: { messages: [], sockets: [], suppressed: new Set() },
      real: { run, players: [`s-${run}-0`, `s-${run}-1`], system, sockets: [], seen: new Map() },
    };
  };

  async function scripted(commands: Array<fc.AsyncCommand<InboxModel, InboxReal, false>>): Promise<void> {
    const { model, real } = fresh();
    try {
      await fc.asyncModelRun(() => ({ model, real }), commands);
      await checkCallbacksDrained(model, real);
    } finally {
      for (const socket of real.sockets) socket.close();
    }
  }

  it('agrees with the model through a kill -9: pushes caught up again, statuses kept, callbacks drained', async () => {
    const restarts = system.restarts;
    await scripted([
      new Post(0, 'both'),
      new Post(0, 'inbox'),
      new Post(1, 'popup'),
      new Connect(0),
      new Connect(1),
      new Ack(0, 0),
      new Act(0, 0, 'open', true),
      new CrashRestart(true),
      new Connect(0),
      new Connect(0),
      new Ack(0, 0),
      new Act(0, 1, 'click', false),
      new Connect(1),
      new Expire(2),
      new Reconnect(0),
      new ReadAll(0),
      new Act(0, 0, 'archive', true),
    ]);
    expect(system.restarts).toBe(restarts + 1);
  });

  it('agrees with the model when a delivered, unread message expires under an open socket: its badge drops', async () => {
    await scripted([new Post(0, 'both'), new Post(0, 'inbox'), new Connect(0), new Ack(0, 0), new Expire(0), new Connect(0), new Act(0, 1, 'open', true)]);
  });

  it('agrees with the model through voids and a self-exclusion: nothing hidden is pushed, listed or counted again; rejected or failed at most once', async () => {
    const ran = (kind: string): number => executed.get(kind) ?? 0;
    const before = { void: ran('void'), again: ran('void (again)'), suppress: ran('suppress'), lift: ran('lift suppression') };
    await scripted([
      new Post(0, 'both', 'promo'),
      new Post(0, 'both', 'service'),
      new Post(0, 'inbox', 'promo'),
      new Connect(0),
      new Ack(0, 0),
      new Void(2),
      new Suppress(0, true),
      new Post(0, 'both', 'promo'),
      new Post(0, 'both', 'service'),
      new Reconnect(0),
      new Act(0, 0, 'open', true),
      new Void(0),
      new Void(0),
      new Suppress(0, false),
      new Post(0, 'both', 'promo'),
      new Connect(0),
      new Expire(3),
      new ReadAll(0),
    ]);
    expect({ void: ran('void'), again: ran('void (again)'), suppress: ran('suppress'), lift: ran('lift suppression') }).toEqual({
      void: before.void + 2,
      again: before.again + 1,
      suppress: before.suppress + 1,
      lift: before.lift + 1,
    });
  });
});
