import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Voids by group (SPEC v2 §7) find their messages by this index. Built CONCURRENTLY, so the gateway keeps writing while
 * it builds; a build cut short leaves an invalid index, dropped and rebuilt on the next try.
 */
export class GroupIndex1765100000001 implements MigrationInterface {
  name = 'GroupIndex1765100000001';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // the pool's statement_timeout (15 s) is for requests; an index over a large table takes longer
    await queryRunner.query(`SET statement_timeout = 0`);
    try {
      await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_brand_group_idx`);
      await queryRunner.query(`CREATE INDEX CONCURRENTLY messages_brand_group_idx ON messages (brand, group_key) WHERE group_key IS NOT NULL`);
    } finally {
      await queryRunner.query(`RESET statement_timeout`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_brand_group_idx`);
  }
}
