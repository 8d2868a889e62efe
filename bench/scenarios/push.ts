/**
 * Live push: N players hold sockets; messages are posted open-loop at a fixed rate to random
 * connected players, and the same process times POST sent → `message` received and gateway reply →
 * `message` (the push stage: both servers reply first and push on the next turn of the event loop).
 * Run against cim-inbox (through the gateway and PostgreSQL) and against B2 (bare socket.io).
 * With `instances: 2` the sockets are spread over two cim-inbox processes and every post goes to
 * the first, so half the pushes cross instances through the PostgreSQL adapter (fan-out).
 */
import { cpuMeter } from '../lib/cpu';
import { postAtRate } from '../lib/open-loop';
import { PAYLOAD_BODY } from '../lib/ingest-load';
import { BENCH_SECRETS, Running, startBaseline, startCim } from '../lib/servers';
import { closeAll, connectPlayers } from '../lib/sockets';
import { Summary, summarize } from '../lib/stats';
import { BenchContext } from './context';

export interface PushRun {
  players: number;
  rate: number;
  seconds: number;
  messages: number;
  lost: number;
  failedPosts: number;
  postToMessage: Summary;
  replyToMessage: Summary;
  /** fan-out only: POST → message for players on the instance that took the post, and on the other */
  within?: Summary;
  across?: Summary;
}

interface Setup {
  servers: Running[];
  target: 'cim' | 'b2';
}

