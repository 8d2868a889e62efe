import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { createInbox, Inbox, InboxStatus } from '../../client/src/cim-inbox';
import { AppProcess } from '../utils/app-process';
import { GATEWAY_A } from '../utils/create-test-app';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { playerToken } from '../utils/player-tokens';
import { sample } from '../utils/prometheus';
import { RoundRobinProxy } from '../utils/round-robin-proxy';
import { createTestDatabase, TestDatabase } from '../utils/test-database';
import { API_KEYS, appEnv, newOutcomes, postOne, startApp, steadyPoster, waitUntil } from './lib/harness';
import { Ledger } from './lib/ledger';
import { killSender } from './lib/process-sockets';
import { scale } from './scale';

const INSTANCES = 3;
const PLAYERS = scale(600, 60);
// every tenth player has a second tab open, and opens a third after the restart
const MORE_TABS_EVERY = 10;
const POSTS_DURING_KILL = scale(1_800, 240);
const POSTS_AFTER_RESTART = scale(600, 60);
const PER_SECOND = scale(100, 60);

jest.setTimeout(scale(900_000, 300_000));

/** One browser tab: the SDK with its default options, and what it handed the page. */
class Tab {
  readonly messages: string[] = [];
  readonly opened = new Set<string>();
  unread: number | null = null;
  /** when it left `connected`, and when it was back */
  readonly drops: number[] = [];
  readonly connects: number[] = [];

  constructor(
    readonly player: string,
    readonly name: string,
    readonly inbox: Inbox,
    ledger: Ledger,
  ) {
    inbox.onMessage((message) => {
      this.messages.push(message.id);
      // one "connection" per tab in the ledger: the SDK promises each id once per tab, across reconnects
      ledger.recordPush(player, name, message.id);
    });
    inbox.onUpdate((message) => {
      if (message.opened_at !== null) this.opened.add(message.id);
    });
    inbox.onUnread((count) => (this.unread = count));
    let last: InboxStatus = 'connecting';
    inbox.onStatus((status) => {
      if (last === 'connected' && status !== 'connected') this.drops.push(Date.now());
      if (status === 'connected') this.connects.push(Date.now());
      last = status;
    });
  }
}

