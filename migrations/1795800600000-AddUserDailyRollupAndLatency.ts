import { MigrationInterface, QueryRunner } from 'typeorm';

const FAMILIES = ['', '_tag', '_user'];
const MAIN_KEY = [
  'bucket',
  'project_id',
  'provider',
  'model',
  'team',
  'feature',
  'environment',
  'image_size',
  'image_quality',
];
const KEYS: Record<string, string[]> = {
  '': MAIN_KEY,
  _tag: [...MAIN_KEY, 'tag_key', 'tag_value'],
  _user: ['bucket', 'project_id', 'provider', 'model', 'user_id'],
};
/** The rollup measures, in column order, with the two this migration adds. */
const MEASURES = [
  'events',
  'unpriced_events',
  'error_events',
  'images',
  'input_text_tokens',
  'cached_input_text_tokens',
  'input_image_tokens',
  'cached_input_image_tokens',
  'output_image_tokens',
  'output_text_tokens',
  'cost_usd',
  'cost_ingested_usd',
  'partial_events',
  'partial_cost_usd',
  'per_image_images',
  'latency_ms_sum',
  'latency_events',
];
const USER_COLUMNS = `bucket timestamptz NOT NULL, project_id uuid NOT NULL, provider text NOT NULL, model text NOT NULL, user_id text NOT NULL,
  events bigint NOT NULL, unpriced_events bigint NOT NULL, error_events bigint NOT NULL, images bigint NOT NULL,
  input_text_tokens bigint NOT NULL, cached_input_text_tokens bigint NOT NULL, input_image_tokens bigint NOT NULL,
  cached_input_image_tokens bigint NOT NULL, output_image_tokens bigint NOT NULL, output_text_tokens bigint NOT NULL,
  cost_usd numeric NOT NULL, cost_ingested_usd numeric NOT NULL,
  partial_events bigint NOT NULL, partial_cost_usd numeric NOT NULL, per_image_images bigint NOT NULL,
  latency_ms_sum bigint NOT NULL, latency_events bigint NOT NULL`;

/** The value of a rollup key column from an event `e` (and its tag `t`). */
function keyOf(column: string): string {
  if (column === 'bucket') return `date_trunc('hour', e.occurred_at, 'UTC')`;
  if (column === 'image_size' || column === 'image_quality') return `coalesce(e.${column}, '')`;
  if (column === 'tag_key') return 't.key';
  if (column === 'tag_value') return 't.value';
  return `e.${column}`;
}

/**
 * Reports that stay fast with thousands of users, and latency (issue 12):
 *
 * - every rollup family counts `latency_ms_sum` and `latency_events` (the
 *   events that reported a latency), for the performance report; stored
 *   events give them their values here;
 * - `usage_rollup_user_daily` and `usage_rollup_user_monthly`: the user
 *   rollup by UTC day and by UTC month, folded in by the compactor from the
 *   same deltas as the hourly one (nothing is added to ingest), read with
 *   their `_live` views (the rows plus the deltas not folded yet, by their UTC
 *   day or month), so that ranking users over a range reads a row per user
 *   and month or day instead of one per user and hour;
 * - an index on the user rollup by user, for user filters and the series of
 *   the top users.
 *
 * Upgrade with every replica of the previous version stopped: one still
 * running would fold deltas into the hourly user rollup only, and ingest
 * events without their latency.
 */
export class AddUserDailyRollupAndLatency1795800600000 implements MigrationInterface {
  name = 'AddUserDailyRollupAndLatency1795800600000';

  async up(q: QueryRunner): Promise<void> {
    for (const family of FAMILIES) await q.query(`DROP VIEW usage_rollup${family}_live`);
    for (const family of FAMILIES) {
      for (const table of [`usage_rollup${family}_hourly`, `usage_rollup${family}_deltas`]) {
        await q.query(
          `ALTER TABLE ${table} ADD COLUMN latency_ms_sum bigint NOT NULL DEFAULT 0, ADD COLUMN latency_events bigint NOT NULL DEFAULT 0`,
        );
      }
      await q.query(
        `CREATE VIEW usage_rollup${family}_live AS SELECT * FROM usage_rollup${family}_hourly UNION ALL SELECT * FROM usage_rollup${family}_deltas`,
      );
    }

    // Latency of the events stored so far. The deltas hold none (the columns are new), so setting each
    // hourly row to its events' latency makes hourly + deltas exact; a key whose events are all still in
    // the deltas gets an hourly row with only its latency (every other measure 0).
    for (const family of FAMILIES) {
      const key = KEYS[family];
      const zeros = MEASURES.slice(0, -2).map(() => '0');
      await q.query(`
        INSERT INTO usage_rollup${family}_hourly AS r (${key.join(', ')}, ${MEASURES.join(', ')})
        SELECT ${key.map(keyOf).join(', ')}, ${zeros.join(', ')}, sum(e.latency_ms), count(e.latency_ms)
        FROM usage_events e${family === '_tag' ? ', jsonb_each_text(e.tags) t' : ''}
        WHERE e.latency_ms IS NOT NULL
        GROUP BY ${key.map((_, i) => i + 1).join(', ')}
        ON CONFLICT (${key.join(', ')}) DO UPDATE SET latency_ms_sum = EXCLUDED.latency_ms_sum, latency_events = EXCLUDED.latency_events`);
    }

    await q.query(`CREATE INDEX usage_rollup_user_hourly_user_idx ON usage_rollup_user_hourly (user_id, bucket)`);
    const userKey = KEYS._user.slice(1).join(', ');
    for (const grain of ['day', 'month']) {
      const table = `usage_rollup_user_${grain === 'day' ? 'daily' : 'monthly'}`;
      await q.query(
        `CREATE TABLE ${table} (${USER_COLUMNS}, CONSTRAINT ${table}_pkey PRIMARY KEY (bucket, project_id, provider, model, user_id))`,
      );
      await q.query(`
        INSERT INTO ${table} (bucket, ${userKey}, ${MEASURES.join(', ')})
        SELECT date_trunc('${grain}', bucket, 'UTC'), ${userKey}, ${MEASURES.map((m) => `sum(${m})`).join(', ')}
        FROM usage_rollup_user_hourly GROUP BY 1, ${KEYS._user
          .slice(1)
          .map((_, i) => i + 2)
          .join(', ')}`);
      // The deltas not folded yet count in their UTC day (month) until the compactor moves them into every table.
      await q.query(`
        CREATE VIEW ${table}_live AS
        SELECT * FROM ${table}
        UNION ALL
        SELECT date_trunc('${grain}', bucket, 'UTC') AS bucket, ${userKey}, ${MEASURES.join(', ')} FROM usage_rollup_user_deltas`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['usage_rollup_user_daily', 'usage_rollup_user_monthly']) {
      await q.query(`DROP VIEW ${table}_live`);
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`DROP INDEX usage_rollup_user_hourly_user_idx`);
    for (const family of FAMILIES) await q.query(`DROP VIEW usage_rollup${family}_live`);
    for (const family of FAMILIES) {
      for (const table of [`usage_rollup${family}_hourly`, `usage_rollup${family}_deltas`]) {
        await q.query(`ALTER TABLE ${table} DROP COLUMN latency_ms_sum, DROP COLUMN latency_events`);
      }
      await q.query(
        `CREATE VIEW usage_rollup${family}_live AS SELECT * FROM usage_rollup${family}_hourly UNION ALL SELECT * FROM usage_rollup${family}_deltas`,
      );
    }
  }
}
