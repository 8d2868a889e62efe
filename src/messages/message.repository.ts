import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { MessageDisplay, MessagePriority } from './message-fields';

export interface NewMessage {
  id: string;
  gatewayId: string;
  imUid: string;
  extUserId: string;
  body: string;
  callbackUrl: string;
  extension: Record<string, unknown> | null;
  display: MessageDisplay;
  priority: MessagePriority;
  category: string | null;
  expiresAt: Date | null;
}

export type InsertOutcome =
  | { kind: 'created'; id: string; createdAt: Date }
  | { kind: 'replay'; id: string }
  | { kind: 'conflict'; id: string };

@Injectable()
export class MessageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores a new message, or recognises a replay of one already accepted under the same
   * (gateway, im_uid). The common path is one statement; a conflicting insert waits for the
   * other transaction and then reads the committed row, so concurrent replays agree on one id.
   */
  async insertOrFind(message: NewMessage): Promise<InsertOutcome> {
    const extension = message.extension === null ? null : JSON.stringify(message.extension);
    const inserted: Array<{ id: string; created_at: Date }> = await this.dataSource.query(
      `INSERT INTO messages (id, gateway_id, im_uid, ext_user_id, body, callback_url, extension, display, priority, category, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)
       ON CONFLICT (gateway_id, im_uid) DO NOTHING
       RETURNING id, created_at`,
      [
        message.id,
        message.gatewayId,
        message.imUid,
        message.extUserId,
        message.body,
        message.callbackUrl,
        extension,
        message.display,
        message.priority,
        message.category,
        message.expiresAt,
      ],
    );
    if (inserted.length === 1) return { kind: 'created', id: inserted[0].id, createdAt: inserted[0].created_at };

    // jsonb equality ignores key order and whitespace, as SPEC §2 asks of a replay
    const existing: Array<{ id: string; same: boolean }> = await this.dataSource.query(
      `SELECT id,
              (ext_user_id = $3 AND body = $4 AND callback_url = $5 AND extension IS NOT DISTINCT FROM $6::jsonb) AS same
         FROM messages
        WHERE gateway_id = $1 AND im_uid = $2`,
      [message.gatewayId, message.imUid, message.extUserId, message.body, message.callbackUrl, extension],
    );
    if (existing.length === 0) throw new Error('insert conflicted but no row was found');
    return existing[0].same ? { kind: 'replay', id: existing[0].id } : { kind: 'conflict', id: existing[0].id };
  }
}
