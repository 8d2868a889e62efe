import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Favourites, rich bodies, popup arbitration and button presses (SPEC v2 §2, §3). Safe while a previous release still
 * serves: every column is nullable or has a constant default (metadata-only, no rewrite), and the previous release's
 * inserts, which name none of them, get the defaults.
 */
export class InboxFeatures1765000000000 implements MigrationInterface {
  name = 'InboxFeatures1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN starred_at timestamptz`);
    // extension.body_html as sanitized at ingest: the raw value never leaves the server in a view
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN body_html text`);
    // false: accepted over POPUP_MAX_PER_HOUR, so never shown as a popup
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN popup_allowed boolean NOT NULL DEFAULT true`);
    // which button a `clicked` came from
    await queryRunner.query(`ALTER TABLE message_events ADD COLUMN button_id text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE message_events DROP COLUMN button_id`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN popup_allowed`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN body_html`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN starred_at`);
  }
}
