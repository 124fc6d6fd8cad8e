import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Queryable, queryRows } from '@tokentally/db';
import type { RowStatus, Scope } from './compare';

/**
 * The statements of reconciliation: the project mapping, runs, their result
 * rows and the drift alerts, and the one read of usage it makes, the daily
 * `openai` totals from the rollups.
 */
export const RECONCILIATION_SQL = {
  listMappings: `
    SELECT openai_project_id, project_id::text AS project_id, created_at, updated_at
    FROM reconciliation_project_map ORDER BY openai_project_id`,
  /** Maps an OpenAI project (again); a TokenTally project mapped to another OpenAI project is a unique violation. */
  upsertMapping: `
    INSERT INTO reconciliation_project_map (openai_project_id, project_id) VALUES ($1, $2)
    ON CONFLICT (openai_project_id) DO UPDATE SET project_id = EXCLUDED.project_id, updated_at = now()
    RETURNING openai_project_id, project_id::text AS project_id, created_at, updated_at`,
  mappingOfProject: `SELECT openai_project_id FROM reconciliation_project_map WHERE project_id = $1`,
  deleteMapping: `DELETE FROM reconciliation_project_map WHERE openai_project_id = $1 RETURNING openai_project_id`,

  /**
   * A run that has been `running` for an hour died with its process (a run
   * takes seconds to minutes: each request has its deadline, pages are
   * bounded): it is marked failed so that nobody waits for it.
   */
  failStaleRuns: `
    UPDATE reconciliation_runs
    SET status = 'failed', finished_at = now(),
        error = 'interrupted: the process running it stopped before it finished'
    WHERE status = 'running' AND started_at < now() - interval '1 hour'`,
  /**
   * A run. A scheduled one carries the key of its day: the unique key lets
   * one replica insert it, the others get no row and skip (one run per
   * cluster, however many replicas tick).
   */
  startRun: `
    INSERT INTO reconciliation_runs (trigger, schedule_key, from_day, to_day, threshold_pct, requested_by)
    VALUES ($1, $2, $3::date, $4::date, $5::numeric, $6)
    ON CONFLICT ON CONSTRAINT reconciliation_runs_schedule_key DO NOTHING
    RETURNING id`,
  finishRun: `
    UPDATE reconciliation_runs
    SET status = 'succeeded', finished_at = now(), comparison = $2, pages_read = $3, result_rows = $4,
        drift_rows = $5, alerts_fired = $6
    WHERE id = $1`,
  failRun: `
    UPDATE reconciliation_runs SET status = 'failed', finished_at = now(), error = $2, pages_read = $3
    WHERE id = $1 AND status = 'running'`,
  run: `SELECT ${runColumns()} FROM reconciliation_runs WHERE id = $1`,
  latestRuns: `SELECT ${runColumns()} FROM reconciliation_runs ORDER BY started_at DESC, id LIMIT $1`,

  /**
   * TokenTally's `openai` usage per UTC day, project and model, from the main
   * rollup (hourly buckets, so a UTC day is whole hours): the restated cost,
   * as every report shows it.
   */
  trackedDays: `
    SELECT to_char((bucket AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, project_id::text AS project_id, model,
           sum(events)::text AS calls, sum(error_events)::text AS error_calls, sum(images)::text AS images,
           sum(input_text_tokens)::text AS input_text, sum(cached_input_text_tokens)::text AS cached_input_text,
           sum(input_image_tokens)::text AS input_image, sum(cached_input_image_tokens)::text AS cached_input_image,
           sum(output_image_tokens)::text AS output_image, sum(output_text_tokens)::text AS output_text,
           sum(cost_usd)::text AS cost_usd, sum(unpriced_events)::text AS unpriced_events,
           sum(partial_events)::text AS partial_events
    FROM usage_rollup_live
    WHERE provider = 'openai' AND bucket >= $1 AND bucket < $2
    GROUP BY 1, 2, 3`,

  /** The rows of a run, given as one JSON array (amounts as decimal strings, read by numeric's own input). */
  insertResults: `
    INSERT INTO reconciliation_results (run_id, day, row_key, scope, openai_project_id, project_id, status,
      billed_usd, other_currencies, billed_requests, billed_images, billed_tokens, tracked_usd, tracked_calls,
      tracked_error_calls, tracked_images, tracked_tokens, unpriced_events, partial_events, difference_usd, percent,
      causes, line_items, models, dedupe_key)
    SELECT $1, r.day, r.row_key, r.scope, r.openai_project_id, r.project_id, r.status, r.billed_usd,
      r.other_currencies, r.billed_requests, r.billed_images, r.billed_tokens, r.tracked_usd, r.tracked_calls,
      r.tracked_error_calls, r.tracked_images, r.tracked_tokens, r.unpriced_events, r.partial_events,
      r.difference_usd, r.percent, r.causes, r.line_items, r.models, r.dedupe_key
    FROM jsonb_to_recordset($2::jsonb) AS r(day date, row_key text, scope text, openai_project_id text,
      project_id uuid, status text, billed_usd numeric, other_currencies jsonb, billed_requests bigint,
      billed_images bigint, billed_tokens numeric, tracked_usd numeric, tracked_calls bigint,
      tracked_error_calls bigint, tracked_images bigint, tracked_tokens bigint, unpriced_events bigint,
      partial_events bigint, difference_usd numeric, percent numeric, causes jsonb, line_items jsonb, models jsonb,
      dedupe_key text)`,
  /**
   * The drift alert and its outbox event in one statement: the unique key
   * (day, row and both figures) decides, across runs and replicas, that a
   * drift fires once; a run finding other figures for the day fires again.
   */
  fireDrift: `
    WITH alert AS (
      INSERT INTO reconciliation_alerts (dedupe_key, run_id, day, event_id)
      VALUES ($1, $2, $3::date, gen_random_uuid())
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING event_id
    )
    INSERT INTO outbox_events (id, type, payload)
    SELECT event_id, 'reconciliation.drift', $4::jsonb FROM alert
    RETURNING id`,

  /**
   * Per day of the range, the newest successful run that covered it, and that
   * run's rows of the day (none: the day was reconciled and neither side had
   * anything). $3: the TokenTally projects a key may read (NULL: all); such a
   * key sees only rows of its mapped projects.
   */
  report: `
    WITH days AS (
      SELECT d::date AS day FROM generate_series($1::date, $2::date, interval '1 day') d
    ), latest AS (
      SELECT DISTINCT ON (days.day) days.day, r.id AS run_id, r.started_at, r.finished_at, r.comparison
      FROM days JOIN reconciliation_runs r ON r.status = 'succeeded' AND days.day BETWEEN r.from_day AND r.to_day
      ORDER BY days.day, r.finished_at DESC, r.id
    )
    SELECT to_char(l.day, 'YYYY-MM-DD') AS day, l.run_id::text AS run_id, l.started_at AS run_started_at,
           l.finished_at AS reconciled_at, l.comparison,
           res.row_key, res.scope, res.openai_project_id, res.project_id::text AS project_id, res.status,
           res.billed_usd::text AS billed_usd, res.other_currencies, res.billed_requests::text AS billed_requests,
           res.billed_images::text AS billed_images, res.billed_tokens::text AS billed_tokens,
           res.tracked_usd::text AS tracked_usd, res.tracked_calls::text AS tracked_calls,
           res.tracked_error_calls::text AS tracked_error_calls, res.tracked_images::text AS tracked_images,
           res.tracked_tokens::text AS tracked_tokens, res.unpriced_events::text AS unpriced_events,
           res.partial_events::text AS partial_events, res.difference_usd::text AS difference_usd,
           res.percent::text AS percent, res.causes, res.line_items, res.models,
           a.event_id::text AS alert_event_id, a.created_at AS alert_created_at
    FROM latest l
    LEFT JOIN reconciliation_results res ON res.run_id = l.run_id AND res.day = l.day
      AND ($3::uuid[] IS NULL OR (res.scope = 'project' AND res.project_id = ANY ($3::uuid[])))
    LEFT JOIN reconciliation_alerts a ON a.dedupe_key = res.dedupe_key
    ORDER BY l.day, res.row_key`,
} as const;

