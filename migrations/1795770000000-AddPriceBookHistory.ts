import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The price book over time: pricing runs, pending (held) price changes,
 * provider discounts, restatements, the as-ingested cost beside the restated
 * one, the models first seen without a price, and the domain-event outbox.
 */
export class AddPriceBookHistory1795770000000 implements MigrationInterface {
  name = 'AddPriceBookHistory1795770000000';

  async up(q: QueryRunner): Promise<void> {
    // Overrides (negotiated prices) and provider-wide discounts live beside list prices.
    await q.query(`ALTER TABLE price_versions DROP CONSTRAINT price_versions_kind_check`);
    await q.query(
      `ALTER TABLE price_versions ADD CONSTRAINT price_versions_kind_check CHECK (kind IN ('list', 'override', 'discount'))`,
    );
    await q.query(`ALTER TABLE price_versions ADD COLUMN discount_pct numeric`);
    await q.query(`ALTER TABLE price_versions ADD COLUMN created_by uuid`);
    await q.query(`ALTER TABLE price_versions ADD COLUMN run_id uuid`);
    await q.query(`
      ALTER TABLE price_versions ADD CONSTRAINT price_versions_discount_check
        CHECK ((kind = 'discount') = (discount_pct IS NOT NULL) AND (discount_pct IS NULL OR (discount_pct > 0 AND discount_pct < 100)))`);

    await q.query(`
      CREATE TABLE pricing_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        trigger text NOT NULL,
        status text NOT NULL DEFAULT 'running',
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        sources jsonb NOT NULL DEFAULT '[]',
        prices_changed integer NOT NULL DEFAULT 0,
        prices_pending integer NOT NULL DEFAULT 0,
        triggered_by uuid,
        CONSTRAINT pricing_runs_status_check CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'abandoned'))
      )`);
    // One run at a time across every replica: a second start finds this row and joins it.
    await q.query(`CREATE UNIQUE INDEX pricing_runs_one_running ON pricing_runs ((true)) WHERE status = 'running'`);
    await q.query(`CREATE INDEX pricing_runs_started_idx ON pricing_runs (started_at DESC)`);

    await q.query(`
      CREATE TABLE pending_prices (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider text NOT NULL,
        model text NOT NULL,
        source text NOT NULL,
        source_ref text,
        run_id uuid REFERENCES pricing_runs (id),
        current_version_id uuid REFERENCES price_versions (id),
        prices jsonb NOT NULL,
        reasons jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        created_at timestamptz NOT NULL DEFAULT now(),
        decided_at timestamptz,
        decided_by uuid,
        version_id uuid REFERENCES price_versions (id),
        CONSTRAINT pending_prices_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'superseded'))
      )`);

    await q.query(`
      CREATE TABLE restatements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        reason text NOT NULL,
        requested_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        range_from timestamptz,
        range_to timestamptz,
        provider text,
        model text,
        events_examined integer NOT NULL,
        events_changed integer NOT NULL,
        total_before_usd numeric NOT NULL,
        total_after_usd numeric NOT NULL,
        CONSTRAINT restatements_reason_check CHECK (reason IN ('new_price', 'manual'))
      )`);

    await q.query(`
      CREATE TABLE unpriced_models (
        provider text NOT NULL,
        model text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT unpriced_models_pkey PRIMARY KEY (provider, model)
      )`);

    await q.query(`
      CREATE TABLE outbox_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX outbox_events_created_idx ON outbox_events (created_at)`);

    // The cost given at ingest, kept beside the (possibly restated) cost_usd.
    await q.query(`ALTER TABLE usage_events ADD COLUMN cost_ingested_usd numeric`);
    await q.query(`UPDATE usage_events SET cost_ingested_usd = cost_usd`);
    await q.query(`DROP VIEW usage_rollup_live`);
    for (const table of ['usage_rollup_hourly', 'usage_rollup_deltas']) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN cost_ingested_usd numeric NOT NULL DEFAULT 0`);
      await q.query(`UPDATE ${table} SET cost_ingested_usd = cost_usd`);
    }
    await q.query(`
      CREATE VIEW usage_rollup_live AS
        SELECT * FROM usage_rollup_hourly
        UNION ALL
        SELECT * FROM usage_rollup_deltas`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW usage_rollup_live`);
    for (const table of ['usage_rollup_hourly', 'usage_rollup_deltas']) {
      await q.query(`ALTER TABLE ${table} DROP COLUMN cost_ingested_usd`);
    }
    await q.query(
      `CREATE VIEW usage_rollup_live AS SELECT * FROM usage_rollup_hourly UNION ALL SELECT * FROM usage_rollup_deltas`,
    );
    await q.query(`ALTER TABLE usage_events DROP COLUMN cost_ingested_usd`);
    await q.query(`DROP TABLE outbox_events`);
    await q.query(`DROP TABLE unpriced_models`);
    await q.query(`DROP TABLE restatements`);
    await q.query(`DROP TABLE pending_prices`);
    await q.query(`DROP TABLE pricing_runs`);
    await q.query(`DELETE FROM price_versions WHERE kind = 'discount'`);
    await q.query(`ALTER TABLE price_versions DROP CONSTRAINT price_versions_discount_check`);
    await q.query(`ALTER TABLE price_versions DROP COLUMN run_id`);
    await q.query(`ALTER TABLE price_versions DROP COLUMN created_by`);
    await q.query(`ALTER TABLE price_versions DROP COLUMN discount_pct`);
    await q.query(`ALTER TABLE price_versions DROP CONSTRAINT price_versions_kind_check`);
    await q.query(
      `ALTER TABLE price_versions ADD CONSTRAINT price_versions_kind_check CHECK (kind IN ('list', 'override'))`,
    );
  }
}
