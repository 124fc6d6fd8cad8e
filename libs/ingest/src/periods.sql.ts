import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Queryable, queryRows } from '@tokentally/db';

/**
 * Closed months (docs/finance.md), in one place.
 *
 * A month is a UTC calendar month, stored as its first day (`date`). While a
 * month is closed, nothing that is counted in it may change:
 *
 * - ingest counts an event of a closed month at its **booking time**
 *   (`BOOKED_AT`): noon UTC on the first day of the first open month after
 *   its own. Noon, so that the booking falls inside that month in every time
 *   zone (UTC-12 to UTC+14) and never in a part hour at a month's edge.
 * - re-pricing leaves every event counted in a closed month as it is
 *   (`COUNTED_IN_OPEN_MONTH`), and a re-pricing range that overlaps one is
 *   refused before it starts.
 *
 * Both read `closed_periods` in the statement that writes, so they hold its
 * ACCESS SHARE lock until they commit; closing and reopening take
 * `lockPeriods` (ACCESS EXCLUSIVE), which waits for every such writer to
 * commit and holds new ones until the close is committed. The totals locked
 * by a close are therefore exactly the month's, and stay so.
 */

/** The first instant of the UTC month of a timestamptz, as a `timestamp` (no zone: month arithmetic is exact). */
const utcMonthOf = (ts: string) => `date_trunc('month', ${ts} AT TIME ZONE 'UTC')`;

/**
 * The booking time of an event of row `alias` (null: counted at its own time). The first condition is
 * one uncorrelated look at the table per statement: events after the last closed month (nearly all)
 * skip the rest.
 */
export const BOOKED_AT = (alias: string) => `CASE
      WHEN ${alias}.occurred_at < (SELECT (max(month) + interval '1 month') AT TIME ZONE 'UTC' FROM closed_periods)
        AND EXISTS (SELECT FROM closed_periods cp WHERE cp.month = ${utcMonthOf(`${alias}.occurred_at`)}::date)
      THEN (SELECT (min(m) + interval '12 hours') AT TIME ZONE 'UTC'
            FROM generate_series(${utcMonthOf(`${alias}.occurred_at`)} + interval '1 month',
                                 ${utcMonthOf(`${alias}.occurred_at`)} + interval '1 month' * (1 + (SELECT count(*) FROM closed_periods)),
                                 interval '1 month') AS m
            WHERE NOT EXISTS (SELECT FROM closed_periods cp WHERE cp.month = m::date))
      END`;

/** True when the event of row `alias` is counted in a month that is open (its booking time, else its own). */
export const COUNTED_IN_OPEN_MONTH = (alias: string) =>
  `NOT EXISTS (SELECT FROM closed_periods cp WHERE cp.month = ${utcMonthOf(`coalesce(${alias}.booked_at, ${alias}.occurred_at)`)}::date)`;

/** Sums of a month (or any range) of the main rollup, every measure a close locks. */
const RANGE_TOTALS = `
  coalesce(sum(cost_usd), 0)::text AS cost_usd, coalesce(sum(cost_ingested_usd), 0)::text AS cost_ingested_usd,
  coalesce(sum(events), 0)::text AS events, coalesce(sum(images), 0)::text AS images,
  coalesce(sum(unpriced_events), 0)::text AS unpriced_events, coalesce(sum(partial_events), 0)::text AS partial_events,
  coalesce(sum(partial_cost_usd), 0)::text AS partial_cost_usd,
  coalesce(sum(input_text_tokens), 0)::text AS input_text_tokens,
  coalesce(sum(cached_input_text_tokens), 0)::text AS cached_input_text_tokens,
  coalesce(sum(input_image_tokens), 0)::text AS input_image_tokens,
  coalesce(sum(cached_input_image_tokens), 0)::text AS cached_input_image_tokens,
  coalesce(sum(output_image_tokens), 0)::text AS output_image_tokens,
  coalesce(sum(output_text_tokens), 0)::text AS output_text_tokens`;

const CLOSED_COLUMNS = `c.month::text AS month, c.closed_at, c.closed_by, c.closed_by_key_id, k.name AS closed_by_key_name,
  c.reason, c.locked`;

