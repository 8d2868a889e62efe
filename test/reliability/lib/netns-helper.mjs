// Runs inside scenario 5's private network and mount namespace (see ssrf-decoy.ts) and does, on the
// test's requests over the IPC channel, what has to happen in there: listen (the listening socket is
// handed to the test, which accepts on it), connect (a control connection), accept on a listener
// the test hands in and pipe each connection to a port in here, and run app processes.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

const apps = new Map();

function reply(request, message, handle) {
  process.send({ ...message, id: request.id }, handle);
}

process.on('message', (request, handle) => {
  switch (request.type) {
    case 'listen': {
      const server = createServer();
      server.once('error', (error) => reply(request, { error: `${error.code ?? error.message} listening on ${request.host}:${request.port}` }));
      server.listen({ host: request.host, port: request.port, ipv6Only: request.host.includes(':') }, () => {
        // the test now owns the listening socket; this process's copy is closed once it is sent
        reply(request, { port: server.address().port }, server);
        server.close();
      });
      break;
    }
    case 'connect': {
      const socket = connect({ host: request.host, port: request.port });
      socket.once('connect', () => {
        reply(request, { connected: true });
        socket.destroy();
      });
      socket.once('error', (error) => reply(request, { connected: false, error: error.code ?? error.message }));
      break;
    }
    case 'forward': {
      handle.on('connection', (outside) => {
        const inside = connect({ host: '127.0.0.1', port: request.port });
        outside.pipe(inside).pipe(outside);
        inside.on('error', () => outside.destroy());
        outside.on('error', () => inside.destroy());
      });
      reply(request, {});
      break;
    }
    case 'spawn': {
      const child = spawn(process.execPath, request.args, { env: request.env, stdio: ['ignore', 'pipe', 'pipe'] });
      apps.set(request.app, child);
      child.stdout.on('data', (chunk) => process.send({ type: 'output', app: request.app, stream: 'stdout', text: chunk.toString() }));
      child.stderr.on('data', (chunk) => process.send({ type: 'output', app: request.app, stream: 'stderr', text: chunk.toString() }));
      child.once('exit', (code, signal) => {
        apps.delete(request.app);
        process.send({ type: 'exit', app: request.app, code, signal });
      });
      reply(request, { pid: child.pid });
      break;
    }
    case 'kill': {
      apps.get(request.app)?.kill(request.signal);
      reply(request, {});
      break;
    }
    default:
      reply(request, { error: `unknown request ${request.type}` });
  }
});

// the test going away takes the namespace with it
process.on('disconnect', () => {
  for (const child of apps.values()) child.kill('SIGKILL');
  process.exit(0);
});
process.send({ type: 'ready' });
