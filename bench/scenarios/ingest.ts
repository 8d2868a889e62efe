/**
 * Ingest: the gateway's max accepted messages/s against B1's max req/s (closed loop, `-p 1`, at 32
 * and at 50 connections), then
 * p99 ack latency of both at 70 % of B1's max rate. Each measurement runs with the other server
 * SIGSTOPped, so the two never share the CPU, and the order alternates round by round.
 */
import { Client } from 'pg';

import { customImTemplate, load, LoadResult } from '../lib/ingest-load';
import { BENCH_SECRETS, Running, startBaseline, startCim } from '../lib/servers';
import { median } from '../lib/stats';
import { alternate, BenchContext } from './context';

/** The max-throughput passes at another number of connections. */
export interface IngestThroughput {
  connections: number;
  b1PerSecond: number[];
  cimPerSecond: number[];
  throughputRatio: number;
}

export interface IngestResult {
  /** of the passes below (max throughput and latency); `alsoAt` holds the max passes at other counts */
  connections: number;
  alsoAt: IngestThroughput[];
  b1: { requestsPerSecond: number[]; p99AtRate: number[] };
  cim: { acceptedPerSecond: number[]; p99AtRate: number[]; refusedOrFailed: number };
  rate: number;
  throughputRatio: number;
  latencyRatio: number;
  latency: { b1: LoadResult['latency']; cim: LoadResult['latency'] };
}

async function countRows(url: string, table: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

export async function ingestScenario(context: BenchContext): Promise<IngestResult> {
  const rounds = context.quick ? 2 : 4;
  const seconds = context.quick ? 3 : 8;
  const warmup = context.quick ? 1 : 4;
  const connections = 50;
  const otherConnections = [32];
  const b1Url = await context.server.createDatabase('b1');
  const cimUrl = await context.server.createDatabase('ingest');
  const b1 = await startBaseline('b1-ingest.ts', { DATABASE_URL: b1Url, POOL_SIZE: '20' });
  const cim = await startCim(cimUrl, { nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`] : [] });
  const b1Target = { url: `${b1.url}/ingest`, body: customImTemplate(context.callbackUrl) };
  const cimTarget = {
    url: `${cim.url}/gateway/custom-im`,
    headers: { authorization: BENCH_SECRETS.authorization },
    body: customImTemplate(context.callbackUrl),
  };
  let refusedOrFailed = 0;

  const measure = async (server: Running, target: typeof b1Target, table: string, databaseUrl: string, rate?: number, clients = connections) => {
    server.resume();
    try {
      if (rate === undefined) await load(target, { connections: clients, seconds: warmup });
      const before = await countRows(databaseUrl, table);
      const result = await load(target, { connections: clients, seconds, rate });
      const stored = (await countRows(databaseUrl, table)) - before;
      if (result.non2xx + result.errors > 0 || stored !== result.requests)
        refusedOrFailed += result.non2xx + result.errors + Math.abs(result.requests - stored);
      return { ...result, storedPerSecond: stored / result.seconds };
    } finally {
      server.pause();
    }
  };

  try {
    b1.pause();
    cim.pause();
    const alsoAt: IngestThroughput[] = [];
    for (const clients of otherConnections) {
      context.log(`ingest: ${rounds} alternating rounds of ${seconds} s, ${clients} connections`);
      const runs = await alternate(
        rounds,
        () => measure(b1, b1Target, 'b1_messages', b1Url, undefined, clients),
        () => measure(cim, cimTarget, 'messages', cimUrl, undefined, clients),
      );
      alsoAt.push({
        connections: clients,
        b1PerSecond: runs.a.map((r) => r.storedPerSecond),
        cimPerSecond: runs.b.map((r) => r.storedPerSecond),
        throughputRatio: median(runs.b.map((r, i) => r.storedPerSecond / runs.a[i].storedPerSecond)),
      });
    }
    context.log(`ingest: ${rounds} alternating rounds of ${seconds} s, ${connections} connections`);
    const max = await alternate(
      rounds,
      () => measure(b1, b1Target, 'b1_messages', b1Url),
      () => measure(cim, cimTarget, 'messages', cimUrl),
    );
    const b1Max = median(max.a.map((r) => r.storedPerSecond));
    const rate = Math.max(10, Math.round(b1Max * 0.7));
    context.log(`ingest: B1 max ${b1Max.toFixed(0)} req/s; latency passes at ${rate} req/s`);
    const fixed = await alternate(
      rounds,
      () => measure(b1, b1Target, 'b1_messages', b1Url, rate),
      () => measure(cim, cimTarget, 'messages', cimUrl, rate),
    );
    const ratios = max.b.map((r, i) => r.storedPerSecond / max.a[i].storedPerSecond);
    const latencyRatios = fixed.b.map((r, i) => r.latency.p99 / fixed.a[i].latency.p99);
    return {
      connections,
      alsoAt,
      rate,
      b1: { requestsPerSecond: max.a.map((r) => r.storedPerSecond), p99AtRate: fixed.a.map((r) => r.latency.p99) },
      cim: { acceptedPerSecond: max.b.map((r) => r.storedPerSecond), p99AtRate: fixed.b.map((r) => r.latency.p99), refusedOrFailed },
      throughputRatio: median(ratios),
      latencyRatio: median(latencyRatios),
      latency: { b1: fixed.a[fixed.a.length - 1].latency, cim: fixed.b[fixed.b.length - 1].latency },
    };
  } finally {
    await Promise.all([b1.stop(), cim.stop()]);
  }
}
