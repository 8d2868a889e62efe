import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMessages1763780000000 implements MigrationInterface {
  name = 'CreateMessages1763780000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE messages (
        id            uuid        PRIMARY KEY,
        gateway_id    text        NOT NULL,
        im_uid        text        NOT NULL,
        ext_user_id   text        NOT NULL,
        body          text        NOT NULL,
        callback_url  text        NOT NULL,
        extension     jsonb,
        display       text        NOT NULL DEFAULT 'both' CHECK (display IN ('popup', 'inbox', 'both')),
        priority      text        NOT NULL DEFAULT 'normal' CHECK (priority IN ('high', 'normal')),
        category      text,
        expires_at    timestamptz,
        created_at    timestamptz NOT NULL DEFAULT now(),
        delivered_at  timestamptz,
        opened_at     timestamptz,
        clicked_at    timestamptz,
        read_at       timestamptz,
        archived_at   timestamptz,
        failed_at     timestamptz,
        CONSTRAINT messages_gateway_im_uid_key UNIQUE (gateway_id, im_uid)
      )`);
    // a player's inbox, newest first (keyset pagination on created_at, id)
    await queryRunner.query(`CREATE INDEX messages_player_inbox_idx ON messages (ext_user_id, created_at DESC, id DESC)`);
    // a player's undelivered messages, oldest first (catch-up on connect)
    await queryRunner.query(
      `CREATE INDEX messages_player_undelivered_idx ON messages (ext_user_id, created_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL`,
    );
    // unread counts
    await queryRunner.query(
      `CREATE INDEX messages_player_unread_idx ON messages (ext_user_id) WHERE read_at IS NULL AND archived_at IS NULL AND display <> 'popup'`,
    );
    // expiry sweeps
    await queryRunner.query(
      `CREATE INDEX messages_expiring_idx ON messages (expires_at) WHERE expires_at IS NOT NULL AND delivered_at IS NULL AND failed_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE messages`);
  }
}
