import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';

import { createInbox, Inbox, MessageView } from '../../client/src/cim-inbox';
import { InboxPublisher } from '../../src/inbox/inbox.publisher';
import { createTestApp, TestApp } from '../utils/create-test-app';
import { eventually, expectQuietFor } from '../utils/eventually';
import { freePort } from '../utils/free-port';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { sample } from '../utils/prometheus';
import { RoundRobinProxy } from '../utils/round-robin-proxy';
import { SocketPlayer } from '../utils/socket-player';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

const PLAYERS = 40;

/** One browser tab: the SDK with its default options, and what it was handed. */
class Tab {
  readonly messages: MessageView[] = [];
  readonly updates: MessageView[] = [];
  unread: number | null = null;

  constructor(readonly inbox: Inbox) {
    inbox.onMessage((message) => this.messages.push(message));
    inbox.onUpdate((message) => this.updates.push(message));
    inbox.onUnread((count) => (this.unread = count));
  }
}

function describeSeveralInstances(transport: string, redisUrl: string | undefined): void {
  describe(`three instances behind a round-robin TCP proxy with no affinity, fan-out through ${transport}`, () => {
    let database: TestDatabase;
    let apps: TestApp[];
    let proxy: RoundRobinProxy;
    let callbackUrl: string;
    const tabs: Tab[] = [];

    beforeAll(async () => {
      database = await createTestDatabase();
      apps = [];
      for (let i = 0; i < 3; i += 1) apps.push(await createTestApp(redisUrl === undefined ? {} : { redisUrl }, { database }));
      proxy = new RoundRobinProxy(apps.map((app) => Number(new URL(app.url).port)));
      await proxy.start();
      callbackUrl = `http://127.0.0.1:${await freePort()}/cb`;
    });

    afterAll(async () => {
      for (const tab of tabs.splice(0)) tab.inbox.close();
      await proxy.close();
      for (const app of apps) await app.close();
      await database.drop();
    });

    it("connects the SDK's default client through the proxy; each message, posted to any instance, reaches every tab of its player once; update and unread follow across instances", async () => {
      const players = Array.from({ length: PLAYERS }, () => `player-${randomUUID()}`);
      const tabsOf = new Map<string, [Tab, Tab]>();
      for (const player of players) {
        const token = await playerToken(player);
        const pair = [0, 1].map(() => new Tab(createInbox({ url: proxy.url, token }))) as [Tab, Tab];
        tabs.push(...pair);
        tabsOf.set(player, pair);
      }
      await eventually(() => tabs.every((tab) => tab.inbox.status === 'connected'), { what: 'every tab connected through the proxy' });
      // the proxy spread the connections over all three instances
      expect(proxy.counts.every((count) => count > 0)).toBe(true);

      const sent = new Map<string, string>();
      for (const [index, player] of players.entries()) {
        const reply = await postGateway(apps[index % 3].url, customIm({ ext_user_id: player, callback_url: callbackUrl }));
        expect(reply.json.error_code).toBe(0);
        sent.set(player, String(reply.json.ext_message_id));
      }
      const received = (): Array<[string, string[]]> =>
        players.flatMap((player) => tabsOf.get(player)!.map((tab): [string, string[]] => [player, tab.messages.map((message) => message.id)]));
      const expected = players.flatMap((player) => [0, 1].map((): [string, string[]] => [player, [sent.get(player)!]]));
      await eventually(() => expect(received()).toEqual(expected), { what: 'each tab to have exactly its player’s message', timeoutMs: 15_000 });

      // an open in one tab reaches the other tab, wherever the proxy put it
      for (const player of players) await tabsOf.get(player)![0].inbox.opened(sent.get(player)!);
      const synced = (): void => {
        for (const player of players) {
          const other = tabsOf.get(player)![1];
          expect({ player, opened: other.updates.some((view) => view.id === sent.get(player) && view.opened_at !== null), unread: other.unread }).toEqual({
            player,
            opened: true,
            unread: 0,
          });
        }
      };
      await eventually(synced, { what: 'the other tab of every player updated, badge 0', timeoutMs: 15_000 });
      // and still nothing shown twice
      expect(received()).toEqual(expected);
    });

    it(`announces a message ${redisUrl === undefined ? 'to every other instance' : 'only to the instances holding its player’s sockets'}, with the row, so none reads it back`, async () => {
      const player = `player-${randomUUID()}`;
      const socket = await SocketPlayer.connect(apps[0].url, await playerToken(player));
      try {
        const before = await Promise.all(apps.map((app) => scrape(app)));
        for (let i = 0; i < 10; i += 1) {
          const reply = await postGateway(apps[1].url, customIm({ ext_user_id: player, callback_url: callbackUrl }));
          expect(reply.json.error_code).toBe(0);
        }
        await socket.waitForMessages(10);
        const heard = async (): Promise<number[][]> => {
          const after = await Promise.all(apps.map((app) => scrape(app)));
          return apps.map((_app, i) =>
            [{ for_players_here: 'true' }, { for_players_here: 'false' }].map(
              (labels) => sample(after[i], 'cim_fanout_received_total', labels) - sample(before[i], 'cim_fanout_received_total', labels),
            ),
          );
        };
        // [for players here, for nobody here] per instance: the player is on instance 0, the posts on instance 1
        const expected =
          redisUrl === undefined
            ? [
                [10, 0],
                [0, 0],
                [0, 10],
              ]
            : [
                [10, 0],
                [0, 0],
                [0, 0],
              ];
        await eventually(async () => expect(await heard()).toEqual(expected), { what: 'the fan-out counters' });
        await expectQuietFor(300, 'announcements heard', heard);

        // posted where the player is: pushed there directly; no instance hears it back (Redis: not even its own publish)
        for (let i = 0; i < 5; i += 1) {
          expect((await postGateway(apps[0].url, customIm({ ext_user_id: player, callback_url: callbackUrl }))).json.error_code).toBe(0);
        }
        await socket.waitForMessages(15);
        const local =
          redisUrl === undefined
            ? [
                [10, 0],
                [0, 5],
                [0, 15],
              ]
            : expected;
        await eventually(async () => expect(await heard()).toEqual(local), { what: 'the fan-out counters after posts to the player’s instance' });
        await expectQuietFor(300, 'announcements heard', heard);
        expect(new Set(socket.messages.map((message) => message.id)).size).toBe(15);
      } finally {
        socket.close();
      }
    });
  });
}

