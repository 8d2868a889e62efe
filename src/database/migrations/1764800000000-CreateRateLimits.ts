import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateRateLimits1764800000000 implements MigrationInterface {
  name = 'CreateRateLimits1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // rate-limiter-flexible's RateLimiterPostgres counters (src/limits): its INSERT is positional, so the column order
    // is its own; expire is epoch milliseconds. UNLOGGED: counters need no WAL, and a crash only resets them.
    await queryRunner.query(`
      CREATE UNLOGGED TABLE rate_limits (
        key     text    PRIMARY KEY,
        points  integer NOT NULL DEFAULT 0,
        expire  bigint
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE rate_limits`);
  }
}
