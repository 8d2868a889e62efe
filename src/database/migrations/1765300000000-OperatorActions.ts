import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Server-executed button actions (SPEC v2 §7). One row per (message, button): its primary key is what makes concurrent
 * presses on every instance call the operator once; the press that inserts it (or takes it over once the caller's lease
 * has lapsed) calls, with the row's idempotency_key on every retry.
 */
export class OperatorActions1765300000000 implements MigrationInterface {
  name = 'OperatorActions1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE message_actions (
        message_id      uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        button_id       text        NOT NULL,
        action          text        NOT NULL,
        idempotency_key uuid        NOT NULL,
        attempts        integer     NOT NULL DEFAULT 0,
        ok              boolean,
        result_message  text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        locked_until    timestamptz,
        finished_at     timestamptz,
        PRIMARY KEY (message_id, button_id)
      )`);
    // the last action's result, as the view shows it: { button_id, ok, message, at }
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN action_result jsonb`);
    // widened: every existing row satisfies it, so NOT VALID spares a scan of the whole table under the lock
    await queryRunner.query(`ALTER TABLE message_events DROP CONSTRAINT message_events_event_check`);
    await queryRunner.query(
      `ALTER TABLE message_events ADD CONSTRAINT message_events_event_check
         CHECK (event IN ('delivered', 'opened', 'clicked', 'read', 'archived', 'failed', 'expired', 'voided', 'suppressed', 'rejected', 'actioned')) NOT VALID`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM message_events WHERE event = 'actioned'`);
    await queryRunner.query(`ALTER TABLE message_events DROP CONSTRAINT message_events_event_check`);
    await queryRunner.query(
      `ALTER TABLE message_events ADD CONSTRAINT message_events_event_check
         CHECK (event IN ('delivered', 'opened', 'clicked', 'read', 'archived', 'failed', 'expired', 'voided', 'suppressed', 'rejected'))`,
    );
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN action_result`);
    await queryRunner.query(`DROP TABLE message_actions`);
  }
}
