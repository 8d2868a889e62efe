import { Logger, OnModuleDestroy } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Subscription } from 'rxjs';

import { isUuid } from '../common/uuid';
import { CATCH_UP_PAGE, MessageRepository } from '../messages/message.repository';
import { MessageEvents } from '../messages/message-events';
import type { PlayerRef } from '../messages/player-ref';
import { Metrics } from '../metrics/metrics.service';
import { AcceptedChannels } from './accepted-channels';
import { FanOutLink } from './fan-out-link';
import { AcceptedItem, ActionReply, INBOX_NAMESPACE, playerRoom } from './inbox.events';
import { InboxNamespace, InboxPublisher } from './inbox.publisher';
import { InboxService } from './inbox.service';
import { LivePushService } from './live-push.service';
import { PlayerAuthService } from './player-auth.service';
import { InboxSocket, PlayerSession, PlayerSessions } from './player-sessions';
import { PresenceRepository } from './presence.repository';
import { UnreadBadges } from './unread-badges';

const RECOVERY_CONCURRENCY = 4;
// tries of a player's catch-up after the link came back (0.5, 1, 2, 4, 5 s apart: a database still starting, or a pool
// full of connections the restart broke, gets about 12 s) before the client is asked to reconnect
const RECOVERY_ATTEMPTS = 6;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The player's live connection (SPEC §3): authenticated, joined to its room, caught up, then fed by LivePushService. */
@WebSocketGateway({ namespace: INBOX_NAMESPACE })
export class InboxGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly logger = new Logger(InboxGateway.name);
  private readonly sessionOf = new WeakMap<InboxSocket, { session: PlayerSession; expiry: NodeJS.Timeout }>();
  // a flood of events from one socket is refused (the socket is kept)
  private readonly limiter = new RateLimiterMemory({ points: 20, duration: 1 });
  private subscription?: Subscription;
  private catchingUpEveryone?: Promise<void>;
  private catchUpAgain = false;

  constructor(
    private readonly auth: PlayerAuthService,
    private readonly inbox: InboxService,
    private readonly messages: MessageRepository,
    private readonly presence: PresenceRepository,
    private readonly publisher: InboxPublisher,
    private readonly events: MessageEvents,
    private readonly metrics: Metrics,
    private readonly sessions: PlayerSessions,
    private readonly livePush: LivePushService,
    private readonly channels: AcceptedChannels,
    private readonly badges: UnreadBadges,
    link: FanOutLink,
  ) {
    link.onRecovered(() => {
      this.publisher.rediscoverPeers();
      void this.catchUpEveryone();
    });
  }

  afterInit(namespace: InboxNamespace): void {
    this.publisher.attach(namespace);
    namespace.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      this.auth.verify(token).then(
        (player) => {
          socket.data.player = player;
          next();
        },
        () => next(new Error('unauthorized')),
      );
    });
    namespace.on('accepted', (items: AcceptedItem[]) => void this.livePush.remoteAccepted(items));
    this.catchUpWhenAPeerLeaves(namespace);
    this.subscription = this.events.accepted.subscribe((row) => this.livePush.localAccepted(row));
    this.subscription.add(
      this.events.changed.subscribe(({ row, events }) => {
        this.inbox.syncSockets(row, events).catch((error: Error) => this.logger.warn({ messageId: row.id, err: error.message }, 'socket sync failed'));
      }),
    );
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  async handleConnection(socket: InboxSocket): Promise<void> {
    const player = socket.data.player;
    const session = new PlayerSession(socket, (messageId, pushToAckSeconds) => {
      this.metrics.pushAckLatency.observe(pushToAckSeconds);
      void this.onAck(socket, player, messageId);
    });
    this.metrics.socketsConnected.inc();
    // registered before the catch-up query: a message committed meanwhile is caught up or pushed live
    this.sessions.add(session);
    const expiry = setTimeout(() => socket.disconnect(true), Math.min(Math.max(player.expiresAt - Date.now(), 0), MAX_TIMER_MS));
    this.sessionOf.set(socket, { session, expiry });
    await socket.join(playerRoom(player));
    this.touchPresence(player);
    try {
      // heard before the catch-up reads: what is accepted elsewhere from then on reaches this socket live
      await this.channels.watch(session.key);
      await this.catchUp(session);
      socket.emit('unread', await this.badges.of(player));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'catch-up failed; asking the client to reconnect');
      socket.disconnect(true);
    }
  }

  handleDisconnect(socket: InboxSocket): void {
    const entry = this.sessionOf.get(socket);
    if (entry === undefined) return;
    this.metrics.socketsConnected.dec();
    this.touchPresence(entry.session.player);
    clearTimeout(entry.expiry);
    this.sessions.remove(entry.session);
    if (!this.sessions.has(entry.session.key)) this.channels.unwatch(entry.session.key);
    this.sessionOf.delete(socket);
  }

  @SubscribeMessage('opened')
  opened(@ConnectedSocket() socket: InboxSocket, @MessageBody() payload: unknown): Promise<ActionReply> {
    return this.act(socket, payload, 'open');
  }

  @SubscribeMessage('clicked')
  clicked(@ConnectedSocket() socket: InboxSocket, @MessageBody() payload: unknown): Promise<ActionReply> {
    return this.act(socket, payload, 'click');
  }

  @SubscribeMessage('archive')
  archive(@ConnectedSocket() socket: InboxSocket, @MessageBody() payload: unknown): Promise<ActionReply> {
    return this.act(socket, payload, 'archive');
  }

  @SubscribeMessage('star')
  star(@ConnectedSocket() socket: InboxSocket, @MessageBody() payload: unknown): Promise<ActionReply> {
    return this.act(socket, payload, 'star');
  }

  @SubscribeMessage('unstar')
  unstar(@ConnectedSocket() socket: InboxSocket, @MessageBody() payload: unknown): Promise<ActionReply> {
    return this.act(socket, payload, 'unstar');
  }

  private async act(socket: InboxSocket, payload: unknown, action: 'open' | 'click' | 'archive' | 'star' | 'unstar'): Promise<ActionReply> {
    try {
      await this.limiter.consume(socket.id);
    } catch {
      return { ok: false, error: 'rate limited' };
    }
    const id = typeof payload === 'object' && payload !== null ? (payload as { id?: unknown }).id : undefined;
    if (!isUuid(id)) return { ok: false, error: 'id must be a message id (uuid)' };
    try {
      const player = socket.data.player;
      const buttonId = action === 'click' ? buttonIdOf(payload) : null;
      const view =
        action === 'star' || action === 'unstar'
          ? await this.inbox.star(player, id.toLowerCase(), action === 'star')
          : await this.inbox.act(player, id.toLowerCase(), action, buttonId);
      // the ack does not wait for an operator's action: its result comes as `update`
      if (view !== null && buttonId !== null) {
        this.inbox
          .pressActionButton(player, id.toLowerCase(), buttonId)
          .catch((error: Error) => this.logger.warn({ messageId: id, err: error.message }, 'action press failed'));
      }
      return view === null ? { ok: false, error: 'message not found' } : { ok: true };
    } catch (error) {
      this.logger.error({ messageId: id, err: (error as Error).message }, `${action} failed`);
      return { ok: false, error: 'temporarily unavailable' };
    }
  }

  private touchPresence(player: PlayerRef): void {
    this.presence.touchPresence(player).catch((error: Error) => this.logger.debug({ err: error.message }, 'presence not recorded'));
  }

  /**
   * An instance that dies (or stops) between a commit and its announcement leaves players connected here without that
   * push: the PostgreSQL adapter notices a peer gone (no heartbeat for 10 s, or its goodbye), and everyone here is
   * caught up. The Redis adapter tracks no peers (src/inbox/README.md).
   */
  private catchUpWhenAPeerLeaves(namespace: InboxNamespace): void {
    const adapter = namespace.adapter as unknown as { removeNode?: (uid: string) => void };
    const removeNode = adapter.removeNode;
    if (typeof removeNode !== 'function') return;
    adapter.removeNode = (uid: string) => {
      removeNode.call(adapter, uid);
      this.logger.log('another instance left; catching connected players up');
      void this.catchUpEveryone();
    };
  }

  /** After the fan-out link was down, or another instance left: what was announced meanwhile reached nobody here. */
  private async catchUpEveryone(): Promise<void> {
    // one run at a time; a request during a run makes one more run after it
    if (this.catchingUpEveryone !== undefined) {
      this.catchUpAgain = true;
      return this.catchingUpEveryone;
    }
    this.catchingUpEveryone = this.catchUpEveryoneOnce().finally(() => {
      this.catchingUpEveryone = undefined;
      if (this.catchUpAgain) {
        this.catchUpAgain = false;
        void this.catchUpEveryone();
      }
    });
    return this.catchingUpEveryone;
  }

  private async catchUpEveryoneOnce(): Promise<void> {
    const queue = this.sessions.all();
    const worker = async (): Promise<void> => {
      for (let session = queue.pop(); session !== undefined; session = queue.pop()) {
        if (session.socket.disconnected) continue;
        session.beginCatchUp();
        // the link often comes back with the database (a restart): a first query may still meet a broken connection
        for (let failures = 0; !session.socket.disconnected; failures += 1) {
          try {
            await this.catchUp(session);
            session.socket.emit('unread', await this.badges.of(session.player));
            break;
          } catch (error) {
            if (failures + 1 < RECOVERY_ATTEMPTS) {
              await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** failures, 5_000)));
              continue;
            }
            this.logger.warn({ err: (error as Error).message }, 'catch-up after the fan-out link failed; asking the client to reconnect');
            session.socket.disconnect(true);
            break;
          }
        }
      }
    };
    // a few at a time: every connected player at once would crowd out the gateway's queries
    await Promise.all(Array.from({ length: RECOVERY_CONCURRENCY }, worker));
  }

  private async catchUp(session: PlayerSession): Promise<void> {
    let page = await this.messages.firstUndelivered(session.player);
    for (;;) {
      for (const row of page.rows) session.emit(this.inbox.toView(row));
      if (page.rows.length < CATCH_UP_PAGE) break;
      page = await this.messages.findUndelivered(session.player, page.last, CATCH_UP_PAGE);
    }
    session.finishCatchUp();
  }

  /** Retried while the socket is connected: nothing else would re-send the message before the next connect. */
  private async onAck(socket: InboxSocket, player: PlayerRef, messageId: string): Promise<void> {
    for (let failures = 1; ; failures += 1) {
      try {
        await this.inbox.markDelivered(player, messageId);
        return;
      } catch (error) {
        if (failures === 1) this.logger.warn({ messageId, err: (error as Error).message }, 'delivery ack not recorded; retrying while the socket is connected');
      }
      if (socket.disconnected) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 5_000)));
      if (socket.disconnected) return;
    }
  }
}

/** `clicked` may name the button it came from (SPEC v2 §3); anything malformed is ignored. */
function buttonIdOf(payload: unknown): string | null {
  const buttonId = (payload as { button_id?: unknown }).button_id;
  return typeof buttonId === 'string' && buttonId.length > 0 && buttonId.length <= 64 ? buttonId : null;
}
