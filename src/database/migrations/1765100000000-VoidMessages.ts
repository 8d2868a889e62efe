import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Voiding (SPEC v2 §7): the operator takes a message back. Safe while a previous release still serves: the new columns
 * are nullable (metadata-only), and the previous release never reads or writes them; it would still show a voided
 * message, so roll every instance forward before voiding.
 */
export class VoidMessages1765100000000 implements MigrationInterface {
  name = 'VoidMessages1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN voided_at timestamptz`);
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN void_reason text`);
    // extension.group, read at ingest: what the operator voids "every message of" at once (indexed by 1765100000001)
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN group_key text`);
    // widened, so every existing row satisfies it: NOT VALID spares a scan of the whole table under the lock
    await queryRunner.query(`ALTER TABLE message_events DROP CONSTRAINT message_events_event_check`);
    await queryRunner.query(
      `ALTER TABLE message_events ADD CONSTRAINT message_events_event_check
         CHECK (event IN ('delivered', 'opened', 'clicked', 'read', 'archived', 'failed', 'expired', 'voided')) NOT VALID`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM message_events WHERE event = 'voided'`);
    await queryRunner.query(`ALTER TABLE message_events DROP CONSTRAINT message_events_event_check`);
    await queryRunner.query(
      `ALTER TABLE message_events ADD CONSTRAINT message_events_event_check
         CHECK (event IN ('delivered', 'opened', 'clicked', 'read', 'archived', 'failed', 'expired'))`,
    );
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN group_key`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN void_reason`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN voided_at`);
  }
}
