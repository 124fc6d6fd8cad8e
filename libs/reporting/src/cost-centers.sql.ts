import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Queryable, queryRows } from '@tokentally/db';

/**
 * Cost centers, their dated assignments, and the chargeback of a month
 * (docs/finance.md, "Cost centers and chargeback"), in one place.
 */

/**
 * The assignment that charges a (day, project, team) to a cost center: valid
 * that UTC day, the most specific first (a team within a project, then a team
 * in any project, then a project), the newest among equals.
 */
const ASSIGNMENT_OF = (day: string, project: string, team: string) => `
  SELECT a.cost_center_id FROM cost_center_assignments a
  WHERE a.valid_from <= ${day} AND (a.valid_to IS NULL OR a.valid_to > ${day})
    AND ((a.project_id = ${project} AND a.team = ${team})
      OR (a.project_id IS NULL AND a.team = ${team})
      OR (a.project_id = ${project} AND a.team IS NULL))
  ORDER BY (a.project_id IS NOT NULL AND a.team IS NOT NULL) DESC, (a.team IS NOT NULL) DESC, a.created_at DESC, a.id
  LIMIT 1`;

const CENTER_COLUMNS = `id, name, code, created_at`;
const ASSIGNMENT_COLUMNS = `id, cost_center_id, project_id, team, valid_from::text AS valid_from,
  valid_to::text AS valid_to, created_at`;

export const COST_CENTERS_SQL = {
  insertCenter: `INSERT INTO cost_centers (name, code) VALUES ($1, $2) RETURNING ${CENTER_COLUMNS}`,
  centers: `SELECT ${CENTER_COLUMNS} FROM cost_centers ORDER BY name`,
  center: `SELECT ${CENTER_COLUMNS} FROM cost_centers WHERE id = $1`,
  assignments: `SELECT ${ASSIGNMENT_COLUMNS} FROM cost_center_assignments ORDER BY valid_from, created_at, id`,
  /** Assignments of the same target (project, team) whose dates overlap [$3, $4) (null $4: no end). */
  overlapping: `
    SELECT ${ASSIGNMENT_COLUMNS} FROM cost_center_assignments
    WHERE project_id IS NOT DISTINCT FROM $1::uuid AND team IS NOT DISTINCT FROM $2::text
      AND (valid_to IS NULL OR valid_to > $3::date) AND ($4::date IS NULL OR valid_from < $4::date)
      AND ($5::uuid IS NULL OR id <> $5::uuid)`,
  insertAssignment: `
    INSERT INTO cost_center_assignments (cost_center_id, project_id, team, valid_from, valid_to)
    VALUES ($1, $2, $3, $4::date, $5::date)
    RETURNING ${ASSIGNMENT_COLUMNS}`,
  assignment: `SELECT ${ASSIGNMENT_COLUMNS} FROM cost_center_assignments WHERE id = $1 AND cost_center_id = $2`,
  deleteAssignment: `DELETE FROM cost_center_assignments WHERE id = $1 RETURNING id`,
  endAssignment: `UPDATE cost_center_assignments SET valid_to = $2::date WHERE id = $1 RETURNING ${ASSIGNMENT_COLUMNS}`,
  /**
   * The closed months (docs/finance.md) that the days [$1, $2) overlap ($2 null: no end). Read in the transaction
   * that changes an assignment: it holds closed_periods' shared lock, so a close waits for it, and a close in
   * progress is waited for and then seen.
   */
  closedMonthsOverlapping: `
    SELECT to_char(month, 'YYYY-MM') AS month FROM closed_periods
    WHERE month + interval '1 month' > $1::date AND ($2::date IS NULL OR month < $2::date)
    ORDER BY month`,
  projectExists: `SELECT 1 FROM projects WHERE id = $1`,
  /** Serializes assignment writes, so two overlapping ones cannot both pass the check. */
  assignmentLock: `SELECT pg_advisory_xact_lock(7291010)`,

  /**
   * The chargeback of [$1, $2) (UTC): the main rollup summed by UTC day, project, team, provider and model,
   * each day's rows charged to the cost center assigned that day, then summed by cost center. Every rollup row
   * of the range is in exactly one output row, so the rows add up to the range's spend to the digit. `$3`: the
   * projects to keep (null: all).
   */
  chargeback: (cost: 'cost_usd' | 'cost_ingested_usd') => `
    WITH daily AS (
      SELECT date_trunc('day', bucket, 'UTC')::date AS day, project_id, team, provider, model,
        sum(input_text_tokens) AS input_text_tokens, sum(cached_input_text_tokens) AS cached_input_text_tokens,
        sum(input_image_tokens) AS input_image_tokens, sum(cached_input_image_tokens) AS cached_input_image_tokens,
        sum(output_image_tokens) AS output_image_tokens, sum(output_text_tokens) AS output_text_tokens,
        sum(images) AS images, sum(events) AS events, sum(unpriced_events) AS unpriced_events,
        sum(partial_events) AS partial_events, sum(${cost}) AS cost
      FROM usage_rollup_live
      WHERE bucket >= $1 AND bucket < $2 AND ($3::uuid[] IS NULL OR project_id = ANY($3::uuid[]))
      GROUP BY 1, 2, 3, 4, 5
    )
    SELECT c.id::text AS cost_center_id, c.name AS cost_center, c.code AS cost_center_code,
      d.project_id::text AS project_id, p.name AS project, d.team, d.provider, d.model,
      sum(d.input_text_tokens)::text AS input_text_tokens, sum(d.cached_input_text_tokens)::text AS cached_input_text_tokens,
      sum(d.input_image_tokens)::text AS input_image_tokens,
      sum(d.cached_input_image_tokens)::text AS cached_input_image_tokens,
      sum(d.output_image_tokens)::text AS output_image_tokens, sum(d.output_text_tokens)::text AS output_text_tokens,
      sum(d.images)::text AS images, sum(d.events)::text AS events, sum(d.unpriced_events)::text AS unpriced_events,
      sum(d.partial_events)::text AS partial_events, coalesce(sum(d.cost), 0)::text AS cost_usd
    FROM daily d
    LEFT JOIN LATERAL (${ASSIGNMENT_OF('d.day', 'd.project_id', 'd.team')}) pick ON true
    LEFT JOIN cost_centers c ON c.id = pick.cost_center_id
    LEFT JOIN projects p ON p.id = d.project_id
    GROUP BY c.id, c.name, c.code, d.project_id, p.name, d.team, d.provider, d.model
    ORDER BY c.name NULLS LAST, p.name, d.project_id, d.team, d.provider, d.model`,
} as const;