export const PERIODS_SQL = {
  lockPeriods: `LOCK TABLE closed_periods IN ACCESS EXCLUSIVE MODE`,
  closedOne: `SELECT ${CLOSED_COLUMNS} FROM closed_periods c LEFT JOIN api_keys k ON k.id = c.closed_by_key_id WHERE month = $1::date`,
  /** Every month closed now or once (a row, or a log entry), newest first. */
  months: `SELECT month::text AS month FROM closed_periods UNION SELECT month::text FROM period_log ORDER BY 1 DESC`,
  /** The closed months that [$1, $2) (timestamptz) overlaps. */
  closedWithin: `
    SELECT month::text AS month FROM closed_periods
    WHERE (month + interval '1 month') AT TIME ZONE 'UTC' > $1::timestamptz AND month::timestamp AT TIME ZONE 'UTC' < $2::timestamptz
    ORDER BY month`,
  insertClosed: `
    INSERT INTO closed_periods (month, closed_by, closed_by_key_id, reason, locked)
    VALUES ($1::date, $2, $3, $4, $5::jsonb)`,
  deleteClosed: `DELETE FROM closed_periods WHERE month = $1::date`,
  insertLog: `
    INSERT INTO period_log (month, action, actor, actor_key_id, reason, totals)
    VALUES ($1::date, $2, $3, $4, $5, $6::jsonb)`,
  log: `
    SELECT l.id::text AS id, l.month::text AS month, l.action, l.actor, l.actor_key_id, k.name AS actor_key_name,
      l.reason, l.totals, l.at
    FROM period_log l LEFT JOIN api_keys k ON k.id = l.actor_key_id
    WHERE l.month = $1::date ORDER BY l.at DESC, l.id DESC LIMIT 500`,
  /** A UTC range's totals from the main rollup (hourly rows and the deltas not yet folded in). */
  totals: `SELECT ${RANGE_TOTALS} FROM usage_rollup_live WHERE bucket >= $1 AND bucket < $2`,
  /** The same by project, most spent first. */
  totalsByProject: `
    SELECT project_id::text AS project_id, ${RANGE_TOTALS}
    FROM usage_rollup_live WHERE bucket >= $1 AND bucket < $2
    GROUP BY project_id ORDER BY sum(cost_usd) DESC, project_id`,
  /** Events of a month that arrived after it was closed, by the month they are counted in instead. */
  lateEventsOf: `
    SELECT to_char(booked_at AT TIME ZONE 'UTC', 'YYYY-MM') AS booked_in, count(*)::text AS events,
      coalesce(sum(cost_usd), 0)::text AS cost_usd
    FROM usage_events WHERE occurred_at >= $1 AND occurred_at < $2 AND booked_at IS NOT NULL
    GROUP BY 1 ORDER BY 1`,
} as const;

export interface ClosedPeriodRow {
  month: string;
  closed_at: Date;
  closed_by: string;
  closed_by_key_id: string | null;
  closed_by_key_name: string | null;
  reason: string;
  locked: LockedTotals;
}

export type RangeTotalsRow = Record<
  | 'cost_usd'
  | 'cost_ingested_usd'
  | 'events'
  | 'images'
  | 'unpriced_events'
  | 'partial_events'
  | 'partial_cost_usd'
  | 'input_text_tokens'
  | 'cached_input_text_tokens'
  | 'input_image_tokens'
  | 'cached_input_image_tokens'
  | 'output_image_tokens'
  | 'output_text_tokens',
  string
>;

/** What a close locks: the month's totals, and the same by project. */
export interface LockedTotals {
  totals: RangeTotalsRow;
  by_project: Array<RangeTotalsRow & { project_id: string }>;
}

export interface PeriodLogRow {
  id: string;
  month: string;
  action: 'close' | 'reopen';
  actor: string;
  actor_key_id: string | null;
  actor_key_name: string | null;
  reason: string;
  totals: RangeTotalsRow | null;
  at: Date;
}

export interface LateEventsRow {
  booked_in: string;
  events: string;
  cost_usd: string;
}

@Injectable()
export class PeriodsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  lock(manager: EntityManager): Promise<unknown> {
    return manager.query(PERIODS_SQL.lockPeriods);
  }

  async months(): Promise<string[]> {
    return (await queryRows<{ month: string }>(this.db, PERIODS_SQL.months)).map((r) => r.month);
  }

  async closedOne(month: string, on: Queryable = this.db): Promise<ClosedPeriodRow | null> {
    return (await queryRows<ClosedPeriodRow>(on, PERIODS_SQL.closedOne, [month]))[0] ?? null;
  }

  async closedWithin(from: Date, to: Date): Promise<string[]> {
    return (await queryRows<{ month: string }>(this.db, PERIODS_SQL.closedWithin, [from, to])).map((r) => r.month);
  }

  async insertClosed(
    manager: EntityManager,
    row: { month: string; actor: string; keyId: string | null; reason: string; locked: LockedTotals },
  ): Promise<unknown> {
    return manager.query(PERIODS_SQL.insertClosed, [
      row.month,
      row.actor,
      row.keyId,
      row.reason,
      JSON.stringify(row.locked),
    ]);
  }

  deleteClosed(manager: EntityManager, month: string): Promise<unknown> {
    return manager.query(PERIODS_SQL.deleteClosed, [month]);
  }

  insertLog(
    manager: EntityManager,
    row: {
      month: string;
      action: 'close' | 'reopen';
      actor: string;
      keyId: string | null;
      reason: string;
      totals: RangeTotalsRow;
    },
  ): Promise<unknown> {
    return manager.query(PERIODS_SQL.insertLog, [
      row.month,
      row.action,
      row.actor,
      row.keyId,
      row.reason,
      JSON.stringify(row.totals),
    ]);
  }

  log(month: string): Promise<PeriodLogRow[]> {
    return queryRows(this.db, PERIODS_SQL.log, [month]);
  }

  async totals(from: Date, to: Date, on: Queryable = this.db): Promise<RangeTotalsRow> {
    return (await queryRows<RangeTotalsRow>(on, PERIODS_SQL.totals, [from, to]))[0];
  }

  totalsByProject(
    from: Date,
    to: Date,
    on: Queryable = this.db,
  ): Promise<Array<RangeTotalsRow & { project_id: string }>> {
    return queryRows(on, PERIODS_SQL.totalsByProject, [from, to]);
  }

  lateEventsOf(from: Date, to: Date): Promise<LateEventsRow[]> {
    return queryRows(this.db, PERIODS_SQL.lateEventsOf, [from, to]);
  }
}
