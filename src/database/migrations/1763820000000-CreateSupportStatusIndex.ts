import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSupportStatusIndex1763820000000 implements MigrationInterface {
  name = 'CreateSupportStatusIndex1763820000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // support search by furthest status, newest first: without it a rare status (accepted, failed)
    // walks messages_created_idx over most of the table. The expression must stay identical to
    // FURTHEST_STATUS_SQL in src/support/support.repository.ts (written out here: migrations are frozen).
    await queryRunner.query(`
      CREATE INDEX messages_status_created_idx ON messages (
        (CASE WHEN clicked_at IS NOT NULL THEN 'clicked'
              WHEN opened_at IS NOT NULL THEN 'opened'
              WHEN delivered_at IS NOT NULL THEN 'delivered'
              WHEN failed_at IS NOT NULL THEN 'failed'
              ELSE 'accepted' END),
        created_at DESC, id DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX messages_status_created_idx`);
  }
}