describe('scenario 11: three instances behind a round-robin balancer with no affinity, one killed while Smartico posts (issue 15)', () => {
  let database: TestDatabase;
  let db: Client;
  let smartico: FakeSmarticoServer;
  let proxy: RoundRobinProxy | undefined;
  const apps: AppProcess[] = [];
  const tabs: Tab[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    smartico = await FakeSmarticoServer.start();
  });

  afterAll(async () => {
    for (const tab of tabs) tab.inbox.close();
    await proxy?.close();
    for (const app of apps) app.kill('SIGKILL');
    await Promise.all(apps.map((app) => app.exited));
    await smartico?.close();
    await db?.end();
    await database?.drop();
  });

  it(`${PLAYERS} players on the SDK get every accepted message exactly once, before, during and after a kill -9 of one instance`, async () => {
    const ledger = new Ledger();
    ledger.watchReceiver(smartico);
    const env = appEnv(database.url);
    const started = await Promise.all(Array.from({ length: INSTANCES }, () => startApp(env)));
    apps.push(...started.map((instance) => instance.app));
    const urls = started.map((instance) => instance.url);
    const balancer = new RoundRobinProxy(started.map((instance) => instance.port));
    proxy = balancer;
    await balancer.start();
    const callbackUrl = smartico.url('/cb');

    const players = Array.from({ length: PLAYERS }, () => `player-${randomUUID()}`);
    const tabsOf = new Map<string, Tab[]>();
    const openTab = async (player: string): Promise<Tab> => {
      const token = await playerToken(player);
      // named after the await: two tabs of one player may be opened together
      const list = tabsOf.get(player) ?? [];
      const tab = new Tab(player, `${player}#tab${list.length + 1}`, createInbox({ url: balancer.url, token }), ledger);
      tabsOf.set(player, [...list, tab]);
      tabs.push(tab);
      return tab;
    };
    const severalTabs = players.filter((_, index) => index % MORE_TABS_EVERY === 0);
    // in batches, as pages load: hundreds of handshakes at once only measure the machine
    for (let begin = 0; begin < players.length; begin += 100) {
      const batch = players.slice(begin, begin + 100);
      await Promise.all([...batch, ...batch.filter((player) => severalTabs.includes(player))].map(openTab));
      await waitUntil(() => tabs.every((tab) => tab.inbox.status === 'connected'), 'a batch of tabs connected through the proxy', 120_000);
    }
    expect(balancer.open.every((open) => open > 0)).toBe(true);

    const outcomes = newOutcomes();
    const acceptedOf = (player: string): string[] => [
      ...new Set(ledger.accepted.filter((reply) => reply.player === player).map((reply) => reply.extMessageId)),
    ];
    const missing = (): string[] =>
      ledger.accepted
        .filter((reply) => !tabsOf.get(reply.player)!.some((tab) => tab.messages.includes(reply.extMessageId)))
        .map((reply) => `${reply.player}: ${reply.extMessageId}`);

    // 1. all up: one message per player, posted to each instance in turn, reaches every tab of its player once
    for (let begin = 0; begin < players.length; begin += 20) {
      const codes = await Promise.all(
        players
          .slice(begin, begin + 20)
          .map((player, offset) =>
            postOne(urls[(begin + offset) % INSTANCES], ledger, outcomes, { ext_user_id: player, callback_url: callbackUrl, im_uid: `im-${randomUUID()}` }),
          ),
      );
      expect(codes.every((code) => code === 0)).toBe(true);
    }
    const everyTabHasItsOwn = (): Array<[string, string[]]> => tabs.map((tab) => [tab.name, tab.messages]);
    const expectedFirst = tabs.map((tab): [string, string[]] => [tab.name, acceptedOf(tab.player)]);
    await waitUntil(
      () => JSON.stringify(everyTabHasItsOwn()) === JSON.stringify(expectedFirst),
      () => `every tab to have exactly its player's first message; missing ${missing().length}`,
      120_000,
    );

    // an open in one tab reaches the player's other tabs, on whichever instance the proxy put them: update, badge 0
    const opened = new Set<string>();
    const openTheRestInFirstTab = async (): Promise<Set<string>> => {
      const now = new Set<string>();
      for (const player of severalTabs) {
        for (const id of acceptedOf(player).filter((id) => !opened.has(id))) {
          await tabsOf.get(player)![0].inbox.opened(id);
          opened.add(id);
          now.add(id);
        }
      }
      return now;
    };
    const unsynced = (openedNow: Set<string>): string[] =>
      severalTabs.flatMap((player) =>
        tabsOf
          .get(player)!
          .filter((tab, index) => tab.unread !== 0 || (index > 0 && acceptedOf(player).some((id) => openedNow.has(id) && !tab.opened.has(id))))
          .map((tab) => `${tab.name}: unread ${tab.unread}, opened ${tab.opened.size} of ${acceptedOf(player).length}`),
      );
    const openedFirst = await openTheRestInFirstTab();
    await waitUntil(
      () => unsynced(openedFirst).length === 0,
      () => `the other tabs updated, badge 0: ${unsynced(openedFirst).slice(0, 5).join('; ')}`,
      60_000,
    );

    // 2. posting continues while one instance is killed; a post that finds it dead (refused, reset) is
    // sent again with the same im_uid to the next instance in turn, as Smartico retries through its balancer
    let turn = 0;
    const nextInstance = (): string => urls[turn++ % INSTANCES];
    const acceptedBefore = ledger.accepted.length;
    const duringKill = steadyPoster({ url: nextInstance, ledger, outcomes, players, total: POSTS_DURING_KILL, perSecond: PER_SECOND, callbackUrl });
    const victim = Math.floor(Math.random() * INSTANCES);
    const killAfter = Math.round(POSTS_DURING_KILL * (0.2 + Math.random() * 0.5));
    await waitUntil(() => ledger.accepted.length - acceptedBefore >= killAfter, 'posts before the kill', 120_000, 5);
    const acceptedAtKill = ledger.accepted.length - acceptedBefore;
    const heldByVictim = balancer.open[victim];
    const answeredAtKill = new Set(ledger.accepted.map((reply) => reply.imUid));
    const killed = killSender(apps[victim], [smartico.port]);
    expect(await apps[victim].exited).toEqual({ code: null, signal: 'SIGKILL' });
    await ledger.noteCrash(db, killed);

    // the victim's tabs, and only they, drop; each reconnects through the proxy, which skips the dead backend
    const dropped = (): Tab[] => tabs.filter((tab) => tab.drops.some((at) => at >= killed.at));
    await waitUntil(
      () => balancer.open[victim] === 0 && dropped().length === heldByVictim && tabs.every((tab) => tab.inbox.status === 'connected'),
      () =>
        `the victim's ${heldByVictim} tabs to reconnect: ${dropped().length} dropped, ${tabs.filter((tab) => tab.inbox.status !== 'connected').length} not connected`,
      120_000,
    );
    const reconnectMs = Math.max(...dropped().map((tab) => tab.connects.find((at) => at > killed.at)! - killed.at));
    await duringKill.done;

    // 3. the victim comes back on another port; the balancer's slot points at it, and posting goes on to all three
    const restarted = await startApp(env);
    apps.push(restarted.app);
    urls[victim] = restarted.url;
    balancer.setBackend(victim, restarted.port);
    const afterRestart = steadyPoster({ url: nextInstance, ledger, outcomes, players, total: POSTS_AFTER_RESTART, perSecond: PER_SECOND, callbackUrl });
    await afterRestart.done;
    const acceptedByRestarted = sample(await (await fetch(`${restarted.url}/metrics`)).text(), 'cim_messages_accepted_total', { brand: GATEWAY_A.brand });

    // every post was eventually accepted, once per im_uid; every accepted message reached its player
    expect(new Set(ledger.accepted.map((reply) => reply.imUid)).size).toBe(PLAYERS + POSTS_DURING_KILL + POSTS_AFTER_RESTART);
    await explaining(
      waitUntil(
        () => missing().length === 0,
        () => `pushes: ${missing().length} of ${ledger.accepted.length} missing, e.g. ${missing()[0]}`,
        120_000,
      ),
      async () => {
        const ids = ledger.accepted.filter((reply) => !tabsOf.get(reply.player)!.some((tab) => tab.messages.includes(reply.extMessageId)));
        const rows = await db.query<{ id: string; created_at: Date; delivered_at: Date | null }>(
          `SELECT id, created_at, delivered_at FROM messages WHERE id = ANY($1::uuid[])`,
          [ids.map((reply) => reply.extMessageId)],
        );
        return rows.rows
          .map((row) => {
            const player = ids.find((reply) => reply.extMessageId === row.id)!.player;
            const dropped = tabsOf
              .get(player)!
              .map((tab) => `${tab.name} ${tab.inbox.status}, dropped at the kill: ${tab.drops.some((at) => at >= killed.at)}`);
            return `${row.id}: stored ${row.created_at.getTime() - killed.at} ms after the kill, delivered_at ${String(row.delivered_at)}; ${dropped.join(', ')}`;
          })
          .join('\n');
      },
    );

    // a tab opened after the restart (the proxy may put it on the restarted instance) follows the others
    for (const player of severalTabs) await openTab(player);
    await waitUntil(() => tabs.every((tab) => tab.inbox.status === 'connected'), 'the late tabs connected', 120_000);
    const openedLast = await openTheRestInFirstTab();
    await explaining(
      waitUntil(
        () => unsynced(openedLast).length === 0,
        () => `every other tab updated, badge 0: ${unsynced(openedLast).slice(0, 5).join('; ')}`,
        60_000,
      ),
      () => serverCounts(tabs.filter((tab) => severalTabs.includes(tab.player) && tab.unread !== 0)),
    );
    // and a player with one tab has a badge of exactly what they were sent
    const oneTab = players.filter((player) => !severalTabs.includes(player));
    const badges = (): string[] =>
      oneTab.filter((player) => tabsOf.get(player)![0].unread !== acceptedOf(player).length).map((player) => `${player}: ${tabsOf.get(player)![0].unread}`);
    await explaining(
      waitUntil(
        () => badges().length === 0,
        () => `badges: ${badges().slice(0, 5).join('; ')}`,
        60_000,
      ),
      () => serverCounts(oneTab.map((player) => tabsOf.get(player)![0]).filter((tab) => tab.unread !== acceptedOf(tab.player).length)),
    );

    await waitUntil(
      async () =>
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM callbacks WHERE state <> 'sent'`)).rows[0].n === 0 &&
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE delivered_at IS NULL`)).rows[0].n === 0,
      'every message delivered and every callback sent',
      120_000,
    );
    const report = await ledger.reconcile(db, { deliveredTo: players, drained: true, apiKeys: API_KEYS });
    // stored before the kill, answered only after it: committed by the victim, its reply lost, answered by a retry elsewhere
    const storedBeforeKill = await db.query<{ im_uid: string }>(`SELECT im_uid FROM messages WHERE created_at <= to_timestamp($1::float8 / 1000)`, [killed.at]);
    const replays = storedBeforeKill.rows.filter((row) => !answeredAtKill.has(row.im_uid)).length;
    process.stdout.write(
      `scenario 11: ${INSTANCES} instances, ${PLAYERS} players on ${tabs.length} tabs; killed instance ${victim + 1} after ${acceptedAtKill} of ${POSTS_DURING_KILL} posts, ` +
        `${heldByVictim} tabs dropped, all back in ${reconnectMs} ms; restarted instance accepted ${acceptedByRestarted}; replies 0: ${outcomes.accepted} ` +
        `(${replays} stored before the kill and answered after), refused ${JSON.stringify([...outcomes.refused])}, transport errors retried ${outcomes.errors.length} ${JSON.stringify(countBy(outcomes.errors))}; ` +
        `${JSON.stringify(report.figures)}\n`,
    );
    expect(report.problems).toEqual({});
    // no tab was handed an id twice, and none was handed another player's message
    for (const tab of tabs) expect({ tab: tab.name, shownTwice: tab.messages.length - new Set(tab.messages).size }).toEqual({ tab: tab.name, shownTwice: 0 });
    expect(heldByVictim).toBeGreaterThan(0);
    expect(acceptedByRestarted).toBeGreaterThan(0);
    // every accepted message's delivered status reached Smartico, and every open's
    const statuses = (status: string): Set<string> =>
      new Set(smartico.requests.filter((request) => request.query.status === status).map((request) => request.query.ext_message_id));
    expect(statuses('delivered')).toEqual(new Set(ledger.acceptedIds()));
    expect(statuses('opened')).toEqual(opened);
  });
});

/** A wait that failed says what the database or server holds now, to tell a product fault from a slow machine. */
async function explaining(wait: Promise<void>, explain: () => Promise<string>): Promise<void> {
  try {
    await wait;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await explain()}`, { cause: error });
  }
}

/** A stale badge (the server counts otherwise now) told apart from a wrong count. */
async function serverCounts(wrong: Tab[]): Promise<string> {
  const counts = await Promise.all(wrong.map(async (tab) => `${tab.name}: badge ${tab.unread}, server now ${await tab.inbox.unreadCount()}`));
  return counts.join('\n');
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
