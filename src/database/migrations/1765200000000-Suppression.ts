import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Responsible-gambling suppression (SPEC v2 §7). A player's state lives in player_suppressions; a message it hides gets
 * suppressed_at, for good. `cim_suppression_at()` is what the gateway's insert asks for each message: it takes the
 * player's advisory lock in shared mode, so a suppression being set (which holds it exclusively) is either seen by the
 * insert or sees the inserted message; being VOLATILE, its query reads with a snapshot taken after the lock is held.
 */
export class Suppression1765200000000 implements MigrationInterface {
  name = 'Suppression1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE player_suppressions (
        brand       text        NOT NULL,
        ext_user_id text        NOT NULL,
        suppression text        NOT NULL CHECK (suppression IN ('none', 'cooling_off', 'self_excluded')),
        until       timestamptz,
        set_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (brand, ext_user_id)
      )`);
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN suppressed_at timestamptz`);
    // widened checks: every existing row satisfies them, so NOT VALID spares a scan of the whole table under the lock
    await queryRunner.query(`ALTER TABLE message_events DROP CONSTRAINT message_events_event_check`);
    await queryRunner.query(
      `ALTER TABLE message_events ADD CONSTRAINT message_events_event_check
         CHECK (event IN ('delivered', 'opened', 'clicked', 'read', 'archived', 'failed', 'expired', 'voided', 'suppressed', 'rejected')) NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE callbacks DROP CONSTRAINT callbacks_status_check`);
    await queryRunner.query(
      `ALTER TABLE callbacks ADD CONSTRAINT callbacks_status_check CHECK (status IN ('delivered', 'opened', 'clicked', 'failed', 'rejected')) NOT VALID`,
    );
    await queryRunner.query(`
      CREATE FUNCTION cim_player_lock_key(p_brand text, p_player text) RETURNS bigint
        LANGUAGE sql IMMUTABLE
      AS $$ SELECT hashtextextended(p_brand || '/' || p_player, 7265) $$`);
    await queryRunner.query(`
      CREATE FUNCTION cim_suppression_at(p_brand text, p_player text, p_category text, p_exempt text[])
        RETURNS timestamptz
        LANGUAGE plpgsql VOLATILE
      AS $$
      BEGIN
        IF p_category IS NOT NULL AND p_category = ANY(p_exempt) THEN
          RETURN NULL;
        END IF;
        PERFORM pg_advisory_xact_lock_shared(cim_player_lock_key(p_brand, p_player));
        IF EXISTS (SELECT 1 FROM player_suppressions
                    WHERE brand = p_brand AND ext_user_id = p_player AND suppression <> 'none' AND (until IS NULL OR until > now())) THEN
          RETURN now();
        END IF;
        RETURN NULL;
      END
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION cim_suppression_at(text, text, text, text[])`);
    await queryRunner.query(`DROP FUNCTION cim_player_lock_key(text, text)`);
    await queryRunner.query(`DELETE FROM callbacks WHERE status = 'rejected'`);
    await queryRunner.query(`ALTER TABLE callbacks DROP CONSTRAINT callbacks_status_check`);
    await queryRunner.query(`ALTER TABLE callbacks ADD CONSTRAINT callbacks_status_check CHECK (status IN ('delivered', 'opened', 'clicked', 'failed'))`);
    await queryRunner.query(`DELETE FROM message_events WHERE event IN ('suppressed', 'rejected')`);
    await queryRunner.query(`ALTER TABLE message_events DROP CONSTRAINT message_events_event_check`);
    await queryRunner.query(
      `ALTER TABLE message_events ADD CONSTRAINT message_events_event_check
         CHECK (event IN ('delivered', 'opened', 'clicked', 'read', 'archived', 'failed', 'expired', 'voided'))`,
    );
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN suppressed_at`);
    await queryRunner.query(`DROP TABLE player_suppressions`);
  }
}
