import { Client } from 'pg';

import type { FakeSmarticoServer } from '../../utils/fake-smartico.server';
import { CallbackCrashLog, CallbackKeyFacts, DEFAULT_CALLBACK_CONCURRENCY, REACHED_RECEIVER_SQL } from './callback-crashes';
import type { KilledSender } from './process-sockets';

const SMARTICO_STATUSES = new Set(['delivered', 'opened', 'clicked', 'failed']);

export interface AcceptedReply {
  gatewayId: string;
  imUid: string;
  player: string;
  extMessageId: string;
}

export interface PushRecord {
  player: string;
  /** one id per socket connection: the server promises each message once per connection */
  connection: string;
  messageId: string;
}

export interface ReconcileOptions {
  /** every accepted message of these players must have been pushed to them and be delivered in the database */
  deliveredTo?: Iterable<string>;
  /** every callback row must be `sent` and have reached a watched receiver */
  drained?: boolean;
  /** the gateways' api keys, checked on every callback received */
  apiKeys?: Record<string, string>;
}

/** What went wrong; every list empty means the clients were told nothing the database contradicts. */
export interface LedgerProblems {
  /** answered error_code 0, but no such message stored */
  lost: string[];
  /** stored, but under another gateway, im_uid or player than the reply was for */
  mismatched: string[];
  /** one accepted (gateway, im_uid) stored in more than one row */
  storedTwice: string[];
  /** one (gateway, im_uid) answered with two different ext_message_ids */
  conflictingIds: string[];
  /** a push of a message that is not stored, or not this player's */
  strayPushes: string[];
  /** the same message twice on one connection */
  duplicatePushes: string[];
  /** accepted for a watched player, but never pushed, or pushed and not delivered in the database */
  undelivered: string[];
  /** a callback the database has no status for, an unknown status, or a wrong api_key */
  untrueCallbacks: string[];
  /** (ext_message_id, status) received more often than failed attempts and the crashes it straddles explain, or a crash that lost more than the dispatcher allows */
  unexplainedDuplicateCallbacks: string[];
  /** callback rows not `sent` when a drain was expected */
  undrained: string[];
  /** recorded as sent, but no watched receiver ever got it */
  sentNotReceived: string[];
  /** a callback row with no matching message event, or a status event with no callback row */
  statusesDisagree: string[];
}

export interface LedgerFigures {
  accepted: number;
  pushes: number;
  /** pushes of a message already pushed on an earlier connection (unacked, sent again on reconnect) */
  redelivered: number;
  callbacksReceived: number;
  /** extra receptions of an (ext_message_id, status), explained by failed attempts or crashes */
  duplicateCallbacks: number;
  /** of those, receptions the database holds no attempt for (lost to a crash between send and record) */
  unrecordedCallbacks: number;
  /** per crash, the (ext_message_id, status) it caught sent and not yet recorded */
  lostPerCrash: number[];
}

export interface LedgerReport {
  problems: Partial<LedgerProblems>;
  figures: LedgerFigures;
}

/**
 * What the clients were told — every gateway reply with error_code 0, every socket `message`, every
 * callback a fake Smartico received — reconciled against the database: any loss or unexplained
 * duplicate is a problem. Record as the test runs; call `reconcile` once the system has settled.
 */
export class Ledger {
  readonly accepted: AcceptedReply[] = [];
  readonly pushes: PushRecord[] = [];
  private readonly receivers: FakeSmarticoServer[] = [];
  private readonly crashes: CallbackCrashLog;

  /** `callbackConcurrency`: the app's CALLBACK_CONCURRENCY, which bounds what one crash may duplicate. */
  constructor(options: { callbackConcurrency?: number } = {}) {
    this.crashes = new CallbackCrashLog(options.callbackConcurrency ?? DEFAULT_CALLBACK_CONCURRENCY);
  }

  /** Records a gateway reply; only error_code 0 is a promise. Returns whether it was accepted. */
  recordReply(request: { gatewayId: string; im_uid: unknown; ext_user_id: unknown }, reply: Record<string, unknown>): boolean {
    if (reply.error_code !== 0) return false;
    this.accepted.push({
      gatewayId: request.gatewayId,
      imUid: String(request.im_uid),
      player: String(request.ext_user_id),
      extMessageId: String(reply.ext_message_id),
    });
    return true;
  }

  recordPush(player: string, connection: string, messageId: string): void {
    this.pushes.push({ player, connection, messageId });
  }

  /** Every request this fake Smartico receives counts as a callback Smartico was told. */
  watchReceiver(receiver: FakeSmarticoServer): void {
    this.receivers.push(receiver);
  }