async function measure(context: BenchContext, setup: Setup, players: number, rates: number[], seconds: number): Promise<PushRun[]> {
  const runId = Math.random().toString(36).slice(2, 8);
  const names = Array.from({ length: players }, (_, i) => `push-${runId}-${i}`);
  const receivedAt = new Map<string, number>();
  const instanceOf = new Map<string, number>();
  const started = performance.now();
  const sockets = (
    await Promise.all(
      setup.servers.map((server, instance) => {
        const mine = names.filter((_, i) => i % setup.servers.length === instance);
        for (const name of mine) instanceOf.set(name, instance);
        return connectPlayers({
          target: setup.target,
          url: server.url,
          players: mine,
          onMessage: (_player, message) => {
            if (message.im_uid !== undefined && !receivedAt.has(message.im_uid)) receivedAt.set(message.im_uid, performance.now());
          },
        });
      }),
    )
  ).flat();
  context.log(`  ${setup.target}: ${sockets.length} sockets connected in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const runs: PushRun[] = [];
  try {
    // warm-up, not measured: the JIT, the database pool's connections, the first callbacks
    await postAtRate({
      url: setup.servers[0].url,
      path: setup.target === 'cim' ? '/gateway/custom-im' : '/emit',
      headers: setup.target === 'cim' ? { authorization: BENCH_SECRETS.authorization } : {},
      rate: Math.min(...rates),
      seconds: 2,
      body: (index) => JSON.stringify({ ext_user_id: names[index % names.length], body: PAYLOAD_BODY, im_uid: `${runId}-warm-${index}`, callback_url: context.callbackUrl }),
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const [pass, rate] of rates.entries()) {
      context.log(`  ${setup.target}: posting ${rate}/s for ${seconds} s`);
      const sentAt = new Map<string, number>();
      const repliedAt = new Map<string, number>();
      const imUids: string[] = [];
      const playerOf: string[] = [];
      const cpu = cpuMeter(setup.servers[0].pid);
      const posted = await postAtRate({
        url: setup.servers[0].url,
        path: setup.target === 'cim' ? '/gateway/custom-im' : '/emit',
        headers: setup.target === 'cim' ? { authorization: BENCH_SECRETS.authorization } : {},
        rate,
        seconds,
        body: (index) => {
          const player = names[Math.floor(Math.random() * names.length)];
          const imUid = `${runId}-${pass}-${index}`;
          imUids[index] = imUid;
          playerOf[index] = player;
          return JSON.stringify({ ext_user_id: player, body: PAYLOAD_BODY, im_uid: imUid, callback_url: context.callbackUrl, extension: { title: 'Live push' } });
        },
        onSent: (index, at) => sentAt.set(imUids[index], at),
        onReply: (index, at) => repliedAt.set(imUids[index], at),
      });
      const deadline = Date.now() + 10_000;
      while (imUids.some((imUid) => !receivedAt.has(imUid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const used = cpu();
      context.log(
        `  ${setup.target}: CPU per message: server ${((used.process / imUids.length) * 1000).toFixed(3)} ms, ` +
          `PostgreSQL ${((used.postgres / imUids.length) * 1000).toFixed(3)} ms, load generator ${((used.self / imUids.length) * 1000).toFixed(3)} ms`,
      );
      const arrived = imUids.filter((imUid) => receivedAt.has(imUid));
      const postToMessage = (imUid: string): number => receivedAt.get(imUid)! - sentAt.get(imUid)!;
      const run: PushRun = {
        players,
        rate,
        seconds,
        messages: imUids.length,
        lost: imUids.length - arrived.length,
        failedPosts: posted.failed,
        postToMessage: summarize(arrived.map(postToMessage)),
        replyToMessage: summarize(arrived.filter((imUid) => repliedAt.has(imUid)).map((imUid) => Math.max(0, receivedAt.get(imUid)! - repliedAt.get(imUid)!))),
      };
      if (setup.servers.length > 1) {
        const byInstance = (instance: number): number[] =>
          imUids.flatMap((imUid, index) => (receivedAt.has(imUid) && instanceOf.get(playerOf[index]) === instance ? [postToMessage(imUid)] : []));
        run.within = summarize(byInstance(0));
        run.across = summarize(byInstance(1));
      }
      runs.push(run);
    }
  } finally {
    closeAll(sockets);
  }
  return runs;
}

export interface PushResult {
  /** at 70 % of the gateway's measured max accepted msgs/s */
  cim: PushRun;
  b2: PushRun;
  /** the same sockets at a light, steady rate, and at a sustained middle rate */
  cimLight: PushRun;
  b2Light: PushRun;
  cimMid: PushRun;
  b2Mid: PushRun;
  /** our push stage p99 ÷ B2's, at the 70 % rate */
  pushStageRatio: number;
}

export async function pushScenario(context: BenchContext, rate: number, lightRate: number, midRate: number): Promise<PushResult> {
  const players = context.quick ? 2_000 : 10_000;
  const seconds = context.quick ? 4 : 15;
  const cim = await startCim(await context.server.createDatabase('push'), {
    nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`] : [],
  });
  let cimRuns: PushRun[];
  try {
    cimRuns = await measure(context, { servers: [cim], target: 'cim' }, players, [lightRate, midRate, rate], seconds);
  } finally {
    await cim.stop();
  }
  const b2 = await startBaseline('b2-push.ts');
  let b2Runs: PushRun[];
  try {
    b2Runs = await measure(context, { servers: [b2], target: 'b2' }, players, [lightRate, midRate, rate], seconds);
  } finally {
    await b2.stop();
  }
  return {
    cimLight: cimRuns[0],
    cimMid: cimRuns[1],
    cim: cimRuns[2],
    b2Light: b2Runs[0],
    b2Mid: b2Runs[1],
    b2: b2Runs[2],
    pushStageRatio: cimRuns[2].replyToMessage.p99 / b2Runs[2].replyToMessage.p99,
  };
}

export interface FanoutResult {
  run: PushRun;
  /** POST → message p99 across instances ÷ within one */
  ratio: number;
}

export async function fanoutScenario(context: BenchContext, rate: number): Promise<FanoutResult> {
  const players = context.quick ? 1_000 : 4_000;
  const seconds = context.quick ? 4 : 15;
  const databaseUrl = await context.server.createDatabase('fanout');
  const first = await startCim(databaseUrl);
  const second = await startCim(databaseUrl);
  try {
    const [run] = await measure(context, { servers: [first, second], target: 'cim' }, players, [rate], seconds);
    return { run, ratio: run.across!.p99 / run.within!.p99 };
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
}
