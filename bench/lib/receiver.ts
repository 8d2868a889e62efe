/**
 * A fast local Smartico: answers every callback `{"error_code":0}` and counts them, in a process of
 * its own (as Smartico is), so the load generator's event loop that times pushes does not also
 * serve the app's callbacks. Run as a child of the bench; its count comes back over IPC.
 */
import { ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Receiver {
  url: string;
  /** callbacks answered so far (as last reported: at most ~2 ms old) */
  count(): number;
  /** of them, those with status=delivered */
  delivered(): number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = fork(__filename, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, CIM_BENCH_RECEIVER: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let received = 0;
  let delivered = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: { url?: string; received?: number; delivered?: number }) => {
      if (message.url !== undefined) resolve(message.url);
      if (message.received !== undefined) received = message.received;
      if (message.delivered !== undefined) delivered = message.delivered;
    });
    child.once('exit', (code) => reject(new Error(`callback receiver exited with ${code}`)));
  });
  return {
    url,
    count: () => received,
    delivered: () => delivered,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function serve(): void {
  let received = 0;
  let delivered = 0;
  let reported = 0;
  const server = createServer((req, res) => {
    received += 1;
    if (req.url?.includes('status=delivered') === true) delivered += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"error_code":0}');
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send!({ url: `http://127.0.0.1:${port}/callback` });
  });
  setInterval(() => {
    if (received === reported) return;
    reported = received;
    process.send!({ received, delivered });
  }, 2);
  process.on('SIGTERM', () => process.exit(0));
  // the bench ended (or crashed): so does its receiver
  process.on('disconnect', () => process.exit(0));
}

if (process.env.CIM_BENCH_RECEIVER === '1') serve();
