import { randomBytes } from 'node:crypto';

import { INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Pool, PoolClient } from 'pg';
import { createClient } from 'redis';
import type { Observable } from 'rxjs';
import { Server, ServerOptions, Socket } from 'socket.io';

import type { AppConfig } from '../config/app.config';
import type { AcceptedChannels } from './accepted-channels';
import { ADAPTER_CLEANUP_DISABLED_MS } from './fan-out-attachments';
import type { FanOutLink } from './fan-out-link';
import { FanOutPool } from './fan-out-pool';
import { adapterHeartbeats, type InboxPublisher } from './inbox.publisher';

type AdapterConstructor = ReturnType<typeof createPostgresAdapter>;

export interface FanOutParts {
  link: FanOutLink;
  channels: AcceptedChannels;
  publisher: InboxPublisher;
}

/** socket.io on the HTTP port, fanned out through PostgreSQL LISTEN/NOTIFY, or Redis with REDIS_URL (src/inbox/README.md). */
export class InboxIoAdapter extends IoAdapter {
  private readonly logger = new Logger(InboxIoAdapter.name);
  private adapterConstructor?: AdapterConstructor;
  private release: Array<() => Promise<unknown>> = [];
  private readonly servers: Server[] = [];

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  /** Plain listeners instead of Nest's rxjs pipeline per handler per socket, which held most of a socket's heap. */
  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(String(message), (...args: unknown[]) => {
        const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args) as { data: unknown; ack?: (response: unknown) => void };
        transform(callback(data, ack)).subscribe({
          next: (response) => {
            if (response === undefined || response === null) return;
            const reply = response as { event?: string; data?: unknown };
            if (reply.event) socket.emit(reply.event, reply.data);
            else if (!isAckHandledManually && typeof ack === 'function') ack(response);
          },
          error: () => undefined,
        });
      });
    }
  }

  /** `link` hears this instance's own heartbeat through the fan-out (src/inbox/fan-out-link.ts); with Redis, `channels` and `publisher` go per player. */
  async connect({ link, channels, publisher: inboxPublisher }: FanOutParts): Promise<void> {
    // one channel per instance: only this instance hears its heartbeat
    const heartbeat = `cim_link_${randomBytes(6).toString('hex')}`;
    if (this.config.redisUrl !== undefined) {
      // TCP keep-alive, so a dead peer is noticed by the socket too, not only by the heartbeat
      const publisher = createClient({ url: this.config.redisUrl, socket: { keepAlive: 5_000 } });
      const subscriber = publisher.duplicate();
      for (const client of [publisher, subscriber]) client.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'redis error'));
      await Promise.all([publisher.connect(), subscriber.connect()]);
      await subscriber.sSubscribe(heartbeat, () => link.heard());
      link.attach({
        name: 'the Redis subscriber',
        send: () => publisher.sPublish(heartbeat, '1'),
        // node-redis re-subscribes by itself once its socket is back
        reset: () => undefined,
      });
      channels.useRedis(publisher, subscriber);
      inboxPublisher.countsServers = false;
      // sharded pub/sub, a channel per room subscribed while the room has sockets here: a player's broadcasts reach
      // only the instances holding that player's sockets
      this.adapterConstructor = createShardedAdapter(publisher, subscriber, {
        channelPrefix: 'cim-inbox',
        subscriptionMode: 'dynamic',
      }) as unknown as AdapterConstructor;
      this.release.push(
        () => publisher.quit(),
        () => subscriber.quit(),
      );
      this.logger.log('socket.io fan-out through Redis');
    } else {
      const pool = new Pool({
        connectionString: this.config.fanOutDatabaseUrl ?? this.config.databaseUrl,
        max: 3,
        application_name: 'cim-inbox-fanout',
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        connectionTimeoutMillis: 5_000,
      });
      const onError = (error: Error): void => this.logger.warn({ err: error.message }, 'fan-out connection error');
      pool.on('error', onError);
      // the LISTEN client is checked out for good: an unhandled 'error' on it would end the process
      pool.on('connect', (client) => client.on('error', onError));
      const fanOut = new FanOutPool(pool);
      let listening: PoolClient | undefined;
      fanOut.onListenClient = async (client) => {
        client.on('notification', (notification) => {
          if (notification.channel === heartbeat) link.heard();
        });
        await client.query(`LISTEN "${heartbeat}"`);
        listening = client;
        link.connected();
      };
      link.attach({
        name: 'the PostgreSQL LISTEN connection',
        // '{}': the adapter reads every notification on its connection, and takes this one for its own and drops it
        send: () => pool.query('SELECT pg_notify($1, $2)', [heartbeat, '{}']),
        reset: () => {
          if (listening !== undefined) fanOut.drop(listening);
          listening = undefined;
        },
      });
      // the adapter calls only connect() and query(text, values) on its pool
      this.adapterConstructor = createPostgresAdapter(fanOut as unknown as Pool, {
        channelPrefix: 'cim_inbox',
        tableName: 'socket_io_attachments',
        // the leader deletes old payloads (FanOutAttachments), not every instance
        cleanupInterval: ADAPTER_CLEANUP_DISABLED_MS,
        errorHandler: onError,
        ...adapterHeartbeats(this.config),
      });
      this.release.push(() => fanOut.end());
      this.logger.log('socket.io fan-out through PostgreSQL');
    }
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...options,
      // bearer tokens in the auth payload, no cookies: any origin may connect
      cors: { origin: true, credentials: false },
      perMessageDeflate: false,
      serveClient: false,
    }) as Server;
    if (this.adapterConstructor !== undefined) server.adapter(this.adapterConstructor);
    this.servers.push(server);
    return server;
  }

  /** Not a server-side disconnect: clients reconnect, elsewhere. */
  closeClients(): void {
    for (const server of this.servers) server.engine.close();
  }

  override async dispose(): Promise<void> {
    this.closeClients();
    for (const server of this.servers.splice(0)) {
      for (const namespace of server._nsps.values()) void namespace.adapter.close();
    }
    await super.dispose();
    const release = this.release.splice(0);
    await Promise.race([Promise.allSettled(release.map((close) => close())), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }
}