export interface CostCenterRow {
  id: string;
  name: string;
  code: string | null;
  created_at: Date;
}

export interface AssignmentRow {
  id: string;
  cost_center_id: string;
  project_id: string | null;
  team: string | null;
  valid_from: string;
  valid_to: string | null;
  created_at: Date;
}

/** What a change of an assignment did, or why it was refused. */
export type AssignmentWrite =
  | { done: AssignmentRow }
  | { closedMonths: string[] }
  | { overlapping: AssignmentRow }
  | { notAfterStart: AssignmentRow };

export interface ChargebackRow {
  cost_center_id: string | null;
  cost_center: string | null;
  cost_center_code: string | null;
  project_id: string;
  project: string | null;
  team: string;
  provider: string;
  model: string;
  input_text_tokens: string;
  cached_input_text_tokens: string;
  input_image_tokens: string;
  cached_input_image_tokens: string;
  output_image_tokens: string;
  output_text_tokens: string;
  images: string;
  events: string;
  unpriced_events: string;
  partial_events: string;
  cost_usd: string;
}

@Injectable()
export class CostCentersRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async insertCenter(name: string, code: string | null): Promise<CostCenterRow> {
    return (await queryRows<CostCenterRow>(this.db, COST_CENTERS_SQL.insertCenter, [name, code]))[0];
  }

  centers(): Promise<CostCenterRow[]> {
    return queryRows(this.db, COST_CENTERS_SQL.centers);
  }

  async center(id: string): Promise<CostCenterRow | null> {
    return (await queryRows<CostCenterRow>(this.db, COST_CENTERS_SQL.center, [id]))[0] ?? null;
  }

  assignments(): Promise<AssignmentRow[]> {
    return queryRows(this.db, COST_CENTERS_SQL.assignments);
  }

  async projectExists(id: string): Promise<boolean> {
    return (await queryRows(this.db, COST_CENTERS_SQL.projectExists, [id])).length > 0;
  }

  /**
   * Inserts an assignment unless its days reach into a closed month or one of the same target overlaps them
   * (then answers which).
   */
  addAssignment(a: {
    costCenterId: string;
    projectId: string | null;
    team: string | null;
    validFrom: string;
    validTo: string | null;
  }): Promise<AssignmentWrite> {
    return this.db.transaction(async (manager) => {
      await manager.query(COST_CENTERS_SQL.assignmentLock);
      const closed = await this.closedMonths(manager, a.validFrom, a.validTo);
      if (closed.length > 0) return { closedMonths: closed };
      const [overlap] = await queryRows<AssignmentRow>(manager, COST_CENTERS_SQL.overlapping, [
        a.projectId,
        a.team,
        a.validFrom,
        a.validTo,
        null,
      ]);
      if (overlap) return { overlapping: overlap };
      const [created] = await queryRows<AssignmentRow>(manager, COST_CENTERS_SQL.insertAssignment, [
        a.costCenterId,
        a.projectId,
        a.team,
        a.validFrom,
        a.validTo,
      ]);
      return { done: created };
    });
  }

  /** Deletes an assignment unless its days reach into a closed month; null when there is no such assignment. */
  deleteAssignment(costCenterId: string, id: string): Promise<AssignmentWrite | null> {
    return this.db.transaction(async (manager) => {
      await manager.query(COST_CENTERS_SQL.assignmentLock);
      const [row] = await queryRows<AssignmentRow>(manager, COST_CENTERS_SQL.assignment, [id, costCenterId]);
      if (!row) return null;
      const closed = await this.closedMonths(manager, row.valid_from, row.valid_to);
      if (closed.length > 0) return { closedMonths: closed };
      await manager.query(COST_CENTERS_SQL.deleteAssignment, [id]);
      return { done: row };
    });
  }

  /**
   * Moves the end of an assignment (null: no end) unless the days it changes reach into a closed month, or a longer
   * one overlaps another of the same target; null when there is no such assignment.
   */
  endAssignment(costCenterId: string, id: string, validTo: string | null): Promise<AssignmentWrite | null> {
    return this.db.transaction(async (manager) => {
      await manager.query(COST_CENTERS_SQL.assignmentLock);
      const [row] = await queryRows<AssignmentRow>(manager, COST_CENTERS_SQL.assignment, [id, costCenterId]);
      if (!row) return null;
      if (validTo === row.valid_to) return { done: row };
      if (validTo !== null && validTo <= row.valid_from) return { notAfterStart: row };
      // The days whose cost center changes: from the earlier end to the later one.
      const ends = [row.valid_to, validTo];
      const from = ends.includes(null) ? (ends.find((e) => e !== null) ?? row.valid_from) : [...ends].sort()[0]!;
      const to = ends.includes(null) ? null : [...ends].sort()[1]!;
      const closed = await this.closedMonths(manager, from, to);
      if (closed.length > 0) return { closedMonths: closed };
      const [overlap] = await queryRows<AssignmentRow>(manager, COST_CENTERS_SQL.overlapping, [
        row.project_id,
        row.team,
        row.valid_from,
        validTo,
        row.id,
      ]);
      if (overlap) return { overlapping: overlap };
      const [updated] = await queryRows<AssignmentRow>(manager, COST_CENTERS_SQL.endAssignment, [id, validTo]);
      return { done: updated };
    });
  }

  private async closedMonths(on: Queryable, from: string, to: string | null): Promise<string[]> {
    const rows = await queryRows<{ month: string }>(on, COST_CENTERS_SQL.closedMonthsOverlapping, [from, to]);
    return rows.map((r) => r.month);
  }

  chargeback(
    from: Date,
    to: Date,
    projects: string[] | null,
    basis: 'restated' | 'ingested',
  ): Promise<ChargebackRow[]> {
    const cost = basis === 'ingested' ? 'cost_ingested_usd' : 'cost_usd';
    return queryRows(this.db, COST_CENTERS_SQL.chargeback(cost), [from, to, projects]);
  }
}