function runColumns(): string {
  return `id::text AS id, trigger, to_char(from_day, 'YYYY-MM-DD') AS from_day, to_char(to_day, 'YYYY-MM-DD') AS to_day,
    status, comparison, threshold_pct::text AS threshold_pct, error, pages_read, result_rows, drift_rows, alerts_fired,
    started_at, finished_at`;
}

export interface MappingRow {
  openai_project_id: string;
  project_id: string;
  created_at: Date;
  updated_at: Date;
}

export interface RunRow {
  id: string;
  trigger: 'schedule' | 'manual';
  from_day: string;
  to_day: string;
  status: 'running' | 'succeeded' | 'failed';
  comparison: 'projects' | 'organization' | null;
  threshold_pct: string;
  error: string | null;
  pages_read: number;
  result_rows: number;
  drift_rows: number;
  alerts_fired: number;
  started_at: Date;
  finished_at: Date | null;
}

/** A row of RECONCILIATION_SQL.trackedDays: sums as text (bigint and numeric, exact). */
export interface TrackedDayRow {
  day: string;
  project_id: string;
  model: string;
  calls: string;
  error_calls: string;
  images: string;
  input_text: string;
  cached_input_text: string;
  input_image: string;
  cached_input_image: string;
  output_image: string;
  output_text: string;
  cost_usd: string;
  unpriced_events: string;
  partial_events: string;
}

