import { Logger, OnModuleDestroy } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Subscription } from 'rxjs';

import { GroupCommit } from '../common/group-commit';
import { isUuid } from '../common/uuid';
import { MessageRepository } from '../messages/message.repository';
import type { MessageRow } from '../messages/message.view';
import { MessageEvents } from '../messages/message-events';
import { Metrics } from '../metrics/metrics.service';
import { AcceptedItem, ActionReply, INBOX_NAMESPACE, playerRoom } from './inbox.events';
import { InboxNamespace, InboxPublisher } from './inbox.publisher';
import { InboxService } from './inbox.service';
import { PlayerAuthService } from './player-auth.service';
import { InboxSocket, PlayerSession, PlayerSessions } from './player-sessions';
import { PresenceRepository } from './presence.repository';

const CATCH_UP_PAGE = 500;
/**
 * Work after a push that nobody waits on gathers for this long, so at a steady rate it costs a few
 * statements a second rather than one per insert batch: the announcement to other instances (whose
 * players then get their push a few ms later) and the badge counts of the players just pushed to.
 */
const ANNOUNCE_LINGER_MS = 3;
const UNREAD_LINGER_MS = 5;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The player's live connection (SPEC §3): authenticated in the namespace middleware, joined to
 * its player's room, caught up on connect, then fed live messages — from this instance's gateway
 * directly, from other instances through the adapter.
 */
