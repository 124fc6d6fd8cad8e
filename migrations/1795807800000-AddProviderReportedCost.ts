import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The cost a provider reports for a call itself (OpenRouter's `usage.cost`),
 * kept beside TokenTally's own `cost_usd` so reports can show the difference
 * (issue 15). Null for the calls of providers that report none. The partial
 * index serves the provider-cost report, which reads only such events: they
 * are a small share of all events, and the rollups do not carry this figure.
 */
export class AddProviderReportedCost1795807800000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_events ADD COLUMN provider_cost_usd numeric`);
    await q.query(
      `CREATE INDEX usage_events_provider_cost_idx ON usage_events (project_id, occurred_at)
       WHERE provider_cost_usd IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX usage_events_provider_cost_idx`);
    await q.query(`ALTER TABLE usage_events DROP COLUMN provider_cost_usd`);
  }
}
