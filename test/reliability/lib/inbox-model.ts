import fc from 'fast-check';
import { Client } from 'pg';

import { AppProcess } from '../../utils/app-process';
import { OPERATOR_KEY } from '../../utils/create-test-app';
import { eventually, sleep } from '../../utils/eventually';
import { FakeSmarticoServer } from '../../utils/fake-smartico.server';
import { customIm, postGateway } from '../../utils/gateway-client';
import { playerToken } from '../../utils/player-tokens';
import { SocketPlayer } from '../../utils/socket-player';
import { callbackAttemptCounts, CallbackCrashLog, CallbackKeyFacts } from './callback-crashes';

export type Display = 'both' | 'inbox' | 'popup';
/** `service` is exempt from suppression (SUPPRESSION_EXEMPT_CATEGORIES' default) */
export type Category = 'promo' | 'service';
export type Status = 'delivered' | 'opened' | 'clicked' | 'failed' | 'rejected';

/** What the model knows of one message. */
export interface ModelMessage {
  id: string;
  player: number;
  display: Display;
  category: Category;
  /** how many crash-restarts had happened when it was posted */
  crashesBefore: number;
  delivered: boolean;
  opened: boolean;
  clicked: boolean;
  read: boolean;
  archived: boolean;
  failed: boolean;
  expired: boolean;
  /** taken back by the operator (SPEC v2 §7) */
  voided: boolean;
  /** hidden by a responsible-gambling suppression */
  suppressed: boolean;
  /** kept from the player by a suppression before it was delivered: Smartico hears rejected (failed_at is set too) */
  rejected: boolean;
}

export interface ModelSocket {
  player: number;
  /** messages this socket must have been pushed, each once */
  expected: Set<string>;
}

export interface InboxModel {
  messages: ModelMessage[];
  sockets: ModelSocket[];
  /** the players under a suppression now */
  suppressed: Set<number>;
}

/** The real system: the app as a child process, its database, the fake Smartico and the players' sockets. */
export interface InboxReal {
  run: string;
  players: [string, string];
  system: InboxSystem;
  sockets: SocketPlayer[];
  /** first timestamps seen per message and column: they must never change */
  seen: Map<string, Record<string, string | null>>;
}

/** One app (restartable on the same port), shared by all the runs of a property. */
export class InboxSystem {
  app!: AppProcess;
  restarts = 0;
  /** each kill -9, with what the database had recorded of the callbacks at it */
  readonly crashes = new CallbackCrashLog();

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly port: number,
    readonly db: Client,
    readonly smartico: FakeSmarticoServer,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.app = new AppProcess({ ...this.env, PORT: String(this.port), HOST: '127.0.0.1' });
    await this.app.waitForHealthy(this.url);
  }

  /** kill -9, then start again on the same port and database. */
  async crashRestart(): Promise<void> {
    this.app.kill('SIGKILL');
    await this.app.exited;
    // what it sent is read off the receiver's sockets before the records are
    await this.smartico.waitForNoConnections();
    await this.crashes.noteCrash(this.db);
    this.restarts++;
    await this.start();
  }
}

const visible = (message: ModelMessage): boolean =>
  !message.archived && !message.failed && !message.expired && !message.voided && !message.suppressed && !message.rejected;
// never delivered and never will be
const ended = (message: ModelMessage): boolean => message.failed || message.rejected;

export function modelUnread(model: InboxModel, player: number): number {
  return model.messages.filter((message) => message.player === player && message.display !== 'popup' && !message.read && visible(message)).length;
}

export function expectedStatuses(message: ModelMessage): Status[] {
  const statuses: Status[] = [];
  if (message.delivered) statuses.push('delivered');
  if (message.opened) statuses.push('opened');
  if (message.clicked) statuses.push('clicked');
  if (message.failed) statuses.push('failed');
  if (message.rejected) statuses.push('rejected');
  return statuses;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 10_000): Promise<void> {
  await eventually(condition, { what, timeoutMs, everyMs: 10 });
}

function fail(message: string): never {
  throw new Error(message);
}

