/**
 * Several instances (SPEC §6): four cim-inbox processes on one database, each player's socket on one
 * of them (evenly, players distinct), messages posted open-loop round-robin to the four as a load
 * balancer would. Run once fanning out through Redis and once through PostgreSQL only, against the
 * same sockets and load on a single instance in the same run. Figures:
 * - fan-out ratio: per instance, messages it heard from the fan-out (`cim_fanout_received_total`,
 *   both labels) ÷ messages for its own players; the worst instance;
 * - POST → `message` p99 for messages posted to an instance other than the player's ÷ the single
 *   instance's p99;
 * - reconnect storm (Redis): one instance is killed (-9) while posting goes on; its sockets
 *   reconnect to the others in turn after socket.io's default first delay (0.5–1.5 s, as the SDK
 *   would) and catch up. Per socket: kill → reconnected and holding every message accepted before
 *   it reconnected; and the gateway's POST → reply p99 from the kill until the last socket caught
 *   up ÷ the same before the kill.
 * Every accepted message must reach its player's socket, and once (a re-send after the kill is
 * counted apart: delivery is at least once, an ack in flight when the instance died is lost).
 */
import { loadavg } from 'node:os';

import { readCounters } from '../lib/app-metrics';
import { cpuMeter } from '../lib/cpu';
import { PAYLOAD_BODY } from '../lib/ingest-load';
import { postAtRate } from '../lib/open-loop';
import { redisAnswers } from '../lib/redis';
import { BENCH_SECRETS, Running, startCim } from '../lib/servers';
import { connectPlayer, connectPlayers, PlayerSocket } from '../lib/sockets';
import { summarize, Summary } from '../lib/stats';
import { BenchContext, settle } from './context';

const INSTANCES = 4;
const RATE = 400;
const FANOUT_RECEIVED = 'cim_fanout_received_total';

export type FanOut = 'alone' | 'redis' | 'postgres';

export interface FanOutShare {
  /** messages whose player has its socket on this instance */
  forPlayersHere: number;
  /** cim_fanout_received_total over the pass, by for_players_here */
  receivedForPlayersHere: number;
  receivedForOthers: number;
  ratio: number;
}

export interface InstancesRun {
  fanOut: FanOut;
  instances: number;
  players: number;
  rate: number;
  seconds: number;
  accepted: number;
  failedPosts: number;
  lost: number;
  /** accepted messages a socket got more than once, and of them those posted to the instance holding it */
  duplicates: number;
  duplicatesPostedHere: number;
  postToMessage: Summary;
  /** posted to the instance holding the player's socket, and to another one */
  within?: Summary;
  across?: Summary;
  perInstance?: FanOutShare[];
  /** the worst instance's */
  fanOutRatio?: number;
}

export interface StormRun {
  /** sockets on the killed instance */
  sockets: number;
  reconnected: number;
  /** per socket: kill → reconnected and holding every message accepted before it reconnected */
  caughtUp: Summary;
  /** kill → the last socket caught up */
  allCaughtUpMs: number;
  /** POST → reply of the posts sent before the kill, and from the kill until the last socket caught up */
  gatewayBefore: Summary;
  gatewayDuring: Summary;
  gatewayRatio: number;
  accepted: number;
  failedPosts: number;
  lost: number;
  /** accepted messages a socket got more than once: the killed instance's players (a catch-up re-sends what was
   * pushed but whose ack died with it), the others' (of them, posted to the instance holding the socket) */
  twiceStranded: number;
  twiceOthers: number;
  twiceOthersPostedHere: number;
}

export interface InstancesResult {
  single: InstancesRun;
  postgres: InstancesRun;
  redis?: InstancesRun;
  storm?: StormRun;
  /** why there is no Redis half, when so */
  redisSkipped?: string;
  /** p99 across instances ÷ the single instance's p99 */
  acrossRatio: { postgres: number; redis?: number };
}

