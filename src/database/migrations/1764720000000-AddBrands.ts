import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A player becomes (brand, ext_user_id). Safe while a previous release still serves: every statement is
 * metadata-only or touches a small table, and the previous release's inserts (which name no brand) are
 * given their gateway's brand by a trigger. The gateway → brand map comes from the configuration at boot
 * (src/database/brand-backfill.ts), which also moves existing rows of a non-default brand.
 */
export class AddBrands1764720000000 implements MigrationInterface {
  name = 'AddBrands1764720000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE gateway_brands (
        gateway_id    text        PRIMARY KEY,
        brand         text        NOT NULL,
        backfilled    boolean     NOT NULL DEFAULT false,
        recorded_at   timestamptz NOT NULL DEFAULT now()
      )`);
    // existing rows read 'default' without a rewrite; new rows must name their brand (or get it from the trigger)
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN brand text NOT NULL DEFAULT 'default'`);
    await queryRunner.query(`ALTER TABLE messages ALTER COLUMN brand DROP DEFAULT`);
    await queryRunner.query(`
      CREATE FUNCTION cim_message_brand() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.brand := COALESCE((SELECT brand FROM gateway_brands WHERE gateway_id = NEW.gateway_id), 'default');
        RETURN NEW;
      END $$`);
    // fires only for an insert that names no brand (the previous release's): this release always names it
    await queryRunner.query(`
      CREATE TRIGGER messages_brand_from_gateway BEFORE INSERT ON messages
        FOR EACH ROW WHEN (NEW.brand IS NULL) EXECUTE FUNCTION cim_message_brand()`);
    await queryRunner.query(`ALTER TABLE player_presence ADD COLUMN brand text NOT NULL DEFAULT 'default'`);
    await queryRunner.query(`ALTER TABLE player_presence DROP CONSTRAINT player_presence_pkey, ADD PRIMARY KEY (brand, ext_user_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM player_presence WHERE brand <> 'default'`);
    await queryRunner.query(`ALTER TABLE player_presence DROP CONSTRAINT player_presence_pkey, ADD PRIMARY KEY (ext_user_id)`);
    await queryRunner.query(`ALTER TABLE player_presence DROP COLUMN brand`);
    await queryRunner.query(`DROP TRIGGER messages_brand_from_gateway ON messages`);
    await queryRunner.query(`DROP FUNCTION cim_message_brand()`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN brand`);
    await queryRunner.query(`DROP TABLE gateway_brands`);
  }
}
