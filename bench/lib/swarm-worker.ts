/**
 * A swarm of held sockets in its own process (a process may hold only so many file descriptors):
 *   node --import tsx bench/lib/swarm-worker.ts <cim|b2> <url> <first> <count> <prefix>
 * Prints "connected <n>" once all are connected, then "dropped <n>" every second; exits on SIGTERM
 * after closing its sockets.
 */
import { closeAll, connectPlayers, Target } from './sockets';

async function main(): Promise<void> {
  const [target, url, first, count, prefix] = process.argv.slice(2);
  const players = Array.from({ length: Number(count) }, (_, i) => `${prefix}-${Number(first) + i}`);
  const sockets = await connectPlayers({ target: target as Target, url, players, wave: 250 });
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
