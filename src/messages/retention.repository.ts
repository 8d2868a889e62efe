import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Deletes history past MESSAGE_RETENTION_DAYS (SPEC v2 §6), a small batch at a time. */
@Injectable()
export class RetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The oldest messages created more than `days` ago, at most `limit`, with their events, callbacks, attempts and
   * actions (the foreign keys cascade); never one whose status callback is still pending. Returns how many.
   */
  async deleteOlderThan(days: number, limit: number): Promise<number> {
    // TypeORM answers a DELETE with [rows, rowCount]
    const [rows]: [Array<{ id: string }>, number] = await this.dataSource.query(
      `WITH doomed AS (
         SELECT m.id FROM messages m
          WHERE m.created_at < now() - $1 * interval '1 day'
            AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.message_id = m.id AND c.state = 'pending')
          ORDER BY m.created_at, m.id
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       )
       DELETE FROM messages WHERE id IN (SELECT id FROM doomed)
       RETURNING id`,
      [days, limit],
    );
    return rows.length;
  }

  /** Seconds since the oldest stored message was created; 0 when there is none. */
  async oldestAgeSeconds(): Promise<number> {
    const rows: Array<{ age: number | null }> = await this.dataSource.query(`SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM messages`);
    return rows[0].age ?? 0;
  }
}