async function scrape(app: TestApp): Promise<string> {
  return (await fetch(`${app.url}/metrics`)).text();
}

describe('one instance alone', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
    // right after its link is up an instance broadcasts to all for a few heartbeats: peers may not have said hello yet
    const publisher = app.app.get(InboxPublisher);
    await eventually(() => !publisher.discovering, { what: 'the peer discovery to end' });
  });

  afterAll(async () => {
    await app.close();
  });

  it('announces nothing to other instances and pushes in its own memory', async () => {
    const player = `player-${randomUUID()}`;
    const socket = await SocketPlayer.connect(app.url, await playerToken(player));
    try {
      const before = await scrape(app);
      for (let i = 0; i < 5; i += 1) expect((await postGateway(app.url, customIm({ ext_user_id: player }))).json.error_code).toBe(0);
      await socket.waitForMessages(5);
      await socket.waitForUnread(5);
      expect(sample(await scrape(app), 'cim_fanout_announced_total') - sample(before, 'cim_fanout_announced_total')).toBe(0);
    } finally {
      socket.close();
    }
  });
});

describeSeveralInstances('PostgreSQL', undefined);

// .ci/run sets CIM_TEST_REDIS_URL when a Redis answers on 127.0.0.1:6379 (it does on the CI machine)
const redisUrl = process.env.CIM_TEST_REDIS_URL;
if (redisUrl !== undefined && redisUrl !== '') describeSeveralInstances('Redis', redisUrl);
