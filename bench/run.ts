/**
 * `npm run bench [-- --quick] [--only ingest,blast,cpu,push,connections,catchup,callbacks,fanout,instances] [--profile DIR] [--redis URL]`
 *
 * Starts its own PostgreSQL (embedded, or on DATABASE_URL's server), runs each scenario against
 * cim-inbox and its same-run baseline, prints one table and writes bench/results/: latest.json,
 * latest.md and latency.svg (a quick run writes quick.*, a run of some scenarios partial.*, so
 * neither replaces the full results the README shows). A full run of every scenario also updates
 * the README's table between its bench markers.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { benchServer } from './lib/bench-database';
import { startReceiver } from './lib/receiver';
import { LatencyGroup, latencySvg, markdownTable, Row } from './lib/report';
import { median } from './lib/stats';
import { BlastResult, blastScenario } from './scenarios/blast';
import { CallbacksResult, callbacksScenario } from './scenarios/callbacks';
import { CatchUpResult, catchUpScenario } from './scenarios/catch-up';
import { ConnectionsResult, connectionsScenario } from './scenarios/connections';
import { BenchContext } from './scenarios/context';
import { CpuResult, cpuScenario } from './scenarios/cpu';
import { IngestResult, ingestScenario } from './scenarios/ingest';
import { InstancesResult, InstancesRun, instancesScenario } from './scenarios/instances';
import { FanoutResult, fanoutScenario, PushResult, pushScenario } from './scenarios/push';

const SCENARIOS = ['ingest', 'blast', 'cpu', 'push', 'connections', 'catchup', 'callbacks', 'fanout', 'instances'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Results {
  ingest?: IngestResult;
  blast?: BlastResult;
  cpu?: CpuResult;
  push?: PushResult;
  connections?: ConnectionsResult;
  catchup?: CatchUpResult;
  callbacks?: CallbacksResult;
  fanout?: FanoutResult;
  instances?: InstancesResult;
}

function parseArgs(argv: string[]): { quick: boolean; only: Scenario[]; profileDir?: string; redisUrl: string } {
  const quick = argv.includes('--quick');
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? (argv[onlyIndex + 1].split(',') as Scenario[]) : [...SCENARIOS];
  for (const name of only) if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.join(', ')}`);
  const profileIndex = argv.indexOf('--profile');
  const redisIndex = argv.indexOf('--redis');
  const redisUrl = redisIndex >= 0 ? argv[redisIndex + 1] : (process.env.CIM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
  return { quick, only, profileDir: profileIndex >= 0 ? argv[profileIndex + 1] : undefined, redisUrl };
}

const f = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const per = (value: number): string => `${f(value, 0)}/s`;
const msp = (value: number): string => `${f(value)} ms`;
const kb = (bytes: number): string => `${f(bytes / 1024, 1)} KB`;

function rows(results: Results): Row[] {
  const out: Row[] = [];
  const { ingest, push, connections, catchup, callbacks, fanout, instances } = results;
  // the headline: what one message costs end to end
  if (results.cpu) out.push(...cpuRows(results.cpu));
  if (ingest) {
    const throughputRow = (connections: number, cimPerSecond: number[], b1PerSecond: number[], ratio: number): Row => ({
      scenario: 'ingest',
      figure: `max accepted msgs/s (${connections} connections, median of ${cimPerSecond.length})`,
      cim: per(median(cimPerSecond)),
      baseline: `B1 ${per(median(b1PerSecond))}`,
      ratio: f(ratio),
      target: '≥ 1.5',
      met: ratio >= 1.5,
    });
    for (const other of ingest.alsoAt) out.push(throughputRow(other.connections, other.cimPerSecond, other.b1PerSecond, other.throughputRatio));
    out.push(throughputRow(ingest.connections, ingest.cim.acceptedPerSecond, ingest.b1.requestsPerSecond, ingest.throughputRatio));
    out.push({
      scenario: 'ingest latency',
      figure: `p99 ack at ${ingest.rate} req/s (70 % of B1)`,
      cim: msp(median(ingest.cim.p99AtRate)),
      baseline: `B1 ${msp(median(ingest.b1.p99AtRate))}`,
      ratio: f(ingest.latencyRatio),
      target: '≤ 1.5',
      met: ingest.latencyRatio <= 1.5,
    });
  }
  if (results.blast) out.push(...blastRows(results.blast));
  if (push) {
    const { cim, b2, cimLight: light } = push;
    const lost = cim.lost + light.lost + push.capacity.lost;
    out.push({
      scenario: 'live push',
      figure: `capacity, end to end: msgs/s accepted and all pushed, acked, called back (${cim.players} sockets; the gateway alone took ${per(push.capacity.acceptedPerSecond)})`,
      cim: per(push.capacity.completedPerSecond),
      baseline: '–',
      ratio: '–',
      target: '–',
      met: push.capacity.lost === 0,
    });
    out.push({
      scenario: 'live push',
      figure: `POST → message p50 / p99, ${cim.players} sockets, ${cim.rate} msgs/s (70 % of capacity)`,
      cim: `${msp(cim.postToMessage.p50)} / ${msp(cim.postToMessage.p99)}`,
      baseline: `B2 ${msp(b2.postToMessage.p50)} / ${msp(b2.postToMessage.p99)}`,
      ratio: '–',
      target: 'p50 ≤ 5 ms, p99 ≤ 25 ms',
      met: cim.postToMessage.p50 <= 5 && cim.postToMessage.p99 <= 25 && cim.lost === 0,
    });
    out.push({
      scenario: 'live push',
      figure: `push stage p99 (reply → message) at ${cim.rate} msgs/s`,
      cim: msp(cim.replyToMessage.p99),
      baseline: `B2 ${msp(b2.replyToMessage.p99)}`,
      ratio: f(push.pushStageRatio),
      target: '≤ 2',
      met: push.pushStageRatio <= 2,
    });
    out.push({
      scenario: 'live push',
      figure: `POST → message p50 / p99, ${light.players} sockets, ${light.rate} msgs/s (light)`,
      cim: `${msp(light.postToMessage.p50)} / ${msp(light.postToMessage.p99)}`,
      baseline: `B2 ${msp(push.b2Light.postToMessage.p50)} / ${msp(push.b2Light.postToMessage.p99)}`,
      ratio: '–',
      target: 'p50 ≤ 5 ms, p99 ≤ 25 ms',
      met: light.postToMessage.p50 <= 5 && light.postToMessage.p99 <= 25 && light.lost === 0,
    });
    out.push({
      scenario: 'live push',
      figure: 'messages lost (all passes)',
      cim: String(lost),
      baseline: `B2 ${b2.lost + push.b2Light.lost}`,
      ratio: '–',
      target: '0',
      met: lost === 0,
    });
  }
  if (connections) {
    const { cim, b2 } = connections;
    out.push({
      scenario: 'connections',
      figure: `${cim.sockets} sockets held ${cim.heldSeconds} s: dropped`,
      cim: String(cim.dropped),
      baseline: `B2 ${b2.dropped}`,
      ratio: '–',
      target: '0',
      met: cim.dropped === 0,
    });
    out.push({
      scenario: 'connections',
      figure: 'heap per connection (after GC)',
      cim: kb(cim.heapPerConnection),
      baseline: `B2 ${kb(b2.heapPerConnection)}`,
      ratio: f(connections.heapRatio),
      target: '≤ 1.3',
      met: connections.heapRatio <= 1.3,
    });
  }
  if (catchup) {
    out.push({
      scenario: 'catch-up',
      figure: `${catchup.messages} messages, connect → last (p99 of ${catchup.repetitions})`,
      cim: msp(catchup.connectToAll.p99),
      baseline: '–',
      ratio: '–',
      target: '≤ 100 ms, all, in order',
      met: catchup.connectToAll.p99 <= 100 && catchup.allInOrder && catchup.missing === 0,
    });
  }
  if (callbacks) {
    out.push({
      scenario: 'callbacks',
      figure: `callbacks/s to a local receiver (${callbacks.callbacks}, ${callbacks.concurrency} in flight on ${callbacks.connections} connections)`,
      cim: per(median(callbacks.cimPerSecond)),
      baseline: `B3 ${per(median(callbacks.b3PerSecond))}`,
      ratio: f(callbacks.ratio),
      target: '≥ 0.8',
      met: callbacks.ratio >= 0.8,
    });
    if (ingest) {
      const drain = median(callbacks.cimPerSecond) / median(ingest.cim.acceptedPerSecond);
      out.push({ scenario: 'callbacks', figure: 'drain rate ÷ ingest rate', cim: f(drain), baseline: '–', ratio: f(drain), target: '≥ 1', met: drain >= 1 });
    }
  }
  if (fanout) {
    const { run } = fanout;
    out.push({
      scenario: 'fan-out',
      figure: `2 instances, POST → message p99 across ÷ within (${run.players} sockets, ${run.rate} msgs/s)`,
      cim: `${msp(run.across!.p99)} / ${msp(run.within!.p99)}`,
      baseline: '–',
      ratio: f(fanout.ratio),
      target: '≤ 2',
      met: fanout.ratio <= 2 && run.lost === 0,
    });
  }
  if (instances) out.push(...instancesRows(instances));
  return out;
}

function cpuRows({ rates, players }: CpuResult): Row[] {
  const ms3 = (value: number): string => `${f(value, 3)} ms`;
  return rates.map((at, i) => ({
    scenario: 'CPU per message',
    figure:
      `app + PostgreSQL CPU per message end to end (gateway, push, ack, delivered callback and its record), ${at.rate} msgs/s${i === 0 ? '' : ' (the blast’s rate)'}, ` +
      `${players} sockets; B1 + B2 + B3 at the same rate (lost ${at.lost})`,
    cim: `${ms3(at.cim.app)} + ${ms3(at.cim.postgres)}`,
    baseline: `${ms3(at.baseline.app)} + ${ms3(at.baseline.postgres)}`,
    ratio: f(at.ratio),
    target: '≤ 1.3',
    met: at.ratio <= 1.3 && at.lost === 0,
  }));
}

function blastRows({ passes, players }: BlastResult): Row[] {
  return passes.flatMap(({ concurrency, cim, baseline, ratio }) => [
    {
      scenario: 'campaign blast',
      figure: `one message to each of ${players} players online, ${concurrency} POSTs in flight: first POST → last message acked (msgs/s)`,
      cim: `${msp(cim.completionMs)} (${per(cim.perSecond)})`,
      baseline: `B1→B2 ${msp(baseline.completionMs)} (${per(baseline.perSecond)})`,
      ratio: f(ratio),
      target: '≤ 1.25',
      met: ratio <= 1.25,
    },
    {
      scenario: 'campaign blast',
      figure: `POST → message p50 / p99, ${concurrency} in flight; lost; delivered callbacks received in the run (first POST → last)`,
      cim: `${msp(cim.postToMessage.p50)} / ${msp(cim.postToMessage.p99)}; lost ${cim.lost}; ${cim.delivered}/${cim.messages} (${msp(cim.deliveredMs!)})`,
      baseline: `B1→B2 ${msp(baseline.postToMessage.p50)} / ${msp(baseline.postToMessage.p99)}; lost ${baseline.lost}`,
      ratio: '–',
      target: 'none lost, every callback',
      met: cim.lost === 0 && cim.failedPosts === 0 && cim.delivered === cim.messages,
    },
  ]);
}

function instancesRows({ single, postgres, redis, storm, acrossRatio, redisSkipped }: InstancesResult): Row[] {
  const out: Row[] = [];
  const sockets = `${postgres.players} sockets, ${postgres.rate} msgs/s round-robin`;
  const fanOutRow = (run: InstancesRun, target: string, met: boolean | null): Row => ({
    scenario: `4 instances, ${run.fanOut === 'redis' ? 'Redis' : 'PostgreSQL'}`,
    figure: `fan-out heard ÷ messages for players here, worst instance (${sockets})`,
    cim: f(run.fanOutRatio!),
    baseline: '–',
    ratio: f(run.fanOutRatio!),
    target,
    met,
  });
  const acrossRow = (run: InstancesRun, ratio: number): Row => ({
    scenario: `4 instances, ${run.fanOut === 'redis' ? 'Redis' : 'PostgreSQL'}`,
    figure: `POST → message p99, posted to another instance than the player's ÷ one instance (${sockets}; lost ${run.lost}, got twice ${run.duplicates})`,
    cim: msp(run.across!.p99),
    baseline: `1 instance ${msp(single.postToMessage.p99)}`,
    ratio: f(ratio),
    target: '≤ 1.5, none lost or twice',
    met: ratio <= 1.5 && run.lost === 0 && run.duplicates === 0 && single.lost === 0,
  });
  if (redis) {
    out.push(fanOutRow(redis, '≤ 1.2', redis.fanOutRatio! <= 1.2));
    out.push(acrossRow(redis, acrossRatio.redis!));
  }
  // every instance hears every announcement: (n − 1) ÷ 1 at n instances with evenly spread players
  out.push(fanOutRow(postgres, '– (≈ 3 by design: every instance hears all)', null));
  out.push(acrossRow(postgres, acrossRatio.postgres));
  if (storm) {
    out.push({
      scenario: '4 instances, Redis',
      figure: `kill -9 of one with ${storm.sockets} sockets: kill → reconnected and caught up, p99 per socket (all ${msp(storm.allCaughtUpMs)}; ${storm.reconnected} back, lost ${storm.lost}; got twice: ${storm.twiceStranded} to its players, ${storm.twiceOthers} to the others)`,
      cim: msp(storm.caughtUp.p99),
      baseline: '–',
      ratio: '–',
      target: '≤ 5 s, none lost',
      met: storm.caughtUp.p99 <= 5_000 && storm.reconnected === storm.sockets && storm.lost === 0,
    });
    out.push({
      scenario: '4 instances, Redis',
      figure: 'gateway POST → reply p99 during the reconnect storm ÷ before it',
      cim: msp(storm.gatewayDuring.p99),
      baseline: `before ${msp(storm.gatewayBefore.p99)}`,
      ratio: f(storm.gatewayRatio),
      target: '≤ 2',
      met: storm.gatewayRatio <= 2,
    });
  }
  if (redisSkipped)
    out.push({ scenario: '4 instances, Redis', figure: `skipped: ${redisSkipped}`, cim: '–', baseline: '–', ratio: '–', target: '–', met: null });
  return out;
}

function latencyGroups(results: Results): LatencyGroup[] {
  const groups: LatencyGroup[] = [];
  if (results.ingest)
    groups.push({
      title: `Gateway ack at ${results.ingest.rate} req/s`,
      series: [
        { label: 'B1 (Fastify + pg)', summary: results.ingest.latency.b1, baseline: true },
        { label: 'cim-inbox', summary: results.ingest.latency.cim, baseline: false },
      ],
    });
  if (results.blast)
    for (const pass of results.blast.passes)
      groups.push({
        title: `Campaign blast, POST → message (${results.blast.players} players, ${pass.concurrency} POSTs in flight)`,
        series: [
          { label: 'B1 → B2 (insert, room emit)', summary: pass.baseline.postToMessage, baseline: true },
          { label: 'cim-inbox', summary: pass.cim.postToMessage, baseline: false },
        ],
      });
  if (results.push) {
    groups.push({
      title: `Live push, POST → message (${results.push.cim.players} sockets, ${results.push.cim.rate}/s, 70 % of capacity)`,
      series: [
        { label: 'B2 (bare socket.io)', summary: results.push.b2.postToMessage, baseline: true },
        { label: 'cim-inbox', summary: results.push.cim.postToMessage, baseline: false },
      ],
    });
    groups.push({
      title: `Live push, POST → message, light (${results.push.cimLight.rate}/s)`,
      series: [
        { label: 'B2 (bare socket.io)', summary: results.push.b2Light.postToMessage, baseline: true },
        { label: 'cim-inbox', summary: results.push.cimLight.postToMessage, baseline: false },
      ],
    });
    groups.push({
      title: `Push stage, reply → message (${results.push.cim.rate}/s)`,
      series: [
        { label: 'B2 (bare socket.io)', summary: results.push.b2.replyToMessage, baseline: true },
        { label: 'cim-inbox', summary: results.push.cim.replyToMessage, baseline: false },
      ],
    });
  }
  if (results.fanout)
    groups.push({
      title: 'Fan-out over two instances, POST → message',
      series: [
        { label: 'same instance', summary: results.fanout.run.within!, baseline: true },
        { label: 'across instances', summary: results.fanout.run.across!, baseline: false },
      ],
    });
  if (results.instances) {
    const { single, postgres, redis } = results.instances;
    groups.push({
      title: `Four instances, POST → message across instances (${postgres.players} sockets, ${postgres.rate}/s)`,
      series: [
        { label: 'one instance', summary: single.postToMessage, baseline: true },
        ...(redis ? [{ label: 'across, Redis', summary: redis.across!, baseline: false }] : []),
        { label: 'across, PostgreSQL', summary: postgres.across!, baseline: false },
      ],
    });
  }
  if (results.catchup)
    groups.push({
      title: 'Catch-up of 100 messages, connect → last',
      series: [{ label: 'cim-inbox', summary: results.catchup.connectToAll, baseline: false }],
    });
  return groups;
}

async function machine(databaseUrl: string): Promise<Record<string, string | number>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows: version } = await client.query<{ version: string }>('SELECT version()');
  const { rows: settings } = await client.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')`,
  );
  await client.end();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    postgres: version[0].version.split(',')[0],
    ...Object.fromEntries(settings.map((row) => [row.name, row.setting])),
    commit,
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const { quick, only, profileDir, redisUrl } = parseArgs(process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const started = performance.now();
  const server = await benchServer();
  const receiver = await startReceiver();
  const context: BenchContext = {
    quick,
    server,
    log,
    callbackUrl: receiver.url,
    callbacksReceived: () => receiver.count(),
    deliveredReceived: () => receiver.delivered(),
    profileDir,
    redisUrl,
  };
  const results: Results = {};
  const failures: Record<string, string> = {};
  let info: Record<string, string | number>;
  try {
    info = await machine(await server.createDatabase('info'));
    log(
      `cim-inbox bench (${quick ? 'quick' : 'full'}): ${info.cpu}, ${info.memory}, Node ${info.node}, ${info.postgres}, fsync ${info.fsync}, synchronous_commit ${info.synchronous_commit}`,
    );
    const run = async <K extends Scenario>(name: K, body: () => Promise<NonNullable<Results[K]>>): Promise<void> => {
      if (!only.includes(name)) return;
      const scenarioStarted = performance.now();
      log(`\n▶ ${name}`);
      try {
        results[name] = await body();
        log(`  ${name} done in ${((performance.now() - scenarioStarted) / 1000).toFixed(0)} s`);
      } catch (error) {
        failures[name] = error instanceof Error ? error.message : String(error);
        log(`  ${name} FAILED: ${failures[name]}`);
      }
    };
    await run('ingest', () => ingestScenario(context));
    await run('blast', () => blastScenario(context));
    await run('cpu', () => cpuScenario(context));
    // live push finds its own load (70 % of the app's end-to-end capacity with its sockets) and also
    // posts at a light steady rate; fan-out at the light rate, so what it compares is the crossing, not a queue
    const lightRate = quick ? 100 : 200;
    await run('push', () => pushScenario(context, lightRate));
    await run('fanout', () => fanoutScenario(context, lightRate));
    await run('catchup', () => catchUpScenario(context));
    await run('callbacks', () => callbacksScenario(context));
    await run('connections', () => connectionsScenario(context));
    await run('instances', () => instancesScenario(context));
  } finally {
    await receiver.close();
    await server.close();
  }

  const table = markdownTable(rows(results));
  const minutes = (performance.now() - started) / 60_000;
  const caption = `${quick ? 'quick' : 'full'} run, ${info.date}, ${info.cpu}, Node ${info.node}, ${info.postgres}, commit ${info.commit}`;
  process.stdout.write(`\n${table}\n\n${caption}; ${minutes.toFixed(1)} min\n`);
  for (const [name, message] of Object.entries(failures)) process.stdout.write(`scenario ${name} failed: ${message}\n`);

  const directory = join(__dirname, 'results');
  mkdirSync(directory, { recursive: true });
  const complete = only.length === SCENARIOS.length;
  // only a full run of every scenario replaces the results the README shows
  const stem = quick ? 'quick' : complete ? 'latest' : 'partial';
  writeFileSync(join(directory, `${stem}.json`), `${JSON.stringify({ mode: quick ? 'quick' : 'full', machine: info, minutes, results, failures }, null, 2)}\n`);
  writeFileSync(join(directory, `${stem}.md`), `${table}\n\n_${caption}._\n`);
  writeFileSync(join(directory, stem === 'latest' ? 'latency.svg' : `${stem}-latency.svg`), latencySvg(latencyGroups(results), caption));
  if (stem === 'latest') {
    const readmePath = join(__dirname, '..', 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    if (readme.includes(start) && readme.includes(end)) {
      const updated = `${readme.slice(0, readme.indexOf(start) + start.length)}\n${table}\n\n_${caption}._\n${readme.slice(readme.indexOf(end))}`;
      writeFileSync(readmePath, updated);
    }
  }
  if (Object.keys(failures).length > 0) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