function assertEqual(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

/**
 * After every command: the database, the pushes each socket saw, the unread badge of each socket
 * and the callbacks Smartico received agree with the model; no timestamp ever changed once set.
 */
export async function checkAgreement(model: InboxModel, real: InboxReal): Promise<void> {
  const ids = model.messages.map((message) => message.id);
  // database
  const rows = new Map(
    (
      await real.system.db.query<Record<string, string | null> & { id: string }>(
        `SELECT id, delivered_at::text, opened_at::text, clicked_at::text, read_at::text, archived_at::text, failed_at::text,
                voided_at::text, suppressed_at::text
           FROM messages WHERE id = ANY($1::uuid[])`,
        [ids],
      )
    ).rows.map((row) => [row.id, row]),
  );
  for (const message of model.messages) {
    const row = rows.get(message.id) ?? fail(`message ${message.id} is not stored`);
    const flags = {
      delivered: row.delivered_at !== null,
      opened: row.opened_at !== null,
      clicked: row.clicked_at !== null,
      read: row.read_at !== null,
      archived: row.archived_at !== null,
      failed: row.failed_at !== null,
      voided: row.voided_at !== null,
      suppressed: row.suppressed_at !== null,
    };
    assertEqual(
      flags,
      {
        delivered: message.delivered,
        opened: message.opened,
        clicked: message.clicked,
        read: message.read,
        archived: message.archived,
        // a rejected message has failed_at too: it will never be delivered
        failed: ended(message),
        voided: message.voided,
        suppressed: message.suppressed,
      },
      `state of ${message.id}`,
    );
    const seen = real.seen.get(message.id) ?? {};
    for (const column of ['delivered_at', 'opened_at', 'clicked_at', 'read_at', 'archived_at', 'failed_at', 'voided_at', 'suppressed_at']) {
      if (seen[column] !== undefined && seen[column] !== null && seen[column] !== row[column])
        fail(`${column} of ${message.id} went from ${seen[column]} to ${row[column]}`);
      if (seen[column] === undefined || seen[column] === null) seen[column] = row[column];
    }
    real.seen.set(message.id, seen);
  }
  // pushes: each socket gets exactly what the model says, once
  for (const [index, socketModel] of model.sockets.entries()) {
    const socket = real.sockets[index];
    const received = (): string[] => socket.messages.map((message) => message.id);
    await waitUntil(
      () => received().length >= socketModel.expected.size,
      () => `socket ${index} to get ${socketModel.expected.size} pushes, got ${received().length}`,
    );
    const got = received();
    if (new Set(got).size !== got.length) fail(`socket ${index} was pushed a message twice: ${got.join(',')}`);
    assertEqual([...got].sort(), [...socketModel.expected].sort(), `pushes of socket ${index}`);
    // the unread badge converges on the model's count
    const unread = modelUnread(model, socketModel.player);
    await waitUntil(
      () => socket.unread[socket.unread.length - 1] === unread,
      () => `socket ${index} (player ${socketModel.player}) to show unread ${unread}, saw ${socket.unread.join(',')}`,
    );
  }
  // callbacks so far: only statuses the model has, never one twice unless a crash it straddles cut its record off
  const byMessage = callbacksByMessage(real, ids);
  for (const message of model.messages) {
    const got = byMessage.get(message.id) ?? [];
    const allowed = expectedStatuses(message);
    for (const status of got) if (!allowed.includes(status as Status)) fail(`callback ${status} for ${message.id}, model allows ${allowed.join(',')}`);
  }
  await checkDuplicateCallbacks(model, real);
}

/** Every repeated (ext_message_id, status) is explained by a recorded failed attempt or a crash it straddles (see CallbackCrashLog). */
async function checkDuplicateCallbacks(model: InboxModel, real: InboxReal): Promise<void> {
  const ids = model.messages.map((message) => message.id);
  const counts = await callbackAttemptCounts(real.system.db, ids);
  const facts = new Map<string, CallbackKeyFacts>();
  const wanted = new Set(ids);
  for (const request of real.system.smartico.requests) {
    if (!wanted.has(request.query.ext_message_id)) continue;
    const key = `${request.query.ext_message_id}/${request.query.status}`;
    const fact = facts.get(key) ?? { receivedAt: [], ...(counts.get(key) ?? { attempts: 0, failed: 0, succeeded: 0 }) };
    fact.receivedAt.push(request.at.getTime());
    facts.set(key, fact);
  }
  const { problems } = real.system.crashes.judge(facts);
  if (problems.length > 0) fail(`callbacks repeated beyond what failed attempts and crashes explain: ${problems.join('; ')}`);
}

export function callbacksByMessage(real: InboxReal, ids: string[]): Map<string, string[]> {
  const wanted = new Set(ids);
  const byMessage = new Map<string, string[]>();
  for (const request of real.system.smartico.requests) {
    const id = request.query.ext_message_id;
    if (!wanted.has(id)) continue;
    byMessage.set(id, [...(byMessage.get(id) ?? []), request.query.status]);
  }
  return byMessage;
}

/**
 * At the end of a run: every status the model has arrives, in funnel order, once; a repeat only as
 * a crash explains it, and none at all for a message posted after the last crash.
 */
export async function checkCallbacksDrained(model: InboxModel, real: InboxReal): Promise<void> {
  const ids = model.messages.map((message) => message.id);
  await waitUntil(
    () => {
      const byMessage = callbacksByMessage(real, ids);
      return model.messages.every((message) => expectedStatuses(message).every((status) => (byMessage.get(message.id) ?? []).includes(status)));
    },
    () =>
      `callbacks ${JSON.stringify(Object.fromEntries(callbacksByMessage(real, ids)))} to reach ${JSON.stringify(model.messages.map((message) => [message.id, expectedStatuses(message)]))}`,
    30_000,
  );
  const byMessage = callbacksByMessage(real, ids);
  for (const message of model.messages) {
    const got = byMessage.get(message.id) ?? [];
    const firsts = [...new Set(got)];
    assertEqual(firsts, expectedStatuses(message), `callback order for ${message.id}`);
    if (message.crashesBefore === real.system.crashes.count)
      assertEqual(got, expectedStatuses(message), `callbacks for ${message.id} (posted after the last crash)`);
  }
  await checkDuplicateCallbacks(model, real);
}

type Cmd = fc.AsyncCommand<InboxModel, InboxReal, false>;

/** How many commands of each kind actually ran (a command whose precondition fails is skipped). */
export const executed = new Map<string, number>();
const count = (kind: string): void => void executed.set(kind, (executed.get(kind) ?? 0) + 1);

const ofPlayer = (model: InboxModel, player: number): ModelMessage[] => model.messages.filter((message) => message.player === player);
const MAX_SOCKETS_PER_PLAYER = 2;

export class Post implements Cmd {
  constructor(
    readonly player: number,
    readonly display: Display,
    readonly category: Category = 'promo',
  ) {}
  check = (model: InboxModel): boolean => model.messages.length < 12;
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    count('post');
    const reply = await postGateway(
      real.system.url,
      customIm({
        ext_user_id: real.players[this.player],
        callback_url: real.system.smartico.url(`/cb?run=${real.run}`),
        extension: { title: 't', display: this.display, category: this.category },
      }),
    );
    assertEqual(reply.json.error_code, 0, 'gateway reply');
    const id = String(reply.json.ext_message_id);
    // accepted for Smartico either way; a suppressed player's promo is stored hidden and rejected, never pushed
    const hidden = model.suppressed.has(this.player) && this.category !== 'service';
    model.messages.push({
      id,
      player: this.player,
      display: this.display,
      category: this.category,
      crashesBefore: real.system.crashes.count,
      delivered: false,
      opened: false,
      clicked: false,
      read: false,
      archived: false,
      failed: false,
      expired: false,
      voided: false,
      suppressed: hidden,
      rejected: hidden,
    });
    if (!hidden) for (const socket of model.sockets) if (socket.player === this.player) socket.expected.add(id);
    await checkAgreement(model, real);
  }
  toString = (): string => `post(p${this.player}, ${this.display}, ${this.category})`;
}

