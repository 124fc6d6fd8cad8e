import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation of tracked spend with OpenAI's own bill (issue 16, part 1;
 * docs/reconciliation.md):
 *
 * - `reconciliation_project_map`: which TokenTally project each OpenAI
 *   project is (one to one: a TokenTally project's spend cannot be split
 *   between two OpenAI projects);
 * - `reconciliation_runs`: each run, scheduled or asked for, with its days,
 *   status and error. `schedule_key` is unique: the daily job's run of a day
 *   is inserted once, so one replica runs it however many tick;
 * - `reconciliation_results`: per run, UTC day and row (an OpenAI project, the
 *   organization, or one side unmapped) the billed and tracked figures, the
 *   exact difference and the named causes. Money is `numeric`; the line items
 *   keep the bill's amounts as exact decimal strings in jsonb;
 * - `reconciliation_alerts`: one row per drift that fired a
 *   `reconciliation.drift` event, keyed by the day, the row and its two
 *   figures, so a run that finds the same drift again fires nothing. It and
 *   its outbox event are written by one statement (the foreign key is
 *   deferred, as for `alerts`).
 */
export class AddReconciliation1795815000000 implements MigrationInterface {
  name = 'AddReconciliation1795815000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE reconciliation_project_map (
        openai_project_id text PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT reconciliation_project_map_project_key UNIQUE (project_id)
      )`);
    await q.query(`
      CREATE TABLE reconciliation_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        trigger text NOT NULL,
        schedule_key text,
        from_day date NOT NULL,
        to_day date NOT NULL,
        status text NOT NULL DEFAULT 'running',
        comparison text,
        threshold_pct numeric NOT NULL,
        error text,
        pages_read integer NOT NULL DEFAULT 0,
        result_rows integer NOT NULL DEFAULT 0,
        drift_rows integer NOT NULL DEFAULT 0,
        alerts_fired integer NOT NULL DEFAULT 0,
        requested_by uuid,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT reconciliation_runs_trigger_check CHECK (trigger IN ('schedule', 'manual')),
        CONSTRAINT reconciliation_runs_status_check CHECK (status IN ('running', 'succeeded', 'failed')),
        CONSTRAINT reconciliation_runs_comparison_check CHECK (comparison IN ('projects', 'organization')),
        CONSTRAINT reconciliation_runs_days_check CHECK (to_day >= from_day),
        CONSTRAINT reconciliation_runs_schedule_key UNIQUE (schedule_key)
      )`);
    await q.query(`CREATE INDEX reconciliation_runs_started_idx ON reconciliation_runs (started_at DESC)`);
    // The report reads the newest successful run covering each day.
    await q.query(
      `CREATE INDEX reconciliation_runs_succeeded_idx ON reconciliation_runs (finished_at DESC) WHERE status = 'succeeded'`,
    );
    // project_id has no foreign key: the results are history, kept as they were found.
    await q.query(`
      CREATE TABLE reconciliation_results (
        run_id uuid NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
        day date NOT NULL,
        row_key text NOT NULL,
        scope text NOT NULL,
        openai_project_id text,
        project_id uuid,
        status text NOT NULL,
        billed_usd numeric,
        other_currencies jsonb NOT NULL DEFAULT '[]',
        billed_requests bigint,
        billed_images bigint,
        billed_tokens numeric,
        tracked_usd numeric,
        tracked_calls bigint,
        tracked_error_calls bigint,
        tracked_images bigint,
        tracked_tokens bigint,
        unpriced_events bigint,
        partial_events bigint,
        difference_usd numeric,
        percent numeric,
        causes jsonb NOT NULL DEFAULT '[]',
        line_items jsonb NOT NULL DEFAULT '[]',
        models jsonb NOT NULL DEFAULT '[]',
        dedupe_key text,
        CONSTRAINT reconciliation_results_pkey PRIMARY KEY (run_id, day, row_key),
        CONSTRAINT reconciliation_results_scope_check CHECK (
          scope IN ('project', 'organization', 'unmapped_openai_project', 'unmapped_tracked_project')),
        CONSTRAINT reconciliation_results_status_check CHECK (
          status IN ('match', 'within_threshold', 'drift', 'not_comparable', 'unmapped'))
      )`);
    await q.query(`
      CREATE TABLE reconciliation_alerts (
        dedupe_key text PRIMARY KEY,
        run_id uuid NOT NULL,
        day date NOT NULL,
        event_id uuid NOT NULL REFERENCES outbox_events (id) DEFERRABLE INITIALLY DEFERRED,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reconciliation_alerts`);
    await q.query(`DROP TABLE reconciliation_results`);
    await q.query(`DROP TABLE reconciliation_runs`);
    await q.query(`DROP TABLE reconciliation_project_map`);
  }
}
