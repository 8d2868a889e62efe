/**
 * Campaign blast: N players hold sockets (a swarm in child processes, each socket acking every
 * `message` as the SDK does); Smartico posts one message to each player as fast as it is accepted,
 * with a fixed number of POSTs in flight (32, then 64). Figures per pass: first POST → last message
 * received and acked by its socket, messages/s, POST → `message` per message (p50/p99), messages
 * lost, and for cim-inbox the `delivered` callbacks counted at the receiver (all of them must arrive
 * within the run). The baseline is B1 → B2 chained in one process (bench/baselines/b1b2-insert-emit.ts:
 * bare insert, reply, bare room emit) doing the same with the same sockets.
 */
import { PAYLOAD_BODY } from '../lib/ingest-load';
import { postAll, postAtRate } from '../lib/open-loop';
import { BENCH_SECRETS, Running, startBaseline, startCim } from '../lib/servers';
import { summarize, Summary } from '../lib/stats';
import { monotonicMs, Swarm } from '../lib/swarm';
import { BenchContext, settle } from './context';

export type BlastTarget = 'cim' | 'b1b2';

/** A server with `players` sockets held by a swarm, and when each message reached its socket. */
export interface Held {
  target: BlastTarget;
  server: Running;
  names: string[];
  receivedAt: Map<string, number>;
  swarm: Swarm;
  /** the path, headers and body of a Custom IM to `player` */
  post: { path: string; headers: Record<string, string> };
  body(player: string, imUid: string): string;
}

/** The ~1 KB Custom IM every scenario here posts (B1 and B2 take the same body). */
export function campaignMessage(callbackUrl: string, player: string, imUid: string): string {
  return JSON.stringify({ ext_user_id: player, body: PAYLOAD_BODY, im_uid: imUid, callback_url: callbackUrl, extension: { title: 'Campaign' } });
}

