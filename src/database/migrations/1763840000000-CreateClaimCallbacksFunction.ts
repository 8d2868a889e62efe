import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateClaimCallbacksFunction1763840000000 implements MigrationInterface {
  name = 'CreateClaimCallbacksFunction1763840000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The dispatcher's claim (OutboxRepository.claimDue explains the query) as a function: one round
    // trip instead of a four-statement transaction, a plan PL/pgSQL keeps for the session, and
    // the queue index forced by the function's own settings, whatever the table's statistics say
    // (unanalyzed, the planner bitmap-scanned and sorted every pending row on each claim).
    await queryRunner.query(`
      CREATE FUNCTION cim_claim_callbacks(batch integer, lease_ms integer)
        RETURNS TABLE (id text, message_id uuid, status text, attempts integer, window_started_at timestamptz, callback_url text, gateway_id text)
        LANGUAGE plpgsql
        SET enable_bitmapscan = off
        SET enable_seqscan = off
      AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        WITH due AS (
          SELECT c.id FROM callbacks c
           WHERE c.state = 'pending' AND c.next_attempt_at <= now()
             AND (c.locked_until IS NULL OR c.locked_until < now())
             AND NOT EXISTS (
                   SELECT 1 FROM callbacks earlier
                    WHERE earlier.message_id = c.message_id AND earlier.state NOT IN ('sent', 'dead') AND earlier.funnel_rank < c.funnel_rank
                   OFFSET 0)
           ORDER BY c.next_attempt_at, c.id
           LIMIT batch
           FOR UPDATE OF c SKIP LOCKED
        )
        UPDATE callbacks c
           SET locked_until = now() + lease_ms * interval '1 millisecond', attempts = c.attempts + 1
          FROM due, messages m
         WHERE c.id = due.id AND m.id = c.message_id
        RETURNING c.id::text, c.message_id, c.status, c.attempts, c.window_started_at, m.callback_url, m.gateway_id;
      END
      $$`);
    // a claim changes only unindexed columns: with room left on each page its new row version
    // stays on the page (a HOT update) and no index is touched
    await queryRunner.query(`ALTER TABLE callbacks SET (fillfactor = 70)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE callbacks RESET (fillfactor)`);
    await queryRunner.query(`DROP FUNCTION cim_claim_callbacks(integer, integer)`);
  }
}
