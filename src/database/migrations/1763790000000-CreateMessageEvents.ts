import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMessageEvents1763790000000 implements MigrationInterface {
  name = 'CreateMessageEvents1763790000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // every state change of a message, written in the transaction that makes it
    await queryRunner.query(`
      CREATE TABLE message_events (
        id          bigserial   PRIMARY KEY,
        message_id  uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        event       text        NOT NULL CHECK (event IN ('delivered', 'opened', 'clicked', 'read', 'archived', 'failed', 'expired')),
        at          timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX message_events_message_idx ON message_events (message_id, id)`);
    // @socket.io/postgres-adapter keeps payloads over 8,000 bytes (NOTIFY's limit) here
    await queryRunner.query(`
      CREATE TABLE socket_io_attachments (
        id          bigserial   UNIQUE,
        created_at  timestamptz DEFAULT now(),
        payload     bytea
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE socket_io_attachments`);
    await queryRunner.query(`DROP TABLE message_events`);
  }
}
