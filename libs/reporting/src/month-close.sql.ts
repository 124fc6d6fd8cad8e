import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '@tokentally/db';
import { Dimension, ReportQuery } from './dto/report-query.dto';
import { BuiltQuery, COLUMN, source, whereOf } from './reports.sql';

const HOUR_MS = 3_600_000;
const floorHour = (t: Date) => new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);
const ceilHour = (t: Date) => new Date(Math.ceil(t.getTime() / HOUR_MS) * HOUR_MS);

/**
 * Filters of a report over raw usage_events (the same columns as the rollups
 * by COLUMN; a tag filter is containment in `tags`), appended to `params`.
 */
function eventFilters(q: ReportQuery, params: unknown[]): string[] {
  const clauses: string[] = [];
  for (const [dimension, values] of Object.entries(q.filters) as Array<[Dimension, string[]]>) {
    params.push(values);
    clauses.push(`${COLUMN[dimension]} = ANY($${params.length}::text[])`);
  }
  if (q.tag) {
    params.push(JSON.stringify({ [q.tag.key]: q.tag.value }));
    clauses.push(`tags @> $${params.length}::jsonb`);
  }
  return clauses;
}

/** The grouping sets of a month close, in the order of the GROUPING() bits below. */
export type MonthCloseSet = 'total' | 'project' | 'team' | 'provider' | 'model' | 'provider_model';

/** The events counted in [$1, $2): at their own time, or at their booking time when they arrived for a closed month. */
const COUNTED_WITHIN = `((occurred_at >= $1 AND occurred_at < $2 AND booked_at IS NULL) OR (booked_at >= $1 AND booked_at < $2))`;

export const MONTH_CLOSE_SQL = {
  /**
   * The month's totals and its totals by project, team, provider, model and
   * (provider, model), in one scan: GROUPING SETS over one set of rows, so
   * every group adds up to the total exactly (numeric sums).
   *
   * The rows are the hourly rollup for the whole UTC hours of [from, to) and,
   * only where a month edge falls inside an hour (zones with a half- or
   * quarter-hour offset, such as Asia/Kolkata, or historical local mean
   * times), the raw events of that part hour, read by the occurred_at index.
   * So the month holds exactly the events of [from, to), as the raw CSV
   * export does, in every zone; and two adjacent months never count the same
   * event (the other reports count a part hour whole at both ends).
   */
  grouped(q: ReportQuery, rawKeptSince: Date | null = null): BuiltQuery {
    const params: unknown[] = [];
    const { table } = source(q);
    const byUser = table === 'usage_rollup_user_live';
    const rollupCost = q.basis === 'ingested' ? 'cost_ingested_usd' : 'cost_usd';
    // The user rollup has no team: '' there (the caller reports by_team as unavailable).
    const team = byUser ? `''::text` : 'team';
    // A part hour whose raw events RETENTION_MONTHS dropped can only be counted whole, from the rollup: it goes
    // to the month its hour starts in (so at the end of this month, not at its start), and two adjacent months
    // still never count one event (docs/deploy.md, "Retention").
    const dropped = (at: Date) => rawKeptSince !== null && at < rawKeptSince;
    const innerFrom = ceilHour(q.from);
    const innerTo = dropped(floorHour(q.to)) ? ceilHour(q.to) : floorHour(q.to);
    const parts: string[] = [];
    if (innerFrom < innerTo) {
      const where = whereOf({ ...q, from: innerFrom, to: innerTo }, params);
      parts.push(`
        SELECT project_id::text AS project, ${team} AS team, provider, model, ${rollupCost} AS cost, events, images,
          unpriced_events AS unpriced, partial_events AS partial, partial_cost_usd AS partial_cost
        FROM ${table} WHERE ${where}`);
    }
    const edges: Array<[Date, Date]> = [];
    if (q.from < innerFrom) edges.push([q.from, innerFrom < q.to ? innerFrom : q.to]);
    if (innerTo < q.to && innerTo >= innerFrom) edges.push([innerTo, q.to]);
    if (edges.length > 0) {
      const ranges = edges.map(([a, b]) => {
        params.push(a, b);
        // An event that arrived for a closed month is counted at its booking time (noon UTC, inside a whole
        // hour: docs/finance.md), so it is in the rollup part, never in a part hour.
        return `(occurred_at >= $${params.length - 1} AND occurred_at < $${params.length} AND booked_at IS NULL)`;
      });
      const filters = eventFilters(q, params);
      const eventCost = q.basis === 'ingested' ? 'cost_ingested_usd' : 'cost_usd';
      parts.push(`
        SELECT project_id::text AS project, ${byUser ? `''::text` : 'team'} AS team, provider, model, coalesce(${eventCost}, 0) AS cost, 1 AS events, images,
          (pricing = 'unpriced')::int AS unpriced, (pricing = 'partial')::int AS partial,
          CASE WHEN pricing = 'partial' THEN cost_usd ELSE 0 END AS partial_cost
        FROM usage_events WHERE (${ranges.join(' OR ')})${filters.map((f) => ` AND ${f}`).join('')}`);
    }
    // Summed per (project, team, provider, model) first: a few hundred rows, where the month has
    // hundreds of thousands of hourly ones; the grouping sets then add up those (exact numeric sums).
    const sql = `
      WITH r AS (${parts.join('\n        UNION ALL')}
      ), c AS MATERIALIZED (
        SELECT project, team, provider, model, sum(cost) AS cost, sum(events) AS events, sum(images) AS images,
          sum(unpriced) AS unpriced, sum(partial) AS partial, sum(partial_cost) AS partial_cost
        FROM r GROUP BY 1, 2, 3, 4
      )
      SELECT GROUPING(project, team, provider, model) AS g, project, team, provider, model,
        coalesce(sum(cost), 0)::text AS cost, coalesce(sum(events), 0)::bigint AS events, coalesce(sum(images), 0)::bigint AS images,
        coalesce(sum(unpriced), 0)::bigint AS unpriced, coalesce(sum(partial), 0)::bigint AS partial,
        coalesce(sum(partial_cost), 0)::text AS partial_cost
      FROM c
      GROUP BY GROUPING SETS ((), (project), (team), (provider), (model), (provider, model))`;
    return { sql, params };
  },

  /**
   * The token kinds that had no rate, per provider and model, for the events
   * of [from, to) not wholly priced: the partial index on NOT priced serves
   * it (as the coverage report's query), so priced events are never read.
   */
  unpricedKinds(q: ReportQuery): BuiltQuery {
    const params: unknown[] = [q.from, q.to];
    const filters = eventFilters(q, params);
    return {
      sql: `
        SELECT provider, model, string_agg(DISTINCT array_to_string(unpriced_kinds, ','), ',') AS missing
        FROM usage_events
        WHERE NOT priced AND ${COUNTED_WITHIN}${filters.map((f) => ` AND ${f}`).join('')}
        GROUP BY provider, model`,
      params,
    };
  },

  /**
   * Restatements of the month: recorded during it, or re-pricing a range that
   * overlaps it. (Restatements of new prices have no range: they count by
   * when they happened.) A few rows a week at most: no index is needed.
   */
  restatements: `
    SELECT id, reason, requested_by, created_at, range_from, range_to, provider, model, events_examined, events_changed,
      total_before_usd::text AS total_before_usd, total_after_usd::text AS total_after_usd,
      (created_at >= $1 AND created_at < $2) AS recorded_in_month,
      coalesce(range_from < $2 AND range_to > $1, false) AS range_overlaps_month
    FROM restatements
    WHERE (created_at >= $1 AND created_at < $2) OR (range_from < $2 AND range_to > $1)
    ORDER BY created_at, id`,

  /**
   * Adjustments: events counted in [$1, $2) that arrived after their own month was closed, by that month
   * (the partial index on booked_at serves it). With the report's filters.
   */
  adjustments(q: ReportQuery): BuiltQuery {
    const params: unknown[] = [q.from, q.to];
    const filters = eventFilters(q, params);
    return {
      sql: `
        SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM') AS of_month, count(*)::text AS events,
          coalesce(sum(${q.basis === 'ingested' ? 'cost_ingested_usd' : 'cost_usd'}), 0)::text AS cost_usd
        FROM usage_events
        WHERE booked_at >= $1 AND booked_at < $2${filters.map((f) => ` AND ${f}`).join('')}
        GROUP BY 1 ORDER BY 1`,
      params,
    };
  },

  /** The closed period of a month (given as its first day), with the totals locked when it was closed. */
  closedPeriod: `
    SELECT closed_at, reason, locked->'totals' AS totals FROM closed_periods WHERE month = $1::date`,
} as const;