@WebSocketGateway({ namespace: INBOX_NAMESPACE })
export class InboxGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly logger = new Logger(InboxGateway.name);
  private readonly sessions = new PlayerSessions();
  private readonly sessionOf = new WeakMap<InboxSocket, { session: PlayerSession; expiry: NodeJS.Timeout }>();
  // a flood of events from one socket is refused (the socket is kept)
  private readonly limiter = new RateLimiterMemory({ points: 20, duration: 1 });
  private acceptedBatch: MessageRow[] = [];
  private announceBatch: AcceptedItem[] = [];
  private subscription?: Subscription;
  /** one count query at a time, so a player's badge never goes back to an older count */
  private readonly unreadCounts = new GroupCommit<string, number>(
    async (players) => {
      const counts = await this.messages.countUnreadMany([...new Set(players)]);
      return players.map((player) => counts.get(player) ?? 0);
    },
    { maxBatch: 1_000, maxInFlight: 1, lingerMs: UNREAD_LINGER_MS },
  );

  constructor(
    private readonly auth: PlayerAuthService,
    private readonly inbox: InboxService,
    private readonly messages: MessageRepository,
    private readonly presence: PresenceRepository,
    private readonly publisher: InboxPublisher,
    private readonly events: MessageEvents,
    private readonly metrics: Metrics,
  ) {}

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
    namespace.on('accepted', (items: AcceptedItem[]) => void this.onRemoteAccepted(items));
    this.subscription = this.events.accepted.subscribe((row) => this.onLocalAccepted(row));
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
      void this.onAck(socket, player.id, messageId);
    });
    this.metrics.socketsConnected.inc();
    // registered before the catch-up query: a message committed meanwhile is caught up or pushed live
    this.sessions.add(session);
    const expiry = setTimeout(() => socket.disconnect(true), Math.min(Math.max(player.expiresAt - Date.now(), 0), MAX_TIMER_MS));
    this.sessionOf.set(socket, { session, expiry });
    await socket.join(playerRoom(player.id));
    this.touchPresence(player.id);
    try {
      await this.catchUp(session);
      socket.emit('unread', { count: await this.inbox.unreadCount(player.id) });
    } catch (error) {
      this.logger.warn({ player: player.id, err: (error as Error).message }, 'catch-up failed; asking the client to reconnect');
      socket.disconnect(true);
    }
  }

  handleDisconnect(socket: InboxSocket): void {
    const entry = this.sessionOf.get(socket);
    if (entry === undefined) return;
    this.metrics.socketsConnected.dec();
    this.touchPresence(entry.session.playerId);
    clearTimeout(entry.expiry);
    this.sessions.remove(entry.session);
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

  private async act(socket: InboxSocket, payload: unknown, action: 'open' | 'click' | 'archive'): Promise<ActionReply> {
    try {
      await this.limiter.consume(socket.id);
    } catch {
      return { ok: false, error: 'rate limited' };
    }
    const id = typeof payload === 'object' && payload !== null ? (payload as { id?: unknown }).id : undefined;
    if (!isUuid(id)) return { ok: false, error: 'id must be a message id (uuid)' };
    try {
      const view = await this.inbox.act(socket.data.player.id, id.toLowerCase(), action);
      return view === null ? { ok: false, error: 'message not found' } : { ok: true };
    } catch (error) {
      this.logger.error({ messageId: id, err: (error as Error).message }, `${action} failed`);
      return { ok: false, error: 'temporarily unavailable' };
    }
  }

  private touchPresence(playerId: string): void {
    this.presence.touchPresence(playerId).catch((error: Error) => this.logger.debug({ err: error.message }, 'presence not recorded'));
  }

  private async catchUp(session: PlayerSession): Promise<void> {
    let after = null;
    for (;;) {
      const page = await this.messages.findUndelivered(session.playerId, after, CATCH_UP_PAGE);
      for (const row of page.rows) session.emit(this.inbox.toView(row));
      if (page.rows.length < CATCH_UP_PAGE) break;
      after = page.last;
    }
    session.finishCatchUp();
  }

  /**
   * Records a delivery ack, retrying while the database is unreachable: the socket stays connected,
   * so nothing would send the message again before the player's next connect, and Smartico would
   * not hear `delivered` until then. Once the socket is gone, its next connect's catch-up sends the
   * message again (it is still undelivered) and that ack is recorded instead.
   */
  private async onAck(socket: InboxSocket, playerId: string, messageId: string): Promise<void> {
    for (let failures = 1; ; failures += 1) {
      try {
        await this.inbox.markDelivered(playerId, messageId);
        return;
      } catch (error) {
        if (failures === 1) this.logger.warn({ messageId, err: (error as Error).message }, 'delivery ack not recorded; retrying while the socket is connected');
      }
      if (socket.disconnected) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 5_000)));
      if (socket.disconnected) return;
    }
  }

  /**
   * Accepted here: push to our own sockets as soon as the batch's replies are written (its
   * commit's continuations are microtasks; this tick runs after them), and tell the other instances.
   */
  private onLocalAccepted(row: MessageRow): void {
    this.acceptedBatch.push(row);
    this.announce({ id: row.id, player: row.ext_user_id });
    if (this.acceptedBatch.length > 1) return;
    process.nextTick(() => {
      const rows = this.acceptedBatch;
      this.acceptedBatch = [];
      this.pushLive(rows);
    });
  }

  private announce(item: AcceptedItem): void {
    this.announceBatch.push(item);
    if (this.announceBatch.length > 1) return;
    setTimeout(() => {
      const items = this.announceBatch;
      this.announceBatch = [];
      this.publisher.announceAccepted(items);
    }, ANNOUNCE_LINGER_MS);
  }

  /** Accepted by another instance: only messages of players connected here cost a read. */
  private async onRemoteAccepted(items: AcceptedItem[]): Promise<void> {
    const wanted = items.filter((item) => this.sessions.has(item.player)).map((item) => item.id);
    if (wanted.length === 0) return;
    try {
      this.pushLive(await this.messages.findVisibleByIds(wanted));
    } catch (error) {
      // the players get these on their next connect
      this.logger.warn({ count: wanted.length, err: (error as Error).message }, 'live push from another instance failed');
    }
  }

  private pushLive(rows: MessageRow[]): void {
    const now = Date.now();
    const inboxChanged = new Set<string>();
    for (const row of rows) {
      const sessions = this.sessions.of(row.ext_user_id);
      if (sessions === undefined || (row.expires_at !== null && row.expires_at.getTime() <= now)) continue;
      const view = this.inbox.toView(row);
      for (const session of sessions) session.push(view);
      if (row.display !== 'popup') inboxChanged.add(row.ext_user_id);
    }
    for (const playerId of inboxChanged) {
      this.unreadCounts.submit(playerId).then(
        (count) => {
          for (const session of this.sessions.of(playerId) ?? []) session.socket.emit('unread', { count });
        },
        (error: Error) => this.logger.warn({ err: error.message }, 'unread count not sent'),
      );
    }
  }
}
