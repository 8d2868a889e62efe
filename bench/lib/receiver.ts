import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/** A fast local Smartico: answers every callback `{"error_code":0}` and counts them. */
export async function startReceiver(): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let received = 0;
  const server = createServer((_req, res) => {
    received += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"error_code":0}');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    count: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