/** The sockets of one set-up and every `message` they get, by im_uid. */
class Players {
  readonly names: string[];
  readonly receivedAt = new Map<string, number>();
  readonly copies = new Map<string, number>();
  readonly sockets: PlayerSocket[][] = [];
  private readonly instanceOf = new Map<string, number>();

  constructor(
    count: number,
    readonly runId: string,
  ) {
    this.names = Array.from({ length: count }, (_, i) => `inst-${runId}-${i}`);
  }

  readonly onMessage = (_player: string, message: { im_uid?: string }): void => {
    const imUid = message.im_uid;
    if (imUid === undefined) return;
    if (!this.receivedAt.has(imUid)) this.receivedAt.set(imUid, performance.now());
    this.copies.set(imUid, (this.copies.get(imUid) ?? 0) + 1);
  };

  async connect(servers: Running[]): Promise<void> {
    for (const [instance, server] of servers.entries()) {
      const mine = this.names.filter((_, i) => i % servers.length === instance);
      for (const name of mine) this.instanceOf.set(name, instance);
      this.sockets.push(await connectPlayers({ target: 'cim', url: server.url, players: mine, onMessage: this.onMessage }));
    }
  }

  /** copies beyond the first, summed over `imUids` */
  extraCopies(imUids: string[]): number {
    return imUids.reduce((sum, imUid) => sum + Math.max(0, (this.copies.get(imUid) ?? 0) - 1), 0);
  }

  instance(player: string): number {
    return this.instanceOf.get(player)!;
  }

  moved(player: string, instance: number, socket: PlayerSocket): void {
    this.instanceOf.set(player, instance);
    this.sockets[instance].push(socket);
  }

  close(): void {
    for (const { socket } of this.sockets.flat()) socket.close();
  }
}

/** What was posted in one open-loop pass, by post index. */
interface Posts {
  imUids: string[];
  players: string[];
  postedTo: number[];
  sentAt: number[];
  repliedAt: number[];
  accepted: boolean[];
  failed: number;
}

async function post(
  context: BenchContext,
  servers: Running[],
  players: Players,
  label: string,
  seconds: number,
  route: (index: number) => number,
  whileRunning?: () => Promise<void>,
): Promise<Posts> {
  const posts: Posts = { imUids: [], players: [], postedTo: [], sentAt: [], repliedAt: [], accepted: [], failed: 0 };
  const running = postAtRate({
    url: servers.map((server) => server.url),
    route: (index) => (posts.postedTo[index] = route(index)),
    path: '/gateway/custom-im',
    headers: { authorization: BENCH_SECRETS.authorization },
    rate: RATE,
    seconds,
    body: (index) => {
      const player = players.names[Math.floor(Math.random() * players.names.length)];
      posts.imUids[index] = `${players.runId}-${label}-${index}`;
      posts.players[index] = player;
      return JSON.stringify({
        ext_user_id: player,
        body: PAYLOAD_BODY,
        im_uid: posts.imUids[index],
        callback_url: context.callbackUrl,
        extension: { title: 'Several instances' },
      });
    },
    onSent: (index, at) => (posts.sentAt[index] = at),
    onReply: (index, at, text) => {
      posts.repliedAt[index] = at;
      posts.accepted[index] = text.includes('"error_code":0');
    },
  });
  await whileRunning?.();
  posts.failed = (await running).failed;
  return posts;
}

const acceptedIndexes = (posts: Posts): number[] => posts.imUids.flatMap((_, index) => (posts.accepted[index] ? [index] : []));

