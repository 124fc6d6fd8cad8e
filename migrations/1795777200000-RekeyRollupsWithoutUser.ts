import { MigrationInterface, QueryRunner } from 'typeorm';

const MEASURES = `events bigint NOT NULL, unpriced_events bigint NOT NULL, error_events bigint NOT NULL, images bigint NOT NULL,
  input_text_tokens bigint NOT NULL, cached_input_text_tokens bigint NOT NULL, input_image_tokens bigint NOT NULL,
  cached_input_image_tokens bigint NOT NULL, output_image_tokens bigint NOT NULL, output_text_tokens bigint NOT NULL,
  cost_usd numeric NOT NULL, cost_ingested_usd numeric NOT NULL`;
const SUMS = `sum(events), sum(unpriced_events), sum(error_events), sum(images), sum(input_text_tokens), sum(cached_input_text_tokens),
  sum(input_image_tokens), sum(cached_input_image_tokens), sum(output_image_tokens), sum(output_text_tokens), sum(cost_usd), sum(cost_ingested_usd)`;
const EVENT_SUMS = `count(*), count(*) FILTER (WHERE NOT priced), count(*) FILTER (WHERE status = 'error'), sum(images),
  sum(input_text_tokens), sum(cached_input_text_tokens), sum(input_image_tokens), sum(cached_input_image_tokens),
  sum(output_image_tokens), sum(output_text_tokens), coalesce(sum(cost_usd), 0), coalesce(sum(cost_ingested_usd), 0)`;

const MAIN_KEY = 'bucket, project_id, provider, model, team, feature, environment, image_size, image_quality';
const TAG_KEY = `${MAIN_KEY}, tag_key, tag_value`;
const USER_KEY = 'bucket, project_id, provider, model, user_id';

/**
 * The user dimension made the hourly rollup nearly as large as the events
 * (thousands of users an hour): it leaves the main and tag rollups and gets a
 * rollup of its own, keyed by hour, project, provider, model and user.
 */
export class RekeyRollupsWithoutUser1795777200000 implements MigrationInterface {
  name = 'RekeyRollupsWithoutUser1795777200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW usage_rollup_live`);
    await q.query(`DROP VIEW usage_rollup_tag_live`);
    await this.rekey(
      q,
      'usage_rollup_hourly',
      'usage_rollup_deltas',
      MAIN_KEY,
      `bucket timestamptz NOT NULL, project_id uuid NOT NULL, provider text NOT NULL, model text NOT NULL, team text NOT NULL, feature text NOT NULL, environment text NOT NULL, image_size text NOT NULL, image_quality text NOT NULL`,
    );
    await this.rekey(
      q,
      'usage_rollup_tag_hourly',
      'usage_rollup_tag_deltas',
      TAG_KEY,
      `bucket timestamptz NOT NULL, project_id uuid NOT NULL, provider text NOT NULL, model text NOT NULL, team text NOT NULL, feature text NOT NULL, environment text NOT NULL, image_size text NOT NULL, image_quality text NOT NULL, tag_key text NOT NULL, tag_value text NOT NULL`,
    );
    await q.query(`CREATE INDEX usage_rollup_hourly_bucket_idx ON usage_rollup_hourly (bucket)`);
    await q.query(`CREATE INDEX usage_rollup_tag_hourly_tag_idx ON usage_rollup_tag_hourly (tag_key, bucket)`);

    const userColumns = `bucket timestamptz NOT NULL, project_id uuid NOT NULL, provider text NOT NULL, model text NOT NULL, user_id text NOT NULL, ${MEASURES}`;
    await q.query(
      `CREATE TABLE usage_rollup_user_hourly (${userColumns}, CONSTRAINT usage_rollup_user_hourly_pkey PRIMARY KEY (${USER_KEY}))`,
    );
    await q.query(`CREATE INDEX usage_rollup_user_hourly_bucket_idx ON usage_rollup_user_hourly (bucket)`);
    await q.query(`CREATE TABLE usage_rollup_user_deltas (${userColumns})`);
    await q.query(`
      INSERT INTO usage_rollup_user_hourly
      SELECT date_trunc('hour', occurred_at, 'UTC'), project_id, provider, model, user_id, ${EVENT_SUMS}
      FROM usage_events GROUP BY 1, 2, 3, 4, 5`);

    for (const family of ['', '_tag', '_user']) {
      await q.query(
        `CREATE VIEW usage_rollup${family}_live AS SELECT * FROM usage_rollup${family}_hourly UNION ALL SELECT * FROM usage_rollup${family}_deltas`,
      );
    }
  }

  /** Rebuilds a rollup family with a narrower key, summing what it held. */
  private async rekey(q: QueryRunner, hourly: string, deltas: string, key: string, keyColumns: string): Promise<void> {
    await q.query(
      `CREATE TABLE ${hourly}_new (${keyColumns}, ${MEASURES}, CONSTRAINT ${hourly}_new_pkey PRIMARY KEY (${key}))`,
    );
    await q.query(`
      INSERT INTO ${hourly}_new
      SELECT ${key}, ${SUMS} FROM (SELECT * FROM ${hourly} UNION ALL SELECT * FROM ${deltas}) old GROUP BY ${key}`);
    await q.query(`DROP TABLE ${hourly}`);
    await q.query(`DROP TABLE ${deltas}`);
    await q.query(`ALTER TABLE ${hourly}_new RENAME TO ${hourly}`);
    await q.query(`ALTER TABLE ${hourly} RENAME CONSTRAINT ${hourly}_new_pkey TO ${hourly}_pkey`);
    await q.query(`CREATE TABLE ${deltas} (${keyColumns}, ${MEASURES})`);
  }

  async down(): Promise<void> {
    // The user dimension cannot be put back into the narrower rollups; rebuild from usage_events instead.
    throw new Error('RekeyRollupsWithoutUser cannot be reverted; restore a backup taken before it');
  }
}
