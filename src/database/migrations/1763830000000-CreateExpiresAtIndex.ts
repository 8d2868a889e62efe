import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateExpiresAtIndex1763830000000 implements MigrationInterface {
  name = 'CreateExpiresAtIndex1763830000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // the expiry sweep's walk over messages that expired since its last pass, delivered ones
    // included (messages_expiring_idx covers only the undelivered)
    await queryRunner.query(`CREATE INDEX messages_expires_at_idx ON messages (expires_at, id) WHERE expires_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX messages_expires_at_idx`);
  }
}
