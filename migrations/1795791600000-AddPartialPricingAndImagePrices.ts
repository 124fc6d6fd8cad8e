import { MigrationInterface, QueryRunner } from 'typeorm';

const UNITS = [
  'input_text',
  'cached_input_text',
  'input_image',
  'cached_input_image',
  'output_image',
  'output_text',
  'input',
  'cached_input',
  'output',
  'per_image',
  'per_request',
];
const ROLLUP_TABLES = [
  'usage_rollup_hourly',
  'usage_rollup_deltas',
  'usage_rollup_tag_hourly',
  'usage_rollup_tag_deltas',
  'usage_rollup_user_hourly',
  'usage_rollup_user_deltas',
];
const FAMILIES = ['', '_tag', '_user'];

/**
 * Money that holds against real inputs (issue 10):
 * - price versions carry per-image prices by quality and size, and which
 *   source gave each rate;
 * - a zero that a pulled price file wrote is no price: pulled list versions
 *   lose their zero rates (LiteLLM wrote `output_cost_per_token: 0.0` on
 *   per-image models, which priced calls at $0);
 * - an event is `priced`, `partial` (some kinds have no rate: its cost is the
 *   cost of those that do) or `unpriced`; the rollups count partial events and
 *   their cost, and the images priced per image (not counted in tokens), so
 *   sums of usage can be priced again exactly.
 */
export class AddPartialPricingAndImagePrices1795791600000 implements MigrationInterface {
  name = 'AddPartialPricingAndImagePrices1795791600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE price_versions ADD COLUMN image_prices jsonb, ADD COLUMN rate_sources jsonb`);
    await q.query(`ALTER TABLE pending_prices ADD COLUMN rate_sources jsonb`);
    await q.query(`
      UPDATE price_versions SET ${UNITS.map((u) => `${u} = NULLIF(${u}, 0)`).join(', ')}
      WHERE kind = 'list' AND source IN ('litellm', 'openrouter', 'vercel') AND (${UNITS.map((u) => `${u} = 0`).join(' OR ')})`);

    await q.query(
      `ALTER TABLE usage_events ADD COLUMN pricing text NOT NULL DEFAULT 'priced', ADD COLUMN unpriced_kinds text[]`,
    );
    await q.query(`UPDATE usage_events SET pricing = 'unpriced' WHERE NOT priced`);
    await q.query(`ALTER TABLE usage_events DROP CONSTRAINT usage_events_priced_check`);
    await q.query(`
      ALTER TABLE usage_events ADD CONSTRAINT usage_events_pricing_check CHECK (
        pricing IN ('priced', 'partial', 'unpriced')
        AND priced = (pricing = 'priced')
        AND (cost_usd IS NULL) = (pricing = 'unpriced'))`);

    for (const family of FAMILIES) await q.query(`DROP VIEW usage_rollup${family}_live`);
    for (const table of ROLLUP_TABLES) {
      await q.query(`
        ALTER TABLE ${table}
          ADD COLUMN partial_events bigint NOT NULL DEFAULT 0,
          ADD COLUMN partial_cost_usd numeric NOT NULL DEFAULT 0,
          ADD COLUMN per_image_images bigint NOT NULL DEFAULT 0`);
    }
    for (const family of FAMILIES) {
      await q.query(
        `CREATE VIEW usage_rollup${family}_live AS SELECT * FROM usage_rollup${family}_hourly UNION ALL SELECT * FROM usage_rollup${family}_deltas`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const family of FAMILIES) await q.query(`DROP VIEW usage_rollup${family}_live`);
    for (const table of ROLLUP_TABLES) {
      await q.query(
        `ALTER TABLE ${table} DROP COLUMN partial_events, DROP COLUMN partial_cost_usd, DROP COLUMN per_image_images`,
      );
    }
    for (const family of FAMILIES) {
      await q.query(
        `CREATE VIEW usage_rollup${family}_live AS SELECT * FROM usage_rollup${family}_hourly UNION ALL SELECT * FROM usage_rollup${family}_deltas`,
      );
    }
    // Partial events had a cost; unpriced they would not: they go back unpriced.
    await q.query(`ALTER TABLE usage_events DROP CONSTRAINT usage_events_pricing_check`);
    await q.query(`UPDATE usage_events SET cost_usd = NULL WHERE pricing = 'partial'`);
    await q.query(
      `ALTER TABLE usage_events ADD CONSTRAINT usage_events_priced_check CHECK (priced = (cost_usd IS NOT NULL))`,
    );
    await q.query(`ALTER TABLE usage_events DROP COLUMN pricing, DROP COLUMN unpriced_kinds`);
    await q.query(`ALTER TABLE pending_prices DROP COLUMN rate_sources`);
    await q.query(`ALTER TABLE price_versions DROP COLUMN image_prices, DROP COLUMN rate_sources`);
  }
}
