/**
 * CPU per message end to end: the CPU time one message costs, in the app's process and in the
 * bench's PostgreSQL (all its processes) separately, read from /proc (bench/lib/cpu.ts) over a
 * window that covers the whole path — gateway, push to a held socket, its ack, the `delivered`
 * callback and its record: the window closes once every message has reached its socket, every
 * `delivered` callback has reached the receiver and the outbox holds every one of them as sent.
 * Messages are posted open-loop, round-robin over the held players, at a fixed rate (500/s, quick
 * 200/s) and at the campaign blast's rate (measured here first: one message to each player,
 * 32 POSTs in flight).
 * Against the baselines' sum at the same rates, each alone on the machine:
 * - B1 (bare Fastify + pg INSERT): the same posts;
 * - B2 (bare socket.io emit): the same posts to the same number of held sockets;
 * - B3 (raw pg outbox loop): as many `delivered` rows in cim-inbox's outbox, falling due at the same
 *   rate (seeded before the window opens), drained to the same receiver.
 * With --profile, cim-inbox runs with --cpu-prof and the windows (CLOCK_MONOTONIC µs, the clock of
 * V8's profile timestamps) are written to cpu-windows.json beside the profile.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from 'pg';

import { cpuMeter } from '../lib/cpu';
import { postAtRate } from '../lib/open-loop';
import { runBaseline, Running, startBaseline, startCim } from '../lib/servers';
import { monotonicMs } from '../lib/swarm';
import { blastPass, campaignMessage, Held, holdSockets, until, warmUp } from './blast';
import { seedDeliveredCallbacks } from './callbacks';
import { BenchContext, settle } from './context';

/** CPU ms per message */
export interface CpuCost {
  app: number;
  postgres: number;
}

export interface CpuAtRate {
  rate: number;
  messages: number;
  cim: CpuCost;
  b1: CpuCost;
  b2: CpuCost;
  b3: CpuCost;
  /** B1 + B2 + B3 */
  baseline: CpuCost;
  /** (app + PostgreSQL) ÷ the baselines' (app + PostgreSQL) */
  ratio: number;
  lost: number;
}

export interface CpuResult {
  players: number;
  seconds: number;
  blastRate: number;
  rates: CpuAtRate[];
}

const perMessage = (used: { process: number; postgres: number }, messages: number): CpuCost => ({
  app: (used.process / messages) * 1000,
  postgres: (used.postgres / messages) * 1000,
});

async function count(db: Client, sql: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql);
  return rows[0].n;
}

/** Posts at `rate` for `seconds` to the held players (round-robin) and meters `pid` until `done`. */
async function meteredPosts(
  held: Held,
  rate: number,
  seconds: number,
  label: string,
  done: (messages: number) => Promise<void>,
): Promise<{ used: ReturnType<ReturnType<typeof cpuMeter>>; messages: number; lost: number; window: [number, number] }> {
  const imUids: string[] = [];
  const meter = cpuMeter(held.server.pid);
  const from = monotonicMs();
  await postAtRate({
    url: held.server.url,
    ...held.post,
    rate,
    seconds,
    body: (index) => {
      imUids[index] = `${label}-${index}`;
      return held.body(held.names[index % held.names.length], imUids[index]);
    },
  });
  await until(() => imUids.every((imUid) => held.receivedAt.has(imUid)), 30_000, 5);
  await done(imUids.length);
  const used = meter();
  return { used, messages: imUids.length, lost: imUids.filter((imUid) => !held.receivedAt.has(imUid)).length, window: [from, monotonicMs()] };
}

interface CimPart {
  blastRate: number;
  byRate: Map<number, { cost: CpuCost; messages: number; lost: number }>;
}