/** A result row as stored (numbers as decimal strings). */
export interface StoredResult {
  day: string;
  row_key: string;
  scope: Scope;
  openai_project_id: string | null;
  project_id: string | null;
  status: RowStatus;
  billed_usd: string | null;
  other_currencies: Array<{ currency: string; amount: string }>;
  billed_requests: string | null;
  billed_images: string | null;
  billed_tokens: string | null;
  tracked_usd: string | null;
  tracked_calls: string | null;
  tracked_error_calls: string | null;
  tracked_images: string | null;
  tracked_tokens: string | null;
  unpriced_events: string | null;
  partial_events: string | null;
  difference_usd: string | null;
  percent: string | null;
  causes: Array<Record<string, unknown>>;
  line_items: Array<Record<string, unknown>>;
  models: Array<Record<string, unknown>>;
  dedupe_key: string | null;
}

/** A row of RECONCILIATION_SQL.report: a covered day, with one of its rows or none (row_key null). */
export type ReportRow = { [K in keyof Omit<StoredResult, 'dedupe_key'>]: StoredResult[K] | null } & {
  day: string;
  run_id: string;
  run_started_at: Date;
  reconciled_at: Date;
  comparison: 'projects' | 'organization';
  alert_event_id: string | null;
  alert_created_at: Date | null;
};

/** Reconciliation's tables: the statements above, with typed rows. */
@Injectable()
export class ReconciliationRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Runs `work` in one transaction (a run's rows, its alerts and its status commit together). */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((manager) => work(manager));
  }

  mappings(): Promise<MappingRow[]> {
    return queryRows<MappingRow>(this.db, RECONCILIATION_SQL.listMappings);
  }

  async upsertMapping(openaiProjectId: string, projectId: string): Promise<MappingRow> {
    const [row] = await queryRows<MappingRow>(this.db, RECONCILIATION_SQL.upsertMapping, [openaiProjectId, projectId]);
    return row;
  }

  async mappingOfProject(projectId: string): Promise<string | null> {
    const [row] = await queryRows<{ openai_project_id: string }>(this.db, RECONCILIATION_SQL.mappingOfProject, [
      projectId,
    ]);
    return row?.openai_project_id ?? null;
  }

  async deleteMapping(openaiProjectId: string): Promise<boolean> {
    return (await queryRows(this.db, RECONCILIATION_SQL.deleteMapping, [openaiProjectId])).length > 0;
  }

  async failStaleRuns(): Promise<void> {
    await this.db.query(RECONCILIATION_SQL.failStaleRuns);
  }

  /** The new run's id; null when a scheduled run of the same key exists already. */
  async startRun(run: {
    trigger: 'schedule' | 'manual';
    scheduleKey: string | null;
    from: string;
    to: string;
    thresholdPct: string;
    requestedBy: string | null;
  }): Promise<string | null> {
    const [row] = await queryRows<{ id: string }>(this.db, RECONCILIATION_SQL.startRun, [
      run.trigger,
      run.scheduleKey,
      run.from,
      run.to,
      run.thresholdPct,
      run.requestedBy,
    ]);
    return row?.id ?? null;
  }

  async finishRun(
    tx: Queryable,
    id: string,
    done: { comparison: string; pages: number; rows: number; driftRows: number; alertsFired: number },
  ): Promise<void> {
    await tx.query(RECONCILIATION_SQL.finishRun, [
      id,
      done.comparison,
      done.pages,
      done.rows,
      done.driftRows,
      done.alertsFired,
    ]);
  }

  async failRun(id: string, error: string, pages: number): Promise<void> {
    await this.db.query(RECONCILIATION_SQL.failRun, [id, error.slice(0, 2000), pages]);
  }

  async run(id: string): Promise<RunRow | null> {
    const [row] = await queryRows<RunRow>(this.db, RECONCILIATION_SQL.run, [id]);
    return row ?? null;
  }

  latestRuns(limit: number): Promise<RunRow[]> {
    return queryRows<RunRow>(this.db, RECONCILIATION_SQL.latestRuns, [limit]);
  }

  trackedDays(from: Date, to: Date): Promise<TrackedDayRow[]> {
    return queryRows<TrackedDayRow>(this.db, RECONCILIATION_SQL.trackedDays, [from, to]);
  }

  async insertResults(tx: Queryable, runId: string, rows: StoredResult[]): Promise<void> {
    if (rows.length === 0) return;
    await tx.query(RECONCILIATION_SQL.insertResults, [runId, JSON.stringify(rows)]);
  }

  /** Writes the drift alert and its outbox event; false when its key has fired already. */
  async fireDrift(
    tx: Queryable,
    alert: { dedupeKey: string; runId: string; day: string; payload: Record<string, unknown> },
  ): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(tx, RECONCILIATION_SQL.fireDrift, [
      alert.dedupeKey,
      alert.runId,
      alert.day,
      JSON.stringify(alert.payload),
    ]);
    return rows.length > 0;
  }

  report(from: string, to: string, projectIds: string[] | null): Promise<ReportRow[]> {
    return queryRows<ReportRow>(this.db, RECONCILIATION_SQL.report, [from, to, projectIds]);
  }
}
