import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema: projects and API keys, price versions, usage events (the
 * system of record) and the hourly rollup that reports read.
 *
 * The rollup is kept exactly in step with the events by writing, in the same
 * statement that inserts a batch of events, one pre-aggregated delta row per
 * (hour, dimension set) into `usage_rollup_deltas`. Deltas are append-only, so
 * concurrent batches never wait on each other's row locks and cannot deadlock.
 * A compactor folds deltas into `usage_rollup_hourly` (DELETE ... RETURNING
 * feeding an upsert, one statement: a delta is moved exactly once), and
 * `usage_rollup_live` reads both, so reports are exact at every instant.
 */
export class CreateSchema1795766400000 implements MigrationInterface {
  name = 'CreateSchema1795766400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT projects_name_key UNIQUE (name)
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        role text NOT NULL,
        project_id uuid REFERENCES projects (id),
        key_hash bytea NOT NULL,
        key_prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
        CONSTRAINT api_keys_role_check CHECK (role IN ('ingest', 'viewer', 'admin')),
        CONSTRAINT api_keys_ingest_project_check CHECK (role <> 'ingest' OR project_id IS NOT NULL)
      )`);
    await q.query(`
      CREATE TABLE price_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider text NOT NULL,
        model text NOT NULL,
        kind text NOT NULL DEFAULT 'list',
        source text NOT NULL,
        source_ref text,
        effective_from timestamptz NOT NULL,
        effective_to timestamptz,
        input_text numeric,
        cached_input_text numeric,
        input_image numeric,
        cached_input_image numeric,
        output_image numeric,
        output_text numeric,
        input numeric,
        cached_input numeric,
        output numeric,
        per_image numeric,
        per_request numeric,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT price_versions_kind_check CHECK (kind IN ('list', 'override')),
        CONSTRAINT price_versions_period_check CHECK (effective_to IS NULL OR effective_to > effective_from),
        CONSTRAINT price_versions_start_key UNIQUE (provider, model, kind, effective_from)
      )`);
    await q.query(`
      CREATE TABLE usage_events (
        project_id uuid NOT NULL REFERENCES projects (id),
        event_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        provider text NOT NULL,
        model text NOT NULL,
        operation text,
        input_text_tokens bigint NOT NULL DEFAULT 0,
        cached_input_text_tokens bigint NOT NULL DEFAULT 0,
        input_image_tokens bigint NOT NULL DEFAULT 0,
        cached_input_image_tokens bigint NOT NULL DEFAULT 0,
        output_image_tokens bigint NOT NULL DEFAULT 0,
        output_text_tokens bigint NOT NULL DEFAULT 0,
        images integer NOT NULL DEFAULT 0,
        image_size text,
        image_quality text,
        status text NOT NULL DEFAULT 'ok',
        latency_ms integer,
        team text NOT NULL DEFAULT '',
        user_id text NOT NULL DEFAULT '',
        feature text NOT NULL DEFAULT '',
        environment text NOT NULL DEFAULT '',
        tags jsonb NOT NULL DEFAULT '{}',
        cost_usd numeric,
        priced boolean NOT NULL,
        price_version_id uuid REFERENCES price_versions (id),
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT usage_events_pkey PRIMARY KEY (project_id, event_id),
        CONSTRAINT usage_events_status_check CHECK (status IN ('ok', 'error')),
        CONSTRAINT usage_events_priced_check CHECK (priced = (cost_usd IS NOT NULL))
      )`);
    // Newest-first listing across projects, with a stable tiebreak for cursors.
    await q.query(`CREATE INDEX usage_events_occurred_idx ON usage_events (occurred_at, project_id, event_id)`);
    // Finding unpriced events again when a price arrives.
    await q.query(
      `CREATE INDEX usage_events_unpriced_idx ON usage_events (provider, model, occurred_at) WHERE NOT priced`,
    );

    const rollupColumns = `
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
        cost_usd numeric NOT NULL`;
    await q.query(`
      CREATE TABLE usage_rollup_hourly (${rollupColumns},
        CONSTRAINT usage_rollup_hourly_pkey PRIMARY KEY
          (bucket, project_id, provider, model, team, user_id, feature, environment, image_size, image_quality)
      )`);
    await q.query(`CREATE TABLE usage_rollup_deltas (${rollupColumns})`);
    await q.query(`
      CREATE VIEW usage_rollup_live AS
        SELECT * FROM usage_rollup_hourly
        UNION ALL
        SELECT * FROM usage_rollup_deltas`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW usage_rollup_live`);
    await q.query(`DROP TABLE usage_rollup_deltas`);
    await q.query(`DROP TABLE usage_rollup_hourly`);
    await q.query(`DROP TABLE usage_events`);
    await q.query(`DROP TABLE price_versions`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE projects`);
  }
}
