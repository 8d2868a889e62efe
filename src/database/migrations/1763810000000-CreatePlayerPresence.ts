import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePlayerPresence1763810000000 implements MigrationInterface {
  name = 'CreatePlayerPresence1763810000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // when each player last had a socket open (support: "last seen online")
    await queryRunner.query(`
      CREATE TABLE player_presence (
        ext_user_id   text        PRIMARY KEY,
        last_seen_at  timestamptz NOT NULL
      )`);
    // support search by status and time range
    await queryRunner.query(`CREATE INDEX messages_created_idx ON messages (created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX messages_im_uid_idx ON messages (im_uid)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX messages_im_uid_idx`);
    await queryRunner.query(`DROP INDEX messages_created_idx`);
    await queryRunner.query(`DROP TABLE player_presence`);
  }
}
