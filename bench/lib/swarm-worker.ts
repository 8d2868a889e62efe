/**
 * A swarm of held sockets in its own process (a process may hold only so many file descriptors):
 *   node --import tsx bench/lib/swarm-worker.ts <cim|b2> <url> <first> <count> <prefix> [report|quiet]
 * Prints "connected <n>" once all are connected, then "dropped <n>" every second; with `report`, also
 * "m <im_uid> <monotonic ms>" for each `message` received (written in batches, once per turn of the
 * event loop). Exits on SIGTERM after closing its sockets.
 */
import { closeAll, connectPlayers, Target } from './sockets';
import { monotonicMs } from './swarm';

async function main(): Promise<void> {
  const [target, url, first, count, prefix, mode] = process.argv.slice(2);
  const players = Array.from({ length: Number(count) }, (_, i) => `${prefix}-${Number(first) + i}`);
  let pending: string[] = [];
  const flush = (): void => {
    process.stdout.write(pending.join(''));
    pending = [];
  };
  const onMessage =
    mode === 'report'
      ? (_player: string, message: { im_uid?: string }): void => {
          if (message.im_uid === undefined) return;
          if (pending.length === 0) setImmediate(flush);
          pending.push(`m ${message.im_uid} ${monotonicMs().toFixed(3)}\n`);
        }
      : undefined;
  const sockets = await connectPlayers({ target: target as Target, url, players, wave: 250, onMessage });
  let dropped = 0;
  for (const { socket } of sockets) socket.on('disconnect', () => (dropped += 1));
  process.stdout.write(`connected ${sockets.length}\n`);
  const report = setInterval(() => process.stdout.write(`dropped ${dropped}\n`), 1_000);
  process.on('SIGTERM', () => {
    clearInterval(report);
    process.stdout.write(`dropped ${dropped}\n`);
    closeAll(sockets);
    setTimeout(() => process.exit(0), 200);
  });
}

main().catch((error) => {
  process.stderr.write(`swarm: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