/** A row of MONTH_CLOSE_SQL.grouped: one grouping set's group (NULL in the columns it does not group by). */
export interface MonthCloseGroupRow {
  /** GROUPING(project, team, provider, model): see GROUPING_BITS. */
  g: number;
  project: string | null;
  team: string | null;
  provider: string | null;
  model: string | null;
  cost: string;
  events: string;
  images: string;
  unpriced: string;
  partial: string;
  partial_cost: string;
}

/** A row of MONTH_CLOSE_SQL.restatements (numeric totals as text). */
export interface MonthRestatementRow {
  id: string;
  reason: 'new_price' | 'manual';
  requested_by: string | null;
  created_at: Date;
  range_from: Date | null;
  range_to: Date | null;
  provider: string | null;
  model: string | null;
  events_examined: number;
  events_changed: number;
  total_before_usd: string;
  total_after_usd: string;
  recorded_in_month: boolean;
  range_overlaps_month: boolean;
}

/** Month close: MONTH_CLOSE_SQL with typed rows. */
@Injectable()
export class MonthCloseRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  grouped(q: ReportQuery, rawKeptSince: Date | null): Promise<MonthCloseGroupRow[]> {
    const { sql, params } = MONTH_CLOSE_SQL.grouped(q, rawKeptSince);
    return queryRows<MonthCloseGroupRow>(this.db, sql, params);
  }

  /** The units with no rate (comma-separated, maybe repeated) per provider and model. */
  unpricedKinds(q: ReportQuery): Promise<Array<{ provider: string; model: string; missing: string | null }>> {
    const { sql, params } = MONTH_CLOSE_SQL.unpricedKinds(q);
    return queryRows(this.db, sql, params);
  }

  adjustments(q: ReportQuery): Promise<Array<{ of_month: string; events: string; cost_usd: string }>> {
    const { sql, params } = MONTH_CLOSE_SQL.adjustments(q);
    return queryRows(this.db, sql, params);
  }

  async closedPeriod(
    firstDay: string,
  ): Promise<{ closed_at: Date; reason: string; totals: Record<string, string> } | null> {
    return (await queryRows<never>(this.db, MONTH_CLOSE_SQL.closedPeriod, [firstDay]))[0] ?? null;
  }

  restatements(from: Date, to: Date): Promise<MonthRestatementRow[]> {
    return queryRows<MonthRestatementRow>(this.db, MONTH_CLOSE_SQL.restatements, [from, to]);
  }
}

/** The bits of GROUPING(project, team, provider, model) for each set: 1 where a column is not grouped. */
export const GROUPING_BITS: Record<number, MonthCloseSet> = {
  0b1111: 'total',
  0b0111: 'project',
  0b1011: 'team',
  0b1101: 'provider',
  0b1110: 'model',
  0b1100: 'provider_model',
};