function catchUp(model: InboxModel, player: number): Set<string> {
  return new Set(
    ofPlayer(model, player)
      .filter((message) => !message.delivered && visible(message))
      .map((message) => message.id),
  );
}

export class Connect implements Cmd {
  constructor(readonly player: number) {}
  check = (model: InboxModel): boolean => model.sockets.filter((socket) => socket.player === this.player).length < MAX_SOCKETS_PER_PLAYER;
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    count('connect');
    const socket = await SocketPlayer.connect(real.system.url, await playerToken(real.players[this.player]), { autoAck: false });
    real.sockets.push(socket);
    model.sockets.push({ player: this.player, expected: catchUp(model, this.player) });
    await checkAgreement(model, real);
  }
  toString = (): string => `connect(p${this.player})`;
}

export class Reconnect implements Cmd {
  constructor(readonly pick: number) {}
  check = (model: InboxModel): boolean => model.sockets.length > 0;
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    count('reconnect');
    const index = this.pick % model.sockets.length;
    const player = model.sockets[index].player;
    real.sockets[index].close();
    const socket = await SocketPlayer.connect(real.system.url, await playerToken(real.players[player]), { autoAck: false });
    real.sockets[index] = socket;
    model.sockets[index] = { player, expected: catchUp(model, player) };
    await checkAgreement(model, real);
  }
  toString = (): string => `reconnect(#${this.pick})`;
}

