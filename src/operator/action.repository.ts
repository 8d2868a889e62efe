import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { MessageRow, messageTable } from '../messages/message.table';
import { MessageActionRow, messageActionTable } from './message-action.table';

const COLUMNS = messageTable.list();
const ACTION_COLUMNS = messageActionTable.list();

/**
 * The once-per-(message, button) record of server-executed actions. Whoever inserts the row (the primary key decides
 * among concurrent presses on every instance), or takes it over once its caller's lease has lapsed, is the one caller.
 */
@Injectable()
export class ActionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The idempotency key when this press is to call the operator; null when another caller has it, or it is done. */
  async claim(messageId: string, buttonId: string, action: string, leaseMs: number): Promise<string | null> {
    const rows: Array<{ idempotency_key: string }> = await this.dataSource.query(
      `INSERT INTO message_actions (message_id, button_id, action, idempotency_key, locked_until)
       VALUES ($1, $2, $3, gen_random_uuid(), now() + $4 * interval '1 millisecond')
       ON CONFLICT (message_id, button_id) DO UPDATE SET locked_until = EXCLUDED.locked_until
        WHERE message_actions.ok IS NULL AND message_actions.locked_until < now()
       RETURNING idempotency_key`,
      [messageId, buttonId, action, leaseMs],
    );
    return rows[0]?.idempotency_key ?? null;
  }

  /** One more attempt, and the lease pushed on while the caller keeps trying. */
  async attempted(messageId: string, buttonId: string, leaseMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE message_actions SET attempts = attempts + 1, locked_until = now() + $3 * interval '1 millisecond'
        WHERE message_id = $1 AND button_id = $2 AND ok IS NULL`,
      [messageId, buttonId, leaseMs],
    );
  }

  find(messageId: string, buttonId: string): Promise<MessageActionRow | null> {
    return this.dataSource
      .query(`SELECT ${ACTION_COLUMNS} FROM message_actions WHERE message_id = $1 AND button_id = $2`, [messageId, buttonId])
      .then((rows: MessageActionRow[]) => rows[0] ?? null);
  }

  /** Stores the result once (a second finish changes nothing: null), with the message's action_result and an `actioned` event. */
  async finish(messageId: string, buttonId: string, ok: boolean, message: string): Promise<MessageRow | null> {
    const rows: MessageRow[] = await this.dataSource.query(
      `WITH finished AS (
         UPDATE message_actions SET ok = $3, result_message = $4, finished_at = now(), locked_until = NULL
          WHERE message_id = $1 AND button_id = $2 AND ok IS NULL
          RETURNING message_id, button_id, ok, result_message, finished_at
       ), shown AS (
         UPDATE messages m SET action_result = jsonb_build_object('button_id', f.button_id, 'ok', f.ok, 'message', f.result_message, 'at', f.finished_at)
           FROM finished f WHERE m.id = f.message_id
         RETURNING m.*
       ), recorded AS (
         INSERT INTO message_events (message_id, event, at, button_id) SELECT message_id, 'actioned', finished_at, button_id FROM finished
       )
       SELECT ${COLUMNS} FROM shown`,
      [messageId, buttonId, ok, message],
    );
    return rows[0] ?? null;
  }
}