async function untilReceived(players: Players, imUids: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (imUids.some((imUid) => !players.receivedAt.has(imUid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function steady(context: BenchContext, servers: Running[], players: Players, fanOut: FanOut, seconds: number): Promise<InstancesRun> {
  const roundRobin = (index: number): number => index % servers.length;
  // warm-up, not measured: the JIT, the pools' connections, the fan-out links
  await post(context, servers, players, 'warm', 2, roundRobin);
  await settle(context);
  const before = await Promise.all(servers.map((server) => readCounters(server.url)));
  const cpu = servers.map((server) => cpuMeter(server.pid));
  context.log(`  ${fanOut}: posting ${RATE}/s round-robin to ${servers.length} instance(s) for ${seconds} s (load average ${loadavg()[0].toFixed(1)})`);
  const posts = await post(context, servers, players, 'steady', seconds, roundRobin);
  const accepted = acceptedIndexes(posts);
  await untilReceived(
    players,
    accepted.map((index) => posts.imUids[index]),
    10_000,
  );
  const used = cpu.map((meter) => meter());
  // announcements for nobody here are counted as heard, a little after the last push
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await Promise.all(servers.map((server) => readCounters(server.url)));
  context.log(
    `  ${fanOut}: CPU per message: instances ${((used.reduce((sum, one) => sum + one.process, 0) / accepted.length) * 1000).toFixed(3)} ms, ` +
      `PostgreSQL ${((used[0].postgres / accepted.length) * 1000).toFixed(3)} ms, load generator ${((used[0].self / accepted.length) * 1000).toFixed(3)} ms`,
  );
  const arrived = accepted.filter((index) => players.receivedAt.has(posts.imUids[index]));
  const latency = (indexes: number[]): Summary => summarize(indexes.map((index) => players.receivedAt.get(posts.imUids[index])! - posts.sentAt[index]));
  const run: InstancesRun = {
    fanOut,
    instances: servers.length,
    players: players.names.length,
    rate: RATE,
    seconds,
    accepted: accepted.length,
    failedPosts: posts.failed,
    lost: accepted.length - arrived.length,
    duplicates: players.extraCopies(accepted.map((index) => posts.imUids[index])),
    duplicatesPostedHere: players.extraCopies(
      accepted.filter((index) => posts.postedTo[index] === players.instance(posts.players[index])).map((index) => posts.imUids[index]),
    ),
    postToMessage: latency(arrived),
  };
  if (servers.length > 1) {
    run.within = latency(arrived.filter((index) => posts.postedTo[index] === players.instance(posts.players[index])));
    run.across = latency(arrived.filter((index) => posts.postedTo[index] !== players.instance(posts.players[index])));
    run.perInstance = servers.map((_, instance) => {
      const received = (here: string): number =>
        after[instance](FANOUT_RECEIVED, { for_players_here: here }) - before[instance](FANOUT_RECEIVED, { for_players_here: here });
      const forPlayersHere = accepted.filter((index) => players.instance(posts.players[index]) === instance).length;
      const share = { forPlayersHere, receivedForPlayersHere: received('true'), receivedForOthers: received('false') };
      return { ...share, ratio: (share.receivedForPlayersHere + share.receivedForOthers) / forPlayersHere };
    });
    run.fanOutRatio = Math.max(...run.perInstance.map((share) => share.ratio));
    context.log(
      `  ${fanOut}: fan-out heard ÷ messages for players here, per instance: ` +
        run.perInstance
          .map((share) => `${share.ratio.toFixed(2)} (${share.receivedForPlayersHere} + ${share.receivedForOthers} ÷ ${share.forPlayersHere})`)
          .join(', '),
    );
  }
  context.log(
    `  ${fanOut}: POST → message p50 ${run.postToMessage.p50.toFixed(2)} / p99 ${run.postToMessage.p99.toFixed(2)} ms` +
      (run.across ? `; across instances p99 ${run.across.p99.toFixed(2)} ms, within p99 ${run.within!.p99.toFixed(2)} ms` : '') +
      `; ${run.accepted} accepted, ${run.lost} lost, ${run.duplicates} twice (${run.duplicatesPostedHere} posted to the player's instance), ${run.failedPosts} posts failed`,
  );
  await settle(context);
  return run;
}

/** Kills the last instance mid-load; its players reconnect to the others in turn, as behind a load balancer. */
async function storm(context: BenchContext, servers: Running[], players: Players, beforeSeconds: number, afterSeconds: number): Promise<StormRun> {
  const victim = servers.length - 1;
  const others = servers.slice(0, victim).map((_, instance) => instance);
  const stranded = players.sockets[victim].splice(0);
  const strandedPlayers = new Set(stranded.map(({ player }) => player));
  const instanceBefore = new Map(players.names.map((player) => [player, players.instance(player)]));
  const reconnectedAt = new Map<string, number>();
  let alive = servers.map((_, instance) => instance);
  let killedAt = Number.NaN;
  let turn = 0;
  const reconnect = async (player: string): Promise<void> => {
    // socket.io's default first reconnection delay: 1 s ± 50 %
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1_000));
    for (;;) {
      const instance = others[turn++ % others.length];
      try {
        const socket = await connectPlayer({ target: 'cim', url: servers[instance].url, onMessage: players.onMessage }, player);
        reconnectedAt.set(player, performance.now());
        players.moved(player, instance, socket);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  for (const { player, socket } of stranded) socket.once('disconnect', () => void reconnect(player));
  context.log(
    `  storm: load average ${loadavg()[0].toFixed(1)}; posting ${RATE}/s for ${beforeSeconds + afterSeconds} s; kill -9 of an instance with ${stranded.length} sockets after ${beforeSeconds} s`,
  );
  const posts = await post(
    context,
    servers,
    players,
    'storm',
    beforeSeconds + afterSeconds,
    (index) => alive[index % alive.length],
    async () => {
      await new Promise((resolve) => setTimeout(resolve, beforeSeconds * 1_000));
      // the load balancer takes it out as it dies: posts in flight to it fail, the next go elsewhere
      alive = others;
      killedAt = performance.now();
      await servers[victim].crash();
    },
  );
  const deadline = Date.now() + 30_000;
  while (reconnectedAt.size < stranded.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const accepted = acceptedIndexes(posts);
  await untilReceived(
    players,
    accepted.map((index) => posts.imUids[index]),
    15_000,
  );
  const byPlayer = new Map<string, number[]>();
  for (const index of accepted) byPlayer.set(posts.players[index], [...(byPlayer.get(posts.players[index]) ?? []), index]);
  const caughtUp = stranded.map(({ player }) => {
    const back = reconnectedAt.get(player);
    if (back === undefined) return Number.POSITIVE_INFINITY;
    let done = back;
    for (const index of byPlayer.get(player) ?? []) {
      if (posts.repliedAt[index] > back) continue;
      done = Math.max(done, players.receivedAt.get(posts.imUids[index]) ?? Number.POSITIVE_INFINITY);
    }
    return done - killedAt;
  });
  const lastCaughtUp = killedAt + Math.max(...caughtUp);
  const gateway = (from: number, to: number): Summary =>
    summarize(accepted.filter((index) => posts.sentAt[index] >= from && posts.sentAt[index] < to).map((index) => posts.repliedAt[index] - posts.sentAt[index]));
  const gatewayBefore = gateway(killedAt - beforeSeconds * 1_000, killedAt);
  const gatewayDuring = gateway(killedAt, Math.max(lastCaughtUp, killedAt + 1_000));
  const lost = accepted.filter((index) => !players.receivedAt.has(posts.imUids[index]));
  const run: StormRun = {
    sockets: stranded.length,
    reconnected: reconnectedAt.size,
    caughtUp: summarize(caughtUp.filter(Number.isFinite)),
    allCaughtUpMs: Math.max(...caughtUp),
    gatewayBefore,
    gatewayDuring,
    gatewayRatio: gatewayDuring.p99 / gatewayBefore.p99,
    accepted: accepted.length,
    failedPosts: posts.failed,
    lost: lost.length,
    twiceStranded: players.extraCopies(accepted.filter((index) => strandedPlayers.has(posts.players[index])).map((index) => posts.imUids[index])),
    twiceOthers: players.extraCopies(accepted.filter((index) => !strandedPlayers.has(posts.players[index])).map((index) => posts.imUids[index])),
    twiceOthersPostedHere: players.extraCopies(
      accepted
        .filter((index) => !strandedPlayers.has(posts.players[index]) && posts.postedTo[index] === instanceBefore.get(posts.players[index]))
        .map((index) => posts.imUids[index]),
    ),
  };
  context.log(
    `  storm: ${run.reconnected}/${run.sockets} reconnected; kill → caught up p50 ${run.caughtUp.p50.toFixed(0)} / p99 ${run.caughtUp.p99.toFixed(0)} ms, ` +
      `all ${run.allCaughtUpMs.toFixed(0)} ms; gateway p99 ${gatewayBefore.p99.toFixed(2)} ms before, ${gatewayDuring.p99.toFixed(2)} ms during; ` +
      `${run.accepted} accepted, ${run.lost} lost (${lost.filter((index) => posts.postedTo[index] === victim).length} of them accepted by the killed instance, ` +
      `${lost.filter((index) => !strandedPlayers.has(posts.players[index])).length} for players of the instances still up), ` +
      `got twice: ${run.twiceStranded} by the killed instance's players, ${run.twiceOthers} by the others (${run.twiceOthersPostedHere} posted to their own instance); ` +
      `${run.failedPosts} posts failed (${posts.imUids.filter((imUid, index) => !posts.accepted[index] && players.receivedAt.has(imUid)).length} of them delivered all the same)`,
  );
  return run;
}

/** `count` instances on a fresh database, `players` sockets spread over them, `body` run against them. */
async function withInstances<T>(
  context: BenchContext,
  fanOut: FanOut,
  count: number,
  playerCount: number,
  body: (servers: Running[], players: Players) => Promise<T>,
): Promise<T> {
  const databaseUrl = await context.server.createDatabase(`instances${fanOut}`);
  const env = fanOut === 'redis' ? { REDIS_URL: context.redisUrl } : {};
  // one after another: the first runs the migrations, the others find them done
  const servers: Running[] = [];
  const players = new Players(playerCount, `${fanOut}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    for (let i = 0; i < count; i += 1) servers.push(await startCim(databaseUrl, { env }));
    const started = performance.now();
    await players.connect(servers);
    context.log(`  ${fanOut}: ${playerCount} sockets connected to ${count} instance(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return await body(servers, players);
  } finally {
    players.close();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

export async function instancesScenario(context: BenchContext): Promise<InstancesResult> {
  const players = context.quick ? 2_000 : 8_000;
  const seconds = context.quick ? 5 : 20;
  const single = await withInstances(context, 'alone', 1, players, (servers, sockets) => steady(context, servers, sockets, 'alone', seconds));
  const postgres = await withInstances(context, 'postgres', INSTANCES, players, (servers, sockets) => steady(context, servers, sockets, 'postgres', seconds));
  const result: InstancesResult = { single, postgres, acrossRatio: { postgres: postgres.across!.p99 / single.postToMessage.p99 } };
  if (!(await redisAnswers(context.redisUrl))) {
    result.redisSkipped = `no Redis answers at ${context.redisUrl} (set CIM_BENCH_REDIS_URL or --redis)`;
    context.log(`  redis: skipped, ${result.redisSkipped}`);
    return result;
  }
  await withInstances(context, 'redis', INSTANCES, players, async (servers, sockets) => {
    result.redis = await steady(context, servers, sockets, 'redis', seconds);
    result.storm = await storm(context, servers, sockets, context.quick ? 3 : 5, context.quick ? 6 : 10);
  });
  result.acrossRatio.redis = result.redis!.across!.p99 / single.postToMessage.p99;
  return result;
}