  /**
   * A sender was killed: a callback it had sent and not recorded may be sent again. Call once the
   * killed process has exited, while no other sender runs, and before it is restarted: what it sent
   * is read off the receivers' sockets first, then the database's records are read.
   *
   * With `killed` (from `killSender`), other senders keep running (several instances): the killed
   * one's connections to each receiver are told apart by their local ports, and only what came over
   * them can be the crash's loss.
   */
  async noteCrash(db: Client, killed?: KilledSender): Promise<void> {
    if (killed === undefined) {
      for (const receiver of this.receivers) await receiver.waitForNoConnections();
      await this.crashes.noteCrash(db);
      return;
    }
    const sentByKilled = new Set<string>();
    for (const receiver of this.receivers) {
      const connections = await receiver.waitForClosedFrom(killed.portsTo.get(receiver.port) ?? new Set(), killed.at);
      for (const request of receiver.requests)
        if (connections.has(request.connectionId)) sentByKilled.add(`${request.query.ext_message_id}/${request.query.status}`);
    }
    await this.crashes.noteCrash(db, sentByKilled);
  }

  acceptedIds(): string[] {
    return this.accepted.map((reply) => reply.extMessageId);
  }

  async reconcile(db: Client, options: ReconcileOptions = {}): Promise<LedgerReport> {
    const problems: LedgerProblems = {
      lost: [],
      mismatched: [],
      storedTwice: [],
      conflictingIds: [],
      strayPushes: [],
      duplicatePushes: [],
      undelivered: [],
      untrueCallbacks: [],
      unexplainedDuplicateCallbacks: [],
      undrained: [],
      sentNotReceived: [],
      statusesDisagree: [],
    };

    const stored = new Map<string, { gateway_id: string; im_uid: string; ext_user_id: string; delivered: boolean }>();
    const ids = [
      ...new Set([...this.acceptedIds(), ...this.pushes.map((push) => push.messageId), ...this.received().map((r) => r.query.ext_message_id ?? '')]),
    ].filter(isUuid);
    const rows = await db.query<{ id: string; gateway_id: string; im_uid: string; ext_user_id: string; delivered: boolean }>(
      `SELECT id, gateway_id, im_uid, ext_user_id, delivered_at IS NOT NULL AS delivered FROM messages WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    for (const row of rows.rows) stored.set(row.id, row);

    // what the gateway promised
    const idByUid = new Map<string, string>();
    for (const reply of this.accepted) {
      const row = stored.get(reply.extMessageId);
      if (!row) problems.lost.push(`${reply.imUid} → ${reply.extMessageId}`);
      else if (row.gateway_id !== reply.gatewayId || row.im_uid !== reply.imUid || row.ext_user_id !== reply.player)
        problems.mismatched.push(reply.extMessageId);
      const key = `${reply.gatewayId}/${reply.imUid}`;
      const earlier = idByUid.get(key);
      if (earlier !== undefined && earlier !== reply.extMessageId) problems.conflictingIds.push(key);
      idByUid.set(key, reply.extMessageId);
    }

    const twice = await db.query<{ key: string; n: number }>(
      `SELECT gateway_id || '/' || im_uid AS key, count(*)::int AS n FROM messages WHERE im_uid = ANY($1::text[]) GROUP BY gateway_id, im_uid HAVING count(*) > 1`,
      [[...new Set(this.accepted.map((reply) => reply.imUid))]],
    );
    const acceptedKeys = new Set(this.accepted.map((reply) => `${reply.gatewayId}/${reply.imUid}`));
    problems.storedTwice.push(...twice.rows.filter((row) => acceptedKeys.has(row.key)).map((row) => `${row.key} × ${row.n}`));

    // what the players were pushed
    const perConnection = new Set<string>();
    const everPushed = new Map<string, Set<string>>();
    let redelivered = 0;
    for (const push of this.pushes) {
      const row = stored.get(push.messageId);
      if (!row || row.ext_user_id !== push.player) problems.strayPushes.push(`${push.player}: ${push.messageId}`);
      const key = `${push.connection}/${push.messageId}`;
      if (perConnection.has(key)) problems.duplicatePushes.push(`${push.player} on ${push.connection}: ${push.messageId}`);
      perConnection.add(key);
      const connections = everPushed.get(push.messageId) ?? new Set<string>();
      if (connections.size > 0 && !connections.has(push.connection)) redelivered += 1;
      connections.add(push.connection);
      everPushed.set(push.messageId, connections);
    }
    const watched = new Set(options.deliveredTo ?? []);
    for (const reply of this.accepted) {
      if (!watched.has(reply.player)) continue;
      if (!everPushed.has(reply.extMessageId)) problems.undelivered.push(`${reply.player}: ${reply.extMessageId} never pushed`);
      else if (stored.get(reply.extMessageId)?.delivered === false)
        problems.undelivered.push(`${reply.player}: ${reply.extMessageId} pushed, not delivered in the database`);
    }

    // what Smartico was told, against the outbox and its recorded attempts
    const outbox = await db.query<{
      message_id: string;
      status: string;
      state: string;
      gateway_id: string;
      attempts: number;
      failed: number;
      succeeded: number;
    }>(
      `SELECT c.message_id, c.status, c.state, m.gateway_id,
              (SELECT count(*) FROM callback_attempts a WHERE a.callback_id = c.id AND ${REACHED_RECEIVER_SQL})::int AS attempts,
              -- failed attempts that reached the receiver (it answered, or hung or reset after accepting)
              (SELECT count(*) FROM callback_attempts a WHERE a.callback_id = c.id AND a.error IS NOT NULL AND ${REACHED_RECEIVER_SQL})::int AS failed,
              (SELECT count(*) FROM callback_attempts a WHERE a.callback_id = c.id AND a.error IS NULL)::int AS succeeded
         FROM callbacks c JOIN messages m ON m.id = c.message_id
        WHERE c.message_id = ANY($1::uuid[]) OR $2`,
      [ids, options.drained === true],
    );
    const rowsByKey = new Map<string, { state: string; gateway_id: string; attempts: number; failed: number; succeeded: number }>();
    for (const row of outbox.rows) rowsByKey.set(`${row.message_id}/${row.status}`, row);
    const receptions = new Map<string, CallbackKeyFacts>();
    for (const request of this.received()) {
      const { ext_message_id: id, status, api_key: apiKey, type } = request.query;
      const key = `${id}/${status}`;
      const row = rowsByKey.get(key);
      if (!SMARTICO_STATUSES.has(status) || type !== 'cim' || row === undefined) problems.untrueCallbacks.push(`${key}: no such status in the outbox`);
      else if (options.apiKeys && options.apiKeys[row.gateway_id] !== apiKey) problems.untrueCallbacks.push(`${key}: wrong api_key`);
      if (row === undefined) continue;
      const facts = receptions.get(key) ?? { receivedAt: [], attempts: row.attempts, failed: row.failed, succeeded: row.succeeded };
      facts.receivedAt.push(request.at.getTime());
      receptions.set(key, facts);
    }
    const judgement = this.crashes.judge(receptions);
    problems.unexplainedDuplicateCallbacks.push(...judgement.problems);
    if (options.drained) {
      for (const [key, row] of rowsByKey) {
        if (row.state !== 'sent') problems.undrained.push(`${key}: ${row.state}`);
        else if (!receptions.has(key) && this.receivers.length > 0) problems.sentNotReceived.push(key);
      }
    }

    // every status in the outbox is a state change that happened, and every such change is in the outbox
    const disagree = await db.query<{ problem: string }>(
      `SELECT c.message_id || '/' || c.status || ': callback without event' AS problem FROM callbacks c
        WHERE c.message_id = ANY($1::uuid[])
          AND NOT EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = c.message_id AND e.event = c.status)
       UNION ALL
       SELECT e.message_id || '/' || e.event || ': event without callback' FROM message_events e
        WHERE e.message_id = ANY($1::uuid[]) AND e.event IN ('delivered', 'opened', 'clicked', 'failed')
          AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.message_id = e.message_id AND c.status = e.event)`,
      [ids],
    );
    problems.statusesDisagree.push(...disagree.rows.map((row) => String(row.problem)));

    const nonEmpty = Object.fromEntries(
      (Object.entries(problems) as Array<[string, string[]]>)
        .filter(([, list]) => list.length > 0)
        .map(([name, list]) => [name, list.slice(0, 20).concat(list.length > 20 ? [`… ${list.length - 20} more`] : [])]),
    );
    return {
      problems: nonEmpty,
      figures: {
        accepted: this.accepted.length,
        pushes: this.pushes.length,
        redelivered,
        callbacksReceived: this.received().length,
        duplicateCallbacks: judgement.duplicates,
        unrecordedCallbacks: judgement.unrecorded,
        lostPerCrash: judgement.lostPerCrash,
      },
    };
  }

  private received(): Array<{ at: Date; query: Record<string, string> }> {
    return this.receivers.flatMap((receiver) => receiver.requests);
  }
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
