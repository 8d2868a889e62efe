/**
 * Connections: a swarm of sockets (in child processes, a few thousand file descriptors each) is
 * held for a while; none may drop. Heap per connection is measured on the server after a forced
 * GC (through its inspector), for cim-inbox and for B2 with the same number of sockets.
 */
import { readFileSync } from 'node:fs';

import { Memory, Running, startBaseline, startCim } from '../lib/servers';
import { Swarm } from '../lib/swarm';
import { BenchContext } from './context';

export interface ConnectionsRun {
  sockets: number;
  heldSeconds: number;
  dropped: number;
  before: Memory;
  after: Memory;
  heapPerConnection: number;
  rssPerConnection: number;
}

export interface ConnectionsResult {
  cim: ConnectionsRun;
  b2: ConnectionsRun;
  heapRatio: number;
  /** why fewer than the 20,000 sockets asked for, when so */
  limitedBy?: string;
}

/** A process may hold only so many descriptors (`ulimit -n`): leave room for pools and files. */
function socketBudget(wanted: number): { sockets: number; limitedBy?: string } {
  const limit = Number(process.env.CIM_BENCH_FD_LIMIT ?? readSoftFdLimit());
  const room = limit - 400;
  if (room >= wanted) return { sockets: wanted };
  return { sockets: room, limitedBy: `the open-file limit of ${limit} per process (ulimit -n) on this machine` };
}

function readSoftFdLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
  return line ? Number(line.split(/\s+/)[3]) : 1024;
}

async function hold(context: BenchContext, server: Running, target: 'cim' | 'b2', sockets: number, seconds: number): Promise<ConnectionsRun> {
  const before = await server.inspector!.memoryAfterGc();
  const swarm = new Swarm();
  try {
    const started = performance.now();
    await swarm.start(target, server.url, sockets, `held-${target}`);
    context.log(`  ${target}: ${sockets} sockets connected in ${((performance.now() - started) / 1000).toFixed(1)} s; holding ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const after = await server.inspector!.memoryAfterGc();
    return {
      sockets,
      heldSeconds: seconds,
      dropped: swarm.droppedCount(),
      before,
      after,
      heapPerConnection: (after.heapUsed - before.heapUsed) / sockets,
      rssPerConnection: (after.rss - before.rss) / sockets,
    };
  } finally {
    await swarm.stop();
  }
}

export async function connectionsScenario(context: BenchContext): Promise<ConnectionsResult> {
  const budget = socketBudget(context.quick ? 2_000 : 20_000);
  const holdSeconds = context.quick ? 3 : 300;
  const b2 = await startBaseline('b2-push.ts', {}, { inspect: true });
  let b2Run: ConnectionsRun;
  try {
    b2Run = await hold(context, b2, 'b2', budget.sockets, context.quick ? 3 : 20);
  } finally {
    await b2.stop();
  }
  const cim = await startCim(await context.server.createDatabase('connections'), { inspect: true });
  let cimRun: ConnectionsRun;
  try {
    cimRun = await hold(context, cim, 'cim', budget.sockets, holdSeconds);
  } finally {
    await cim.stop();
  }
  return { cim: cimRun, b2: b2Run, heapRatio: cimRun.heapPerConnection / b2Run.heapPerConnection, limitedBy: budget.limitedBy };
}
