import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCallbacks1763800000000 implements MigrationInterface {
  name = 'CreateCallbacks1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // the transactional outbox of status callbacks to Smartico: one row per (message, status)
    await queryRunner.query(`
      CREATE TABLE callbacks (
        id               bigserial   PRIMARY KEY,
        message_id       uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        status           text        NOT NULL CHECK (status IN ('delivered', 'opened', 'clicked', 'failed')),
        funnel_rank      smallint    NOT NULL,
        state            text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
        attempts         integer     NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT now(),
        -- retries stop 24 h (configurable) after this; a re-queue of a dead callback restarts it
        window_started_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        locked_until     timestamptz,
        sent_at          timestamptz,
        last_error       text,
        CONSTRAINT callbacks_message_status_key UNIQUE (message_id, status)
      )`);
    // the dispatcher's queue, read in order
    await queryRunner.query(`CREATE INDEX callbacks_due_idx ON callbacks (next_attempt_at, id) WHERE state = 'pending'`);
    await queryRunner.query(`CREATE INDEX callbacks_dead_idx ON callbacks (message_id) WHERE state = 'dead'`);
    await queryRunner.query(`
      CREATE TABLE callback_attempts (
        id            bigserial   PRIMARY KEY,
        callback_id   bigint      NOT NULL REFERENCES callbacks (id) ON DELETE CASCADE,
        attempted_at  timestamptz NOT NULL,
        http_status   integer,
        error         text,
        duration_ms   integer     NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX callback_attempts_callback_idx ON callback_attempts (callback_id, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE callback_attempts`);
    await queryRunner.query(`DROP TABLE callbacks`);
  }
}
