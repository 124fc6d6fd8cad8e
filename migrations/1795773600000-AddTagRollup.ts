import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rollup per tag, so that reports can group and filter by `tag:<key>`
 * without reading raw events: the same hourly key as usage_rollup_hourly plus
 * (tag_key, tag_value), kept in step the same way (append-only deltas written
 * in the ingest statement, folded in by the compactor, read through a view).
 */
export class AddTagRollup1795773600000 implements MigrationInterface {
  name = 'AddTagRollup1795773600000';

  async up(q: QueryRunner): Promise<void> {
    const columns = `
      bucket timestamptz NOT NULL,
      project_id uuid NOT NULL,
      provider text NOT NULL,
      model text NOT NULL,
      team text NOT NULL,
      user_id text NOT NULL,
      feature text NOT NULL,
      environment text NOT NULL,
      image_size text NOT NULL,
      image_quality text NOT NULL,
      tag_key text NOT NULL,
      tag_value text NOT NULL,
      events bigint NOT NULL,
      unpriced_events bigint NOT NULL,
      error_events bigint NOT NULL,
      images bigint NOT NULL,
      input_text_tokens bigint NOT NULL,
      cached_input_text_tokens bigint NOT NULL,
      input_image_tokens bigint NOT NULL,
      cached_input_image_tokens bigint NOT NULL,
      output_image_tokens bigint NOT NULL,
      output_text_tokens bigint NOT NULL,
      cost_usd numeric NOT NULL,
      cost_ingested_usd numeric NOT NULL`;
    await q.query(`
      CREATE TABLE usage_rollup_tag_hourly (${columns},
        CONSTRAINT usage_rollup_tag_hourly_pkey PRIMARY KEY
          (bucket, project_id, provider, model, team, user_id, feature, environment, image_size, image_quality, tag_key, tag_value)
      )`);
    await q.query(`CREATE INDEX usage_rollup_tag_hourly_tag_idx ON usage_rollup_tag_hourly (tag_key, bucket)`);
    await q.query(`CREATE TABLE usage_rollup_tag_deltas (${columns})`);
    await q.query(
      `CREATE VIEW usage_rollup_tag_live AS SELECT * FROM usage_rollup_tag_hourly UNION ALL SELECT * FROM usage_rollup_tag_deltas`,
    );
    // Events stored before this migration.
    await q.query(`
      INSERT INTO usage_rollup_tag_hourly
      SELECT date_trunc('hour', e.occurred_at, 'UTC'), e.project_id, e.provider, e.model, e.team, e.user_id, e.feature, e.environment,
        coalesce(e.image_size, ''), coalesce(e.image_quality, ''), t.key, t.value,
        count(*), count(*) FILTER (WHERE NOT e.priced), count(*) FILTER (WHERE e.status = 'error'), sum(e.images),
        sum(e.input_text_tokens), sum(e.cached_input_text_tokens), sum(e.input_image_tokens),
        sum(e.cached_input_image_tokens), sum(e.output_image_tokens), sum(e.output_text_tokens),
        coalesce(sum(e.cost_usd), 0), coalesce(sum(e.cost_ingested_usd), 0)
      FROM usage_events e, jsonb_each_text(e.tags) t
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12`);
    // Reports by time across all projects read the rollup by bucket first.
    await q.query(`CREATE INDEX usage_rollup_hourly_bucket_idx ON usage_rollup_hourly (bucket)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX usage_rollup_hourly_bucket_idx`);
    await q.query(`DROP VIEW usage_rollup_tag_live`);
    await q.query(`DROP TABLE usage_rollup_tag_deltas`);
    await q.query(`DROP TABLE usage_rollup_tag_hourly`);
  }
}
