import type { MessageRepository } from '../messages/message.repository';
import type { MessageRow, MessageView } from '../messages/message.view';
import { playerKey, PlayerRef } from '../messages/player-ref';
import { Metrics } from '../metrics/metrics.service';
import type { AcceptedChannels } from './accepted-channels';
import type { InboxService } from './inbox.service';
import { ANNOUNCE_LINGER_MS, LivePushService } from './live-push.service';
import { InboxSocket, PlayerSession, PlayerSessions } from './player-sessions';
import { UNREAD_LINGER_MS, UnreadBadges } from './unread-badges';

const BRAND = 'b';

function row(id: string, player: string, overrides: Partial<MessageRow> = {}): MessageRow {
  return { id, brand: BRAND, ext_user_id: player, display: 'inbox', expires_at: null, created_at: new Date(), ...overrides } as MessageRow;
}

function setup() {
  const log: string[] = [];
  const sessions = new PlayerSessions();
  const connect = (player: string): void => {
    const socket = {
      data: { player: { brand: BRAND, id: player } },
      disconnected: false,
      emit: (event: string, payload: { id?: string; count?: number }) =>
        log.push(event === 'message' ? `push ${payload.id}` : `unread ${player} ${payload.count}`),
    } as unknown as InboxSocket;
    const session = new PlayerSession(socket, () => undefined);
    session.finishCatchUp();
    sessions.add(session);
  };
  const unread = new Map<string, number>();
  const fake = {
    announced: [] as string[][],
    reads: [] as string[][],
    countQueries: 0,
    mostCountQueries: 0,
    countDelayMs: (): number => 0,
  };
  const messages = {
    countUnreadMany: async (players: PlayerRef[]) => {
      fake.mostCountQueries = Math.max(fake.mostCountQueries, ++fake.countQueries);
      const counts = new Map(players.map((player) => [playerKey(player), { count: unread.get(player.id) ?? 0, categories: {} }]));
      await new Promise((resolve) => setTimeout(resolve, fake.countDelayMs()));
      fake.countQueries -= 1;
      return { counts, asOf: 0 };
    },
    findVisibleByIds: (ids: string[]) => {
      fake.reads.push(ids);
      return Promise.resolve(ids.map((id) => row(id, id.split('-')[0])));
    },
  } as unknown as MessageRepository;
  const inbox = { toView: (message: MessageRow) => ({ id: message.id, created_at: message.created_at.toISOString() }) as MessageView } as InboxService;
  const channels = {
    announce: (items: Array<{ id: string }>) => fake.announced.push(items.map((item) => item.id)),
    onAccepted: () => undefined,
  } as unknown as AcceptedChannels;
  const sut = new LivePushService(sessions, messages, inbox, channels, new Metrics(), new UnreadBadges(messages));
  return { connect, fake, log, sut, unread };
}

describe('LivePushService', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it("a push follows its batch's replies: rows accepted in one commit go out together, after the replies", async () => {
    const { connect, log, sut } = setup();
    connect('p1');
    connect('p2');
    const commit = Promise.resolve();
    const replies = [row('m1', 'p1'), row('m2', 'p2')].map((accepted) =>
      commit.then(() => {
        sut.localAccepted(accepted);
        log.push(`reply ${accepted.id}`);
      }),
    );
    await Promise.all(replies);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(log).toEqual(['reply m1', 'reply m2', 'push m1', 'push m2']);
  });

  it('announcements to other instances gather for 3 ms into one emit', async () => {
    const { fake, sut } = setup();
    sut.localAccepted(row('m1', 'p1'));
    await jest.advanceTimersByTimeAsync(1);
    sut.localAccepted(row('m2', 'p2'));
    await jest.advanceTimersByTimeAsync(ANNOUNCE_LINGER_MS - 2);
    expect(fake.announced).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(fake.announced).toEqual([['m1', 'm2']]);
  });

  it('a badge count never goes back (one count query at a time)', async () => {
    const { connect, fake, log, sut, unread } = setup();
    connect('p1');
    const slowFirst = [50, 10];
    fake.countDelayMs = () => slowFirst.shift() ?? 0;
    unread.set('p1', 1);
    await sut.remoteAccepted([{ id: 'p1-a', player: 'b:p1' }]);
    await jest.advanceTimersByTimeAsync(UNREAD_LINGER_MS + 1);
    unread.set('p1', 2);
    await sut.remoteAccepted([{ id: 'p1-b', player: 'b:p1' }]);
    await jest.advanceTimersByTimeAsync(200);
    expect(fake.mostCountQueries).toBe(1);
    expect(log.filter((entry) => entry.startsWith('unread'))).toEqual(['unread p1 1', 'unread p1 2']);
  });

  it('items accepted elsewhere are read only for players connected here', async () => {
    const { connect, fake, log, sut } = setup();
    connect('p1');
    await sut.remoteAccepted([
      { id: 'p1-a', player: 'b:p1' },
      { id: 'p9-a', player: 'b:p9' },
    ]);
    await sut.remoteAccepted([{ id: 'p8-a', player: 'b:p8' }]);
    expect(fake.reads).toEqual([['p1-a']]);
    expect(log).toEqual(['push p1-a']);
  });

  it("a player is (brand, ext_user_id): another brand's player with the same id gets nothing, here or from elsewhere", async () => {
    const { connect, fake, log, sut } = setup();
    connect('p1');
    sut.localAccepted(row('other-local', 'p1', { brand: 'other' }));
    await sut.remoteAccepted([{ id: 'other-remote', player: 'other:p1' }]);
    await jest.advanceTimersByTimeAsync(UNREAD_LINGER_MS + 1);
    expect(fake.reads).toEqual([]);
    expect(log).toEqual([]);
  });

  it('a row that travels with its announcement is pushed without reading it back; one without is read', async () => {
    const { connect, fake, log, sut } = setup();
    connect('p1');
    const carried = JSON.parse(JSON.stringify(row('p1-carried', 'p1'))) as Record<string, unknown>;
    await sut.remoteAccepted([
      { id: 'p1-carried', player: 'b:p1', row: carried },
      { id: 'p1-read', player: 'b:p1' },
    ]);
    expect(fake.reads).toEqual([['p1-read']]);
    expect(log).toEqual(['push p1-carried', 'push p1-read']);
  });

  it('an expired message is not pushed, and a popup does not move the badge', async () => {
    const { connect, log, sut } = setup();
    connect('p1');
    sut.localAccepted(row('gone', 'p1', { expires_at: new Date(Date.now() - 1) }));
    sut.localAccepted(row('pop', 'p1', { display: 'popup' }));
    await new Promise((resolve) => process.nextTick(resolve));
    await jest.advanceTimersByTimeAsync(UNREAD_LINGER_MS + 1);
    expect(log).toEqual(['push pop']);
  });
});