export class Ack implements Cmd {
  constructor(
    readonly pick: number,
    readonly which: number,
  ) {}
  check = (model: InboxModel): boolean => model.sockets.some((socket) => socket.expected.size > 0);
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    const candidates = model.sockets.map((_, index) => index).filter((index) => real.sockets[index].messages.length > 0);
    const index = candidates[this.pick % candidates.length];
    const socket = real.sockets[index];
    // a message of this socket it has not acked yet (SocketPlayer forgets an ack once used)
    const pending = socket.messages
      .map((message) => message.id)
      .filter((id) => (socket as unknown as { pendingAcks: Map<string, unknown> }).pendingAcks.has(id));
    if (pending.length === 0) return;
    const id = pending[this.which % pending.length];
    count('ack');
    socket.ack(id);
    const message = model.messages.find((candidate) => candidate.id === id)!;
    if (!message.delivered && !ended(message)) {
      message.delivered = true;
      await waitUntil(
        async () =>
          (await real.system.db.query<{ delivered_at: Date | null }>('SELECT delivered_at FROM messages WHERE id = $1', [id])).rows[0].delivered_at !== null,
        () => `ack of ${id} to be recorded`,
      );
    } else {
      // nothing should change; give the ack time to reach the server so a wrong change would show
      await sleep(50);
    }
    await checkAgreement(model, real);
  }
  toString = (): string => `ack(#${this.pick}, ${this.which})`;
}

type Action = 'open' | 'click' | 'archive';

export class Act implements Cmd {
  constructor(
    readonly player: number,
    readonly pick: number,
    readonly action: Action,
    readonly viaSocket: boolean,
  ) {}
  check = (model: InboxModel): boolean => ofPlayer(model, this.player).length > 0;
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    const mine = ofPlayer(model, this.player);
    const message = mine[this.pick % mine.length];
    const shown = visible(message);
    const socketIndex = model.sockets.findIndex((socket) => socket.player === this.player);
    count(`${this.action}${shown ? '' : ' (not shown)'} via ${this.viaSocket && socketIndex >= 0 ? 'socket' : 'rest'}`);
    let ok: boolean;
    if (this.viaSocket && socketIndex >= 0) {
      const event = this.action === 'open' ? 'opened' : this.action === 'click' ? 'clicked' : 'archive';
      const reply = await real.sockets[socketIndex].emit(event, { id: message.id });
      ok = reply.ok;
      if (!ok) assertEqual(reply, { ok: false, error: 'message not found' }, `${event} reply`);
    } else {
      const path =
        this.action === 'archive' ? `/inbox/messages/${message.id}` : `/inbox/messages/${message.id}/${this.action === 'open' ? 'opened' : 'clicked'}`;
      const response = await fetch(`${real.system.url}${path}`, {
        method: this.action === 'archive' ? 'DELETE' : 'POST',
        headers: { authorization: `Bearer ${await playerToken(real.players[this.player])}` },
      });
      ok = response.status === 200 || response.status === 204;
      if (!ok) assertEqual(response.status, 404, `${this.action} status`);
    }
    assertEqual(ok, shown, `${this.action} of a message that is ${shown ? '' : 'not '}shown`);
    if (shown) {
      if (this.action === 'archive') message.archived = true;
      else {
        message.delivered = true;
        message.opened = true;
        message.read = true;
        if (this.action === 'click') message.clicked = true;
      }
    }
    await checkAgreement(model, real);
  }
  toString = (): string => `${this.action}(p${this.player}, ${this.pick}, ${this.viaSocket ? 'socket' : 'rest'})`;
}

export class ReadAll implements Cmd {
  constructor(readonly player: number) {}
  check = (): boolean => true;
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    count('readAll');
    const changed = ofPlayer(model, this.player).filter((message) => !message.read && visible(message));
    const response = await fetch(`${real.system.url}/inbox/read-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await playerToken(real.players[this.player])}` },
    });
    assertEqual({ status: response.status, body: await response.json() }, { status: 200, body: { read: changed.length } }, 'read-all');
    for (const message of changed) message.read = true;
    await checkAgreement(model, real);
  }
  toString = (): string => `readAll(p${this.player})`;
}

/** Time passes for one message: its expires_at is reached (set to now, standing in for waiting), and the sweep runs. */
export class Expire implements Cmd {
  constructor(readonly pick: number) {}
  check = (model: InboxModel): boolean => model.messages.some((message) => !message.expired);
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    count('expire');
    const candidates = model.messages.filter((message) => !message.expired);
    const message = candidates[this.pick % candidates.length];
    await real.system.db.query(`UPDATE messages SET expires_at = now() WHERE id = $1`, [message.id]);
    message.expired = true;
    if (!message.delivered && !ended(message)) {
      message.failed = true;
      await waitUntil(
        async () =>
          (await real.system.db.query<{ failed_at: Date | null }>('SELECT failed_at FROM messages WHERE id = $1', [message.id])).rows[0].failed_at !== null,
        () => `the sweep to fail ${message.id}`,
      );
    }
    await checkAgreement(model, real);
  }
  toString = (): string => `expire(${this.pick})`;
}

