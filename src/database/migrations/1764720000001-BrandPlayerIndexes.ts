import { MigrationInterface, QueryRunner } from 'typeorm';

const INDEXES = [
  ['messages_player_inbox_idx', 'messages_brand_player_inbox_idx', `(ext_user_id, brand, created_at DESC, id DESC)`],
  [
    'messages_player_undelivered_idx',
    'messages_brand_player_undelivered_idx',
    `(ext_user_id, brand, created_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL`,
  ],
  [
    'messages_player_unread_idx',
    'messages_brand_player_unread_idx',
    `(ext_user_id, brand) WHERE read_at IS NULL AND archived_at IS NULL AND display <> 'popup'`,
  ],
] as const;

/**
 * The player indexes gain the brand. Built CONCURRENTLY, so an instance of the previous release keeps writing while
 * they build (its queries, by ext_user_id alone, use them by prefix); a build cut short leaves an invalid index,
 * dropped and rebuilt on the next try.
 */
export class BrandPlayerIndexes1764720000001 implements MigrationInterface {
  name = 'BrandPlayerIndexes1764720000001';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await withoutStatementTimeout(queryRunner, async () => {
      for (const [old, name, definition] of INDEXES) {
        await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
        await queryRunner.query(`CREATE INDEX CONCURRENTLY ${name} ON messages ${definition}`);
        await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${old}`);
      }
    });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const previous = [
      `(ext_user_id, created_at DESC, id DESC)`,
      `(ext_user_id, created_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL`,
      `(ext_user_id) WHERE read_at IS NULL AND archived_at IS NULL AND display <> 'popup'`,
    ];
    await withoutStatementTimeout(queryRunner, async () => {
      for (const [index, [old, name]] of INDEXES.entries()) {
        await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${old} ON messages ${previous[index]}`);
        await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
      }
    });
  }
}

// the pool's statement_timeout (15 s) is for requests; an index over a large table takes longer
async function withoutStatementTimeout(queryRunner: QueryRunner, work: () => Promise<void>): Promise<void> {
  await queryRunner.query(`SET statement_timeout = 0`);
  try {
    await work();
  } finally {
    await queryRunner.query(`RESET statement_timeout`);
  }
}
