import { MigrationInterface, QueryRunner } from 'typeorm';

/** Budgets: an amount per period (in a time zone) over a scope of the usage. */
export class CreateBudgets1795780800000 implements MigrationInterface {
  name = 'CreateBudgets1795780800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE budgets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        amount_usd numeric NOT NULL,
        period text NOT NULL,
        timezone text NOT NULL DEFAULT 'UTC',
        scope jsonb NOT NULL DEFAULT '{}',
        thresholds_pct integer[] NOT NULL DEFAULT '{50,80,100}',
        forecast_alert boolean NOT NULL DEFAULT true,
        webhook_ids uuid[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by uuid,
        CONSTRAINT budgets_amount_check CHECK (amount_usd > 0),
        CONSTRAINT budgets_period_check CHECK (period IN ('day', 'week', 'month', 'quarter'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE budgets`);
  }
}