async function operatorCall(real: InboxReal, method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${real.system.url}/operator${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The operator voids one message (SPEC v2 §7): gone for good; `failed` if it was never delivered. */
export class Void implements Cmd {
  constructor(readonly pick: number) {}
  check = (model: InboxModel): boolean => model.messages.length > 0;
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    const message = model.messages[this.pick % model.messages.length];
    count(message.voided ? 'void (again)' : 'void');
    const reply = await operatorCall(real, 'POST', '/messages/void', { id: message.id, reason: 'model' });
    assertEqual(reply, { status: 200, body: { voided: message.voided ? 0 : 1 } }, 'void');
    if (!message.voided) {
      message.voided = true;
      if (!message.delivered && !ended(message)) message.failed = true;
    }
    await checkAgreement(model, real);
  }
  toString = (): string => `void(${this.pick})`;
}

/** The operator sets (or lifts) a player's self-exclusion: promos hidden for good, the undelivered ones rejected. */
export class Suppress implements Cmd {
  constructor(
    readonly player: number,
    readonly on: boolean,
  ) {}
  check = (): boolean => true;
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    count(this.on ? 'suppress' : 'lift suppression');
    const reply = await operatorCall(real, 'PUT', `/players/${encodeURIComponent(real.players[this.player])}/suppression`, {
      state: this.on ? 'self_excluded' : 'none',
    });
    assertEqual(reply.status, 200, 'suppression status');
    if (this.on) {
      model.suppressed.add(this.player);
      for (const message of ofPlayer(model, this.player)) {
        if (message.category === 'service' || message.suppressed || message.voided || ended(message)) continue;
        message.suppressed = true;
        if (!message.delivered) message.rejected = true;
      }
    } else model.suppressed.delete(this.player);
    await checkAgreement(model, real);
  }
  toString = (): string => `suppress(p${this.player}, ${this.on})`;
}

export class CrashRestart implements Cmd {
  constructor(readonly enabled: boolean) {}
  check = (): boolean => this.enabled;
  async run(model: InboxModel, real: InboxReal): Promise<void> {
    count('crashRestart');
    await real.system.crashRestart();
    for (const socket of real.sockets) socket.close();
    real.sockets.length = 0;
    model.sockets.length = 0;
    await checkAgreement(model, real);
  }
  toString = (): string => (this.enabled ? 'crashRestart' : 'noop');
}

/** The commands, with crash-restart drawn once in `crashOdds` of its turns (it costs an app boot). */
export function inboxCommands(crashOdds: number): Array<fc.Arbitrary<Cmd>> {
  const player = fc.integer({ min: 0, max: 1 });
  return [
    fc
      .tuple(player, fc.constantFrom<Display>('both', 'inbox', 'popup'), fc.constantFrom<Category>('promo', 'service'))
      .map(([p, display, category]) => new Post(p, display, category)),
    fc
      .tuple(player, fc.constantFrom<Display>('both', 'inbox', 'popup'), fc.constantFrom<Category>('promo', 'service'))
      .map(([p, display, category]) => new Post(p, display, category)),
    player.map((p) => new Connect(p)),
    fc.nat().map((pick) => new Reconnect(pick)),
    fc.tuple(fc.nat(), fc.nat()).map(([pick, which]) => new Ack(pick, which)),
    fc.tuple(fc.nat(), fc.nat()).map(([pick, which]) => new Ack(pick, which)),
    fc.tuple(player, fc.nat(), fc.boolean()).map(([p, pick, viaSocket]) => new Act(p, pick, 'open', viaSocket)),
    fc.tuple(player, fc.nat(), fc.boolean()).map(([p, pick, viaSocket]) => new Act(p, pick, 'click', viaSocket)),
    fc.tuple(player, fc.nat(), fc.boolean()).map(([p, pick, viaSocket]) => new Act(p, pick, 'archive', viaSocket)),
    player.map((p) => new ReadAll(p)),
    fc.nat().map((pick) => new Expire(pick)),
    fc.nat().map((pick) => new Void(pick)),
    fc.tuple(player, fc.boolean()).map(([p, on]) => new Suppress(p, on)),
    fc.integer({ min: 1, max: crashOdds }).map((draw) => new CrashRestart(draw === 1)),
  ];
}
