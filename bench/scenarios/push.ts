/**
 * Live push: N players hold sockets; messages are posted open-loop at a fixed rate to random
 * connected players, and the same process times POST sent → `message` received and gateway reply →
 * `message` (the push stage: both servers reply first and then push). Every message is acked as the
 * SDK acks it, and cim-inbox sends its `delivered` callback to a receiver in another process.
 * "Load" is cim-inbox's own end-to-end capacity with those sockets: a closed-loop pass (50
 * connections, as the ingest scenario) posts for a while, and its messages over the time until the
 * last of them was pushed, acked and called back is the capacity; the loaded pass posts at 70 % of it. B2 (bare socket.io) is run at the
 * same rates.
 * With `instances: 2` the sockets are spread over two cim-inbox processes and every post goes to
 * the first, so half the pushes cross instances through the PostgreSQL adapter (fan-out).
 */
import { cpuMeter } from '../lib/cpu';
import { load, PAYLOAD_BODY } from '../lib/ingest-load';
import { postAtRate } from '../lib/open-loop';
import { BENCH_SECRETS, Running, startBaseline, startCim } from '../lib/servers';
import { closeAll, connectPlayers } from '../lib/sockets';
import { summarize, Summary } from '../lib/stats';
import { BenchContext, settle } from './context';

export interface PushRun {
  players: number;
  rate: number;
  seconds: number;
  messages: number;
  lost: number;
  failedPosts: number;
  postToMessage: Summary;
  /** the gateway's part: POST sent → reply received */
  postToReply: Summary;
  replyToMessage: Summary;
  /** fan-out only: POST → message for players on the instance that took the post, and on the other */
  within?: Summary;
  across?: Summary;
}

interface Setup {
  servers: Running[];
  target: 'cim' | 'b2';
}

/** A closed-loop pass through the gateway while the sockets receive and ack every message. */
export interface Capacity {
  /** what the gateway took in the closed-loop pass */
  acceptedPerSecond: number;
  /** the same messages over the time until the last was pushed, acked and called back */
  completedPerSecond: number;
  lost: number;
}

async function measure(
  context: BenchContext,
  setup: Setup,
  players: number,
  rates: (capacity: Capacity | undefined) => number[],
  seconds: number,
  findCapacity = false,
): Promise<{ runs: PushRun[]; capacity?: Capacity }> {
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
      rate: 200,
      seconds: 2,
      body: (index) =>
        JSON.stringify({ ext_user_id: names[index % names.length], body: PAYLOAD_BODY, im_uid: `${runId}-warm-${index}`, callback_url: context.callbackUrl }),
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    let capacity: Capacity | undefined;
    if (findCapacity) {
      let index = 0;
      const imUids: string[] = [];
      await settle(context);
      const callbacksBefore = context.callbacksReceived();
      const started = performance.now();
      const result = await load(
        {
          url: `${setup.servers[0].url}/gateway/custom-im`,
          headers: { authorization: BENCH_SECRETS.authorization },
          body: () => {
            const imUid = `${runId}-cap-${index++}`;
            imUids.push(imUid);
            return JSON.stringify({
              ext_user_id: names[Math.floor(Math.random() * names.length)],
              body: PAYLOAD_BODY,
              im_uid: imUid,
              callback_url: context.callbackUrl,
              extension: { title: 'Live push' },
            });
          },
        },
        { connections: 50, seconds },
      );
      // the closed loop outruns the work it leaves behind (acks to record, callbacks to send): the
      // pipeline's capacity is what it accepted over the time until the last of it was called back
      const deadline = Date.now() + 120_000;
      while ((imUids.some((imUid) => !receivedAt.has(imUid)) || context.callbacksReceived() - callbacksBefore < result.requests) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const completedIn = (performance.now() - started) / 1000;
      capacity = {
        acceptedPerSecond: result.requestsPerSecond,
        completedPerSecond: result.requests / completedIn,
        lost: imUids.filter((imUid) => !receivedAt.has(imUid)).length,
      };
      await settle(context);
      context.log(
        `  ${setup.target}: closed loop (50 connections) accepted ${result.requestsPerSecond.toFixed(0)} msgs/s; all pushed, acked and called back in ${completedIn.toFixed(1)} s: ` +
          `capacity ${capacity.completedPerSecond.toFixed(0)} msgs/s end to end`,
      );
    }
    for (const [pass, rate] of rates(capacity).entries()) {
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
          return JSON.stringify({
            ext_user_id: player,
            body: PAYLOAD_BODY,
            im_uid: imUid,
            callback_url: context.callbackUrl,
            extension: { title: 'Live push' },
          });
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
        postToReply: summarize(imUids.filter((imUid) => repliedAt.has(imUid)).map((imUid) => repliedAt.get(imUid)! - sentAt.get(imUid)!)),
        replyToMessage: summarize(arrived.filter((imUid) => repliedAt.has(imUid)).map((imUid) => Math.max(0, receivedAt.get(imUid)! - repliedAt.get(imUid)!))),
      };
      context.log(
        `  ${setup.target}: POST → message p50 ${run.postToMessage.p50.toFixed(2)} / p99 ${run.postToMessage.p99.toFixed(2)} ms; ` +
          `POST → reply p50 ${run.postToReply.p50.toFixed(2)} / p99 ${run.postToReply.p99.toFixed(2)} ms; reply → message p99 ${run.replyToMessage.p99.toFixed(2)} ms`,
      );
      if (setup.servers.length > 1) {
        const byInstance = (instance: number): number[] =>
          imUids.flatMap((imUid, index) => (receivedAt.has(imUid) && instanceOf.get(playerOf[index]) === instance ? [postToMessage(imUid)] : []));
        run.within = summarize(byInstance(0));
        run.across = summarize(byInstance(1));
      }
      runs.push(run);
      await settle(context);
    }
    return { runs, capacity };
  } finally {
    closeAll(sockets);
  }
}