async function measureCim(context: BenchContext, databaseUrl: string, players: number, fixedRate: number, seconds: number): Promise<CimPart> {
  const runId = Math.random().toString(36).slice(2, 8);
  const cim = await startCim(databaseUrl, { nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`] : [] });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const windows: Array<{ label: string; fromUs: number; toUs: number }> = [];
  try {
    const held = await holdSockets(context, 'cim', cim, players, `cpu-cim-${runId}`);
    try {
      await warmUp(context, held, runId);
      const blast = await blastPass(context, held, 32, `${runId}-blast`);
      const blastRate = Math.round(blast.perSecond);
      const byRate = new Map<number, { cost: CpuCost; messages: number; lost: number }>();
      for (const rate of [fixedRate, blastRate]) {
        const delivered = context.deliveredReceived();
        const sent = await count(db, `SELECT count(*)::int AS n FROM callbacks WHERE state = 'sent'`);
        const run = await meteredPosts(held, rate, seconds, `${runId}-r${rate}`, async (messages) => {
          await until(() => context.deliveredReceived() - delivered >= messages, 60_000);
          // the callbacks' records: every one of them marked sent (asked only once all have arrived)
          for (;;) {
            if ((await count(db, `SELECT count(*)::int AS n FROM callbacks WHERE state = 'sent'`)) - sent >= messages) break;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        });
        windows.push({ label: `cim ${rate}/s`, fromUs: run.window[0] * 1000, toUs: run.window[1] * 1000 });
        const cost = perMessage(run.used, run.messages);
        byRate.set(rate, { cost, messages: run.messages, lost: run.lost });
        context.log(`  cim at ${rate}/s: app ${cost.app.toFixed(3)} ms + PostgreSQL ${cost.postgres.toFixed(3)} ms per message (lost ${run.lost})`);
        await settle(context);
      }
      return { blastRate, byRate };
    } finally {
      await held.swarm.stop();
    }
  } finally {
    await db.end();
    await cim.stop();
    if (context.profileDir) writeFileSync(join(context.profileDir, 'cpu-windows.json'), `${JSON.stringify({ pid: cim.pid, windows }, null, 2)}\n`);
  }
}

/** B2 with held sockets, then B1, at each rate. */
async function measureB1B2(context: BenchContext, players: number, rates: number[], seconds: number): Promise<{ b1: CpuCost[]; b2: CpuCost[] }> {
  const runId = Math.random().toString(36).slice(2, 8);
  const b2Costs: CpuCost[] = [];
  const b2 = await startBaseline('b2-push.ts');
  try {
    // B2 is driven as Held: its POST /emit takes the same body and pushes it to the player's room
    const held = { ...(await holdSockets(context, 'b1b2', b2, players, `cpu-b2-${runId}`)), post: { path: '/emit', headers: {} } };
    try {
      await warmUp(context, held, runId);
      for (const rate of rates) {
        const run = await meteredPosts(held, rate, seconds, `${runId}-b2-${rate}`, () => Promise.resolve());
        b2Costs.push(perMessage(run.used, run.messages));
      }
    } finally {
      await held.swarm.stop();
    }
  } finally {
    await b2.stop();
  }
  const b1Costs: CpuCost[] = [];
  const b1: Running = await startBaseline('b1-ingest.ts', { DATABASE_URL: await context.server.createDatabase('cpub1'), POOL_SIZE: '20' });
  try {
    const post = (rate: number, secs: number, label: string) => {
      let index = 0;
      return postAtRate({
        url: b1.url,
        path: '/ingest',
        rate,
        seconds: secs,
        body: () => campaignMessage(context.callbackUrl, `p-${index % players}`, `${label}-${index++}`),
      });
    };
    await post(200, 2, `${runId}-b1-warm`);
    for (const rate of rates) {
      const meter = cpuMeter(b1.pid);
      // B1 replies after its commit: the last reply closes the window
      const { sent } = await post(rate, seconds, `${runId}-b1-${rate}`);
      b1Costs.push(perMessage(meter(), sent));
    }
  } finally {
    await b1.stop();
  }
  return { b1: b1Costs, b2: b2Costs };
}

/** B3 drains `rate × seconds` delivered rows of cim-inbox's outbox that fall due at `rate`. */
async function measureB3(context: BenchContext, databaseUrl: string, rate: number, seconds: number): Promise<CpuCost> {
  const messages = Math.round(rate * seconds);
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    // cim-inbox (stopped by now) left every callback sent: these are the only pending ones
    await seedDeliveredCallbacks(db, messages, context.callbackUrl, rate, 1);
    await db.query('ANALYZE callbacks');
  } finally {
    await db.end();
  }
  const meter = cpuMeter(process.pid);
  const result = await runBaseline<{ seconds: number; cpuSeconds: number }>('b3-outbox.ts', { DATABASE_URL: databaseUrl, EXPECTED: String(messages) });
  return perMessage({ process: result.cpuSeconds, postgres: meter().postgres }, messages);
}

export async function cpuScenario(context: BenchContext): Promise<CpuResult> {
  const players = context.quick ? 1_000 : 10_000;
  const seconds = context.quick ? 3 : 10;
  const fixedRate = context.quick ? 200 : 500;
  const databaseUrl = await context.server.createDatabase('cpu');
  const cim = await measureCim(context, databaseUrl, players, fixedRate, seconds);
  const rates = [fixedRate, cim.blastRate];
  const { b1, b2 } = await measureB1B2(context, players, rates, seconds);
  const b3: CpuCost[] = [];
  for (const rate of rates) b3.push(await measureB3(context, databaseUrl, rate, seconds));
  return {
    players,
    seconds,
    blastRate: cim.blastRate,
    rates: rates.map((rate, i) => {
      const mine = cim.byRate.get(rate)!;
      const baseline = { app: b1[i].app + b2[i].app + b3[i].app, postgres: b1[i].postgres + b2[i].postgres + b3[i].postgres };
      const line = {
        rate,
        messages: mine.messages,
        cim: mine.cost,
        b1: b1[i],
        b2: b2[i],
        b3: b3[i],
        baseline,
        ratio: (mine.cost.app + mine.cost.postgres) / (baseline.app + baseline.postgres),
        lost: mine.lost,
      };
      context.log(
        `  at ${rate}/s, app + PostgreSQL ms per message: B1 ${b1[i].app.toFixed(3)} + ${b1[i].postgres.toFixed(3)}, B2 ${b2[i].app.toFixed(3)} + ${b2[i].postgres.toFixed(3)}, B3 ${b3[i].app.toFixed(3)} + ${b3[i].postgres.toFixed(3)}`,
      );
      context.log(
        `  at ${rate}/s: cim ${mine.cost.app.toFixed(3)} + ${mine.cost.postgres.toFixed(3)} ms; B1+B2+B3 ${baseline.app.toFixed(3)} + ${baseline.postgres.toFixed(3)} ms; ratio ${line.ratio.toFixed(2)}`,
      );
      return line;
    }),
  };
}
