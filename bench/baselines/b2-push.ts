/**
 * Baseline B2: a bare socket.io server (default `ws` engine, no adapter, no auth beyond a handshake
 * field) whose sockets join a per-user room; POST /emit replies, then emits the body to that room.
 * What cim-inbox's live push is measured against.
 *   PORT=… node --import tsx bench/baselines/b2-push.ts
 */
import { createServer } from 'node:http';

import { Server } from 'socket.io';

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/emit') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const message = JSON.parse(Buffer.concat(chunks).toString()) as { ext_user_id: string };
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"error_code":0}');
    // as cim-inbox does: the reply goes first, the push on the next turn of the event loop
    setImmediate(() => inbox.to(`user:${message.ext_user_id}`).emit('message', message));
  });
});
const io = new Server(server, { serveClient: false, perMessageDeflate: false });
const inbox = io.of('/inbox');
inbox.on('connection', (socket) => {
  void socket.join(`user:${String(socket.handshake.auth.user)}`);
  socket.emit('unread', { count: 0 });
});

server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('b2 ready\n'));
process.on('SIGTERM', () => void io.close(() => process.exit(0)));
