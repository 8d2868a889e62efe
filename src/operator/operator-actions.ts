import { createHmac } from 'node:crypto';

import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

import { APP_CONFIG, AppConfig, OperatorActionsConfig } from '../config/app.config';
import type { MessageRow } from '../messages/message.table';
import { MessageEvents } from '../messages/message-events';
import { CallbackClient, ExchangeResult, parseJsonReply } from '../tracking/callback.client';
import { ActionRepository } from './action.repository';

export type ActionOutcome = { kind: 'done'; ok: boolean; message: string } | { kind: 'pending' };

// a caller that stops renewing (it died) is taken over by the next press after this long
const LEASE_MS = 30_000;
const ATTEMPT_TIMEOUT_MS = 5_000;
// past this the caller stops retrying; the row stays pending until a press takes it over
const GIVE_UP_MS = 10 * 60_000;
const POLL_MS = 100;
const MAX_MESSAGE_CHARS = 500;

type Reply = { kind: 'result'; ok: boolean; message: string } | { kind: 'retry'; why: string };

/**
 * Server-executed button actions (SPEC v2 §7): a signed POST to OPERATOR_ACTION_URL, once per (message, button) however
 * many presses, tabs and instances; retried on network errors and 5xx with the same idempotency key; the result stored
 * once and pushed to the player's tabs as `update`.
 */
@Injectable()
export class OperatorActions implements OnApplicationShutdown {
  private readonly logger = new Logger(OperatorActions.name);
  private readonly config?: OperatorActionsConfig;
  // this instance's calls under way, by message/button: presses here wait on them instead of polling
  private readonly calls = new Map<string, Promise<ActionOutcome>>();
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'operatorActions'>,
    private readonly actions: ActionRepository,
    private readonly client: CallbackClient,
    private readonly events: MessageEvents,
  ) {
    this.config = config.operatorActions;
  }

  get configured(): boolean {
    return this.config !== undefined;
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  /** The stored result, or the operator's answer within the wait (SPEC: 10 s), else pending (an `update` follows). */
  async press(row: MessageRow, button: { id: string; action: string }): Promise<ActionOutcome> {
    const config = this.config;
    if (config === undefined) throw new Error('no action handler configured');
    const deadline = Date.now() + config.waitMs;
    for (;;) {
      const call = this.calls.get(callKey(row.id, button.id)) ?? (await this.claim(config, row, button))?.call;
      if (call !== undefined) return Promise.race([call, sleep(Math.max(0, deadline - Date.now())).then((): ActionOutcome => ({ kind: 'pending' }))]);
      // another press (here or on another instance) is the caller, or it is done
      const stored = await this.actions.find(row.id, button.id);
      if (stored !== null && stored.ok !== null) return { kind: 'done', ok: stored.ok, message: stored.result_message ?? '' };
      if (Date.now() >= deadline) return { kind: 'pending' };
      await sleep(POLL_MS);
    }
  }

  /**
   * Becomes the caller when the row is new, or its caller's lease lapsed; undefined otherwise. (The call comes wrapped:
   * an async function returning a promise would wait for it.)
   */
  private async claim(
    config: OperatorActionsConfig,
    row: MessageRow,
    button: { id: string; action: string },
  ): Promise<{ call: Promise<ActionOutcome> } | undefined> {
    const idempotencyKey = await this.actions.claim(row.id, button.id, button.action, LEASE_MS);
    if (idempotencyKey === null) return undefined;
    const key = callKey(row.id, button.id);
    const call = this.call(config, row, button, idempotencyKey).finally(() => this.calls.delete(key));
    this.calls.set(key, call);
    return { call };
  }

  private async call(config: OperatorActionsConfig, row: MessageRow, button: { id: string; action: string }, idempotencyKey: string): Promise<ActionOutcome> {
    const body = JSON.stringify({
      id: row.id,
      im_uid: row.im_uid,
      brand: row.brand,
      ext_user_id: row.ext_user_id,
      button_id: button.id,
      action: button.action,
      idempotency_key: idempotencyKey,
    });
    const started = Date.now();
    for (let attempt = 1; ; attempt += 1) {
      const signedAt = Math.floor(Date.now() / 1000);
      const reply = await this.client.exchange(config.url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-cim-signature': signature(config.secret, signedAt, body) },
        timeoutMs: ATTEMPT_TIMEOUT_MS,
      });
      await this.actions
        .attempted(row.id, button.id, LEASE_MS)
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'action attempt not recorded'));
      const outcome = interpret(reply);
      if (outcome.kind === 'result') return this.store(row.id, button.id, outcome.ok, outcome.message);
      // no message ids or bodies: the action and why are enough to act on
      if (attempt === 1) this.logger.warn({ action: button.action, why: outcome.why }, 'operator action not answered; retrying');
      if (this.stopping || Date.now() - started > GIVE_UP_MS) {
        this.logger.error({ action: button.action, attempts: attempt, why: outcome.why }, 'operator action given up; the next press retries it');
        return { kind: 'pending' };
      }
      await sleep(Math.min(200 * 2 ** (attempt - 1), Date.now() - started < 10_000 ? 2_000 : 30_000));
    }
  }

  private async store(messageId: string, buttonId: string, ok: boolean, message: string): Promise<ActionOutcome> {
    const row = await this.actions.finish(messageId, buttonId, ok, message);
    if (row !== null) {
      this.events.publishChanged(row, ['actioned']);
      return { kind: 'done', ok, message };
    }
    // finished meanwhile by a caller that took the lease over: its result stands
    const stored = await this.actions.find(messageId, buttonId);
    return stored === null || stored.ok === null ? { kind: 'done', ok, message } : { kind: 'done', ok: stored.ok, message: stored.result_message ?? '' };
  }
}

/** `X-Cim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (SPEC v2 §7). */
export function signature(secret: string, signedAt: number, body: string): string {
  return `t=${signedAt},v1=${createHmac('sha256', secret).update(`${signedAt}.${body}`).digest('hex')}`;
}

/** A 2xx answers the action (its `ok`); a 4xx refuses it for good; anything else is tried again. */
function interpret(reply: ExchangeResult): Reply {
  if (reply.text !== null) {
    const answer = parseJsonReply(reply.text);
    if (typeof answer === 'object' && answer !== null && typeof (answer as { ok?: unknown }).ok === 'boolean') {
      const { ok, message } = answer as { ok: boolean; message?: unknown };
      return { kind: 'result', ok, message: typeof message === 'string' ? message.slice(0, MAX_MESSAGE_CHARS) : '' };
    }
    return { kind: 'result', ok: false, message: 'the operator answered without a boolean ok' };
  }
  const status = reply.httpStatus;
  if (status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return { kind: 'result', ok: false, message: `the operator refused the action (HTTP ${status})` };
  }
  if (reply.error?.startsWith('refused by address guard') === true) return { kind: 'result', ok: false, message: 'the action URL is not allowed' };
  return { kind: 'retry', why: reply.error ?? `http ${String(status)}` };
}

const callKey = (messageId: string, buttonId: string): string => `${messageId}/${buttonId}`;
// unref'd: a wait or a backoff never keeps a stopping process alive
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());