export interface PushResult {
  capacity: Capacity;
  /** at 70 % of cim-inbox's capacity */
  cim: PushRun;
  b2: PushRun;
  /** the same sockets at a light, steady rate */
  cimLight: PushRun;
  b2Light: PushRun;
  /** our push stage p99 ÷ B2's, at the loaded rate */
  pushStageRatio: number;
}

export async function pushScenario(context: BenchContext, lightRate: number): Promise<PushResult> {
  const players = context.quick ? 2_000 : 10_000;
  const seconds = context.quick ? 3 : 15;
  const cim = await startCim(await context.server.createDatabase('push'), {
    nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`] : [],
  });
  let cimResult: Awaited<ReturnType<typeof measure>>;
  try {
    cimResult = await measure(
      context,
      { servers: [cim], target: 'cim' },
      players,
      (capacity) => [lightRate, Math.round(0.7 * capacity!.completedPerSecond)],
      seconds,
      true,
    );
  } finally {
    await cim.stop();
  }
  const [cimLight, cimLoaded] = cimResult.runs;
  const b2 = await startBaseline('b2-push.ts');
  let b2Runs: PushRun[];
  try {
    b2Runs = (await measure(context, { servers: [b2], target: 'b2' }, players, () => [lightRate, cimLoaded.rate], seconds)).runs;
  } finally {
    await b2.stop();
  }
  return {
    capacity: cimResult.capacity!,
    cimLight,
    cim: cimLoaded,
    b2Light: b2Runs[0],
    b2: b2Runs[1],
    pushStageRatio: cimLoaded.replyToMessage.p99 / b2Runs[1].replyToMessage.p99,
  };
}

export interface FanoutResult {
  run: PushRun;
  /** POST → message p99 across instances ÷ within one */
  ratio: number;
}

export async function fanoutScenario(context: BenchContext, rate: number): Promise<FanoutResult> {
  const players = context.quick ? 1_000 : 4_000;
  const seconds = context.quick ? 3 : 15;
  const databaseUrl = await context.server.createDatabase('fanout');
  const first = await startCim(databaseUrl);
  const second = await startCim(databaseUrl);
  try {
    const [run] = (await measure(context, { servers: [first, second], target: 'cim' }, players, () => [rate], seconds)).runs;
    return { run, ratio: run.across!.p99 / run.within!.p99 };
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
}