export async function holdSockets(context: BenchContext, target: BlastTarget, server: Running, players: number, prefix: string): Promise<Held> {
  const receivedAt = new Map<string, number>();
  const swarm = new Swarm();
  const started = performance.now();
  await swarm.start(target === 'cim' ? 'cim' : 'b2', server.url, players, prefix, {
    onMessage: (imUid, at) => {
      if (!receivedAt.has(imUid)) receivedAt.set(imUid, at);
    },
  });
  context.log(`  ${target}: ${players} sockets connected in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return {
    target,
    server,
    names: Array.from({ length: players }, (_, i) => `${prefix}-${i}`),
    receivedAt,
    swarm,
    post: target === 'cim' ? { path: '/gateway/custom-im', headers: { authorization: BENCH_SECRETS.authorization } } : { path: '/ingest', headers: {} },
    body: (player, imUid) => campaignMessage(context.callbackUrl, player, imUid),
  };
}

/** Waits until `done()` or the deadline; resolves with whether it was done. */
export async function until(done: () => boolean, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}

/** Not measured: the JIT, the database pool's connections, the first callbacks. */
export async function warmUp(context: BenchContext, held: Held, label: string): Promise<void> {
  const imUids: string[] = [];
  await postAtRate({
    url: held.server.url,
    ...held.post,
    rate: 200,
    seconds: 2,
    body: (index) => {
      imUids[index] = `${label}-warm-${index}`;
      return held.body(held.names[index % held.names.length], imUids[index]);
    },
  });
  await until(() => imUids.every((imUid) => held.receivedAt.has(imUid)), 10_000, 20);
  await settle(context);
}

export interface BlastRun {
  concurrency: number;
  messages: number;
  /** first POST sent → last message received (and acked) by its socket */
  completionMs: number;
  perSecond: number;
  postToMessage: Summary;
  lost: number;
  failedPosts: number;
  /** cim-inbox: `delivered` callbacks counted at the receiver, and first POST → the last of them */
  delivered?: number;
  deliveredMs?: number;
}

/** One message to each held player, `concurrency` POSTs in flight. */
export async function blastPass(context: BenchContext, held: Held, concurrency: number, label: string): Promise<BlastRun> {
  const { names, receivedAt } = held;
  const imUids = names.map((_, i) => `${label}-${i}`);
  const sentAt: number[] = [];
  const deliveredBefore = context.deliveredReceived();
  const posted = await postAll({
    url: held.server.url,
    ...held.post,
    total: names.length,
    concurrency,
    body: (index) => held.body(names[index], imUids[index]),
    onSent: (index) => (sentAt[index] = monotonicMs()),
  });
  const first = Math.min(...sentAt);
  await until(() => imUids.every((imUid) => receivedAt.has(imUid)), 60_000, 20);
  const arrived = imUids.flatMap((imUid, index) => (receivedAt.has(imUid) ? [{ index, at: receivedAt.get(imUid)! }] : []));
  const completionMs = Math.max(...arrived.map((one) => one.at)) - first;
  const run: BlastRun = {
    concurrency,
    messages: names.length,
    completionMs,
    perSecond: names.length / (completionMs / 1000),
    postToMessage: summarize(arrived.map((one) => one.at - sentAt[one.index])),
    lost: names.length - arrived.length,
    failedPosts: posted.failed,
  };
  if (held.target === 'cim') {
    await until(() => context.deliveredReceived() - deliveredBefore >= names.length, 60_000);
    run.delivered = context.deliveredReceived() - deliveredBefore;
    run.deliveredMs = monotonicMs() - first;
  }
  context.log(
    `  ${held.target} -c ${concurrency}: ${names.length} messages in ${completionMs.toFixed(0)} ms (${run.perSecond.toFixed(0)}/s); ` +
      `POST → message p50 ${run.postToMessage.p50.toFixed(2)} / p99 ${run.postToMessage.p99.toFixed(2)} ms; lost ${run.lost}, failed POSTs ${run.failedPosts}` +
      (run.delivered === undefined ? '' : `; delivered callbacks ${run.delivered} by ${run.deliveredMs!.toFixed(0)} ms`),
  );
  await settle(context);
  return run;
}

export interface BlastResult {
  players: number;
  passes: Array<{ concurrency: number; cim: BlastRun; baseline: BlastRun; ratio: number }>;
}

const CONCURRENCY = [32, 64];

async function blastWith(context: BenchContext, target: BlastTarget, server: Running, players: number): Promise<BlastRun[]> {
  const runId = Math.random().toString(36).slice(2, 8);
  const held = await holdSockets(context, target, server, players, `blast-${target}-${runId}`);
  try {
    await warmUp(context, held, runId);
    const runs: BlastRun[] = [];
    for (const concurrency of CONCURRENCY) runs.push(await blastPass(context, held, concurrency, `${runId}-c${concurrency}`));
    return runs;
  } finally {
    await held.swarm.stop();
  }
}

export async function blastScenario(context: BenchContext): Promise<BlastResult> {
  const players = context.quick ? 1_000 : 10_000;
  const cim = await startCim(await context.server.createDatabase('blast'), {
    nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`] : [],
  });
  let cimRuns: BlastRun[];
  try {
    cimRuns = await blastWith(context, 'cim', cim, players);
  } finally {
    await cim.stop();
  }
  const baseline = await startBaseline('b1b2-insert-emit.ts', { DATABASE_URL: await context.server.createDatabase('b1b2'), POOL_SIZE: '20' });
  let baselineRuns: BlastRun[];
  try {
    baselineRuns = await blastWith(context, 'b1b2', baseline, players);
  } finally {
    await baseline.stop();
  }
  return {
    players,
    passes: CONCURRENCY.map((concurrency, i) => ({
      concurrency,
      cim: cimRuns[i],
      baseline: baselineRuns[i],
      ratio: cimRuns[i].completionMs / baselineRuns[i].completionMs,
    })),
  };
}
