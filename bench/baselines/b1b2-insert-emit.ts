/**
 * Baseline B1 → B2: B1 and B2 chained in one process, as cim-inbox is one process — bare Fastify
 * and a `pg` pool (same size as the app's), one INSERT per POST, reply after the commit (B1), then
 * a bare socket.io emit to the player's room on the next turn of the event loop (B2: default `ws`
 * engine, no adapter, no acks, no auth beyond a handshake field). No validation, no ack record, no
 * callback: what cim-inbox's campaign blast is measured against.
 *   PORT=… DATABASE_URL=… POOL_SIZE=20 node --import tsx bench/baselines/b1b2-insert-emit.ts
 */
import Fastify from 'fastify';
import { Server } from 'socket.io';

import { b1Store, CustomIm } from './b1-store';

async function main(): Promise<void> {
  const store = await b1Store();
  const app = Fastify({ logger: false });
  const io = new Server(app.server, { serveClient: false, perMessageDeflate: false });
  const inbox = io.of('/inbox');
  inbox.on('connection', (socket) => {
    void socket.join(`user:${String(socket.handshake.auth.user)}`);
    socket.emit('unread', { count: 0 });
  });
  app.post('/ingest', async (request) => {
    const message = request.body as CustomIm;
    const id = await store.insert(message);
    // as cim-inbox does: the reply goes first, the push on the next turn of the event loop
    setImmediate(() => inbox.to(`user:${message.ext_user_id}`).emit('message', { id, ...message }));
    return { error_code: 0, ext_message_id: id };
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write('b1b2 ready\n');
  process.on('SIGTERM', () => {
    // closes every socket and the HTTP server with them
    void io.close();
    void store.end().finally(() => process.exit(0));
  });
}

void main();
