import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError, FieldError } from '@tokentally/common';
import { DIMENSIONS_WITHOUT_USER, PricingState, ROLLUP_DIMENSIONS, TokenKind } from '@tokentally/core';
import { isoMicroseconds, Queryable, queryRows } from '@tokentally/db';
import { assertBucketLimit, Dimension, Granularity, ReportQuery } from './dto/report-query.dto';

/** The column of each report dimension in the rollups and in usage_events. */
export const COLUMN: Record<Dimension, string> = {
  provider: 'provider',
  model: 'model',
  project: 'project_id::text',
  team: 'team',
  user: 'user_id',
  feature: 'feature',
  environment: 'environment',
};

export interface BuiltQuery {
  sql: string;
  params: unknown[];
}

/**
 * The rollup a query reads: the tag rollup when it filters or groups by a tag,
 * the user rollup (hour, project, provider, model, user) when it does by user,
 * the main rollup otherwise.
 */
export function source(
  q: ReportQuery,
  needs: { imageColumns?: boolean } = {},
): { table: string; tagKey: string | null } {
  const tagKey = q.tag?.key ?? (q.groupBy.startsWith('tag:') ? q.groupBy.slice(4) : null);
  const byUser = q.groupBy === 'user' || !!q.filters.user;
  if (!byUser) return { table: tagKey ? 'usage_rollup_tag_live' : 'usage_rollup_live', tagKey };
  const unsupported: FieldError[] = [];
  if (tagKey)
    unsupported.push({ path: q.tag ? `tag:${q.tag.key}` : 'group_by', message: 'cannot be combined with user' });
  for (const d of DIMENSIONS_WITHOUT_USER) {
    if (q.filters[d] || q.groupBy === d)
      unsupported.push({
        path: d,
        message: 'cannot be combined with user (user reports: provider, model and project)',
      });
  }
  if (needs.imageColumns)
    unsupported.push({ path: 'user', message: 'this report has no per-user breakdown by size and quality' });
  if (unsupported.length) throw DomainError.validation(unsupported);
  return { table: 'usage_rollup_user_live', tagKey: null };
}

/** The start of the UTC hour holding `instant`: the rollup bucket an event at that instant is in. */
export function rollupHourOf(instant: Date): Date {
  const HOUR_MS = 3_600_000;
  return new Date(Math.floor(instant.getTime() / HOUR_MS) * HOUR_MS);
}

/** WHERE clause of a report over the rollup, with its parameters appended to `params`. */
export function whereOf(q: ReportQuery, params: unknown[]): string {
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  // The rollups are hourly: a range edge inside an hour counts that hour whole, at both ends and in
  // every report alike (an event at 11:59 is in a range from 11:02, as its hour 11:00 is).
  const clauses = [`bucket >= ${p(rollupHourOf(q.from))}`, `bucket < ${p(q.to)}`];
  return [...clauses, ...filterClauses(q, params)].join(' AND ');
}

/** The filter (dimension and tag) clauses of a report, without its range. */
function filterClauses(q: ReportQuery, params: unknown[]): string[] {
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const { tagKey } = source(q);
  const clauses: string[] = [];
  for (const [dimension, values] of Object.entries(q.filters) as Array<[Dimension, string[]]>) {
    clauses.push(`${COLUMN[dimension]} = ANY(${p(values)}::text[])`);
  }
  if (tagKey) clauses.push(`tag_key = ${p(tagKey)}`);
  if (q.tag) clauses.push(`tag_value = ${p(q.tag.value)}`);
  return clauses;
}

function keyExpression(q: ReportQuery): string {
  if (q.groupBy === 'none') return `'total'`;
  if (q.groupBy.startsWith('tag:')) return 'tag_value';
  return COLUMN[q.groupBy as Dimension];
}

/**
 * The start of the bucket that holds each hourly rollup row: the UTC hour
 * itself, or the local day, week (Monday) or month. The time zone is a
 * parameter pushed onto `params` only when the expression uses it (an unused
 * parameter has no type PostgreSQL can infer: "could not determine data type
 * of parameter $1").
 */
export function bucketExpression(granularity: Granularity, params: unknown[], tz: string): string {
  if (granularity === 'hour') return `date_trunc('hour', bucket, 'UTC')`;
  params.push(tz);
  const tzParam = `$${params.length}::text`;
  return `(date_trunc('${granularity}', bucket AT TIME ZONE ${tzParam}) AT TIME ZONE ${tzParam})`;
}

/** The cost a report adds up: restated (what reports use) or as ingested (`basis=ingested`). */
function costColumn(q: Pick<ReportQuery, 'basis'>): string {
  return q.basis === 'ingested' ? 'cost_ingested_usd' : 'cost_usd';
}

/** The dimensions each rollup family has (and so can filter on): libs/core's ROLLUP_DIMENSIONS, by live view. */
const FAMILY_COLUMNS: Record<string, readonly Dimension[]> = {
  usage_rollup_live: ROLLUP_DIMENSIONS.main,
  usage_rollup_tag_live: ROLLUP_DIMENSIONS.tag,
  usage_rollup_user_live: ROLLUP_DIMENSIONS.user,
};

export interface TotalItem {
  key: string;
  from: Date;
  to: Date;
  filters: Partial<Record<Dimension, string>>;
  tag: { key: string; value: string } | null;
}

export const REPORT_SQL = {
  /**
   * Totals of many ranges and filters (budgets' periods to date) in one scan
   * of one rollup family: the rows of the widest range are summed per hour
   * and dimension values once, then each item adds up the rows it selects.
   */
  totals(table: string, items: TotalItem[], basis: 'restated' | 'ingested'): BuiltQuery {
    const dims = FAMILY_COLUMNS[table];
    const tagged = table === 'usage_rollup_tag_live';
    const cost = costColumn({ basis });
    // Aliased f_<name>: "user" is a reserved word.
    const columns = dims.map((d) => `${COLUMN[d]} AS f_${d}`);
    if (tagged) columns.push('tag_key AS f_tag_key', 'tag_value AS f_tag_value');
    const names = [...dims, ...(tagged ? ['tag_key', 'tag_value'] : [])].map((n) => `f_${n}`);
    const match = names.map((n) => `(b.${n} IS NULL OR r.${n} = b.${n})`).join(' AND ');
    // Every item read from the user (tag) rollup names a user (tag key): only their rows are summed,
    // not every user's of the widest range (one row per event and hour with thousands of users).
    const only =
      table === 'usage_rollup_user_live'
        ? ' AND user_id IN (SELECT f_user FROM b)'
        : tagged
          ? ' AND tag_key IN (SELECT f_tag_key FROM b)'
          : '';
    const sql = `
      WITH b AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(k text, from_ts timestamptz, to_ts timestamptz, ${names.map((n) => `${n} text`).join(', ')})
      ), r AS MATERIALIZED (
        SELECT bucket, ${columns.join(', ')}, sum(${cost}) AS cost
        FROM ${table}
        WHERE bucket >= (SELECT min(from_ts) FROM b) AND bucket < (SELECT max(to_ts) FROM b)${only}
        GROUP BY ${['bucket', ...names].map((_, i) => i + 1).join(', ')}
      )
      SELECT b.k AS key, coalesce(sum(r.cost), 0)::text AS cost
      FROM b LEFT JOIN r ON r.bucket >= b.from_ts AND r.bucket < b.to_ts AND ${match}
      GROUP BY b.k`;
    const rows = items.map((item) => ({
      k: item.key,
      from_ts: item.from.toISOString(),
      to_ts: item.to.toISOString(),
      ...Object.fromEntries(names.map((n) => [n, null])),
      ...Object.fromEntries(Object.entries(item.filters).map(([d, v]) => [`f_${d}`, v])),
      ...(item.tag ? { f_tag_key: item.tag.key, f_tag_value: item.tag.value } : {}),
    }));
    return { sql, params: [JSON.stringify(rows)] };
  },

  /**
   * Every bucket start of the range: UTC hours, or local days, weeks and
   * months (23- and 25-hour days included). Never more than MAX_BUCKETS rows:
   * the count is checked by arithmetic first (parseReportQuery does it for
   * requests; this guards every other caller).
   */
  buckets(q: ReportQuery): BuiltQuery {
    assertBucketLimit(q);
    if (q.granularity === 'hour') {
      return {
        sql: `SELECT g AS b FROM generate_series(date_trunc('hour', $1::timestamptz, 'UTC'), $2::timestamptz - interval '1 microsecond', interval '1 hour') g`,
        params: [q.from, q.to],
      };
    }
    return {
      sql: `SELECT (g AT TIME ZONE $3::text) AS b FROM generate_series(date_trunc('${q.granularity}', $1::timestamptz AT TIME ZONE $3::text), ($2::timestamptz AT TIME ZONE $3::text) - interval '1 microsecond', interval '1 ${q.granularity}') g`,
      params: [q.from, q.to, q.tz],
    };
  },

  spend(q: ReportQuery, rangeFrom: Date, rangeTo: Date): BuiltQuery {
    const params: unknown[] = [];
    const cost = costColumn(q);
    const b = bucketExpression(q.granularity, params, q.tz);
    const where = whereOf({ ...q, from: rangeFrom, to: rangeTo }, params);
    const sql = `
      SELECT ${b} AS b, ${keyExpression(q)} AS key,
        sum(${cost})::text AS cost, sum(events)::bigint AS events, sum(unpriced_events)::bigint AS unpriced,
        sum(partial_events)::bigint AS partial, sum(partial_cost_usd)::text AS partial_cost
      FROM ${source(q).table}
      WHERE ${where}
      GROUP BY 1, 2`;
    return { sql, params };
  },

  /**
   * Everything the summary needs in one scan: totals of the period to date
   * and of the previous period (whole and to the same point), per (project,
   * team, feature, model): few rows, added up per dimension by the caller.
   */
  summary(q: ReportQuery, w: { start: Date; now: Date; prevStart: Date; prevSamePoint: Date }): BuiltQuery {
    const params: unknown[] = [w.start, w.now, w.prevStart, w.prevSamePoint];
    const where = whereOf({ ...q, from: w.prevStart, to: w.now }, params);
    const { table } = source(q);
    // The user rollup has no team or feature: '' there (no mover is made of '').
    const has = (d: Dimension) => FAMILY_COLUMNS[table].includes(d);
    const team = has('team') ? 'team' : `''::text AS team`;
    const feature = has('feature') ? 'feature' : `''::text AS feature`;
    const groupBy = ['project_id', ...(has('team') ? ['team'] : []), ...(has('feature') ? ['feature'] : []), 'model'];
    const sql = `
      SELECT project_id::text AS project, ${team}, ${feature}, model,
        coalesce(sum(${costColumn(q)}) FILTER (WHERE bucket >= $1 AND bucket < $2), 0)::text AS current,
        coalesce(sum(${costColumn(q)}) FILTER (WHERE bucket >= $3 AND bucket < $4), 0)::text AS previous_to_date,
        coalesce(sum(${costColumn(q)}) FILTER (WHERE bucket >= $3 AND bucket < $1), 0)::text AS previous_whole,
        coalesce(sum(events) FILTER (WHERE bucket >= $1 AND bucket < $2), 0)::bigint AS events,
        coalesce(sum(unpriced_events) FILTER (WHERE bucket >= $1 AND bucket < $2), 0)::bigint AS unpriced,
        coalesce(sum(partial_events) FILTER (WHERE bucket >= $1 AND bucket < $2), 0)::bigint AS partial,
        coalesce(sum(partial_cost_usd) FILTER (WHERE bucket >= $1 AND bucket < $2), 0)::text AS partial_cost
      FROM ${table}
      WHERE ${where}
      GROUP BY ${groupBy.join(', ')}`;
    return { sql, params };
  },

  tokensOverTime(q: ReportQuery): BuiltQuery {
    const params: unknown[] = [];
    const b = bucketExpression(q.granularity, params, q.tz);
    const where = whereOf(q, params);
    return {
      sql: `
        SELECT ${b} AS b,
          sum(input_text_tokens)::bigint AS input_text, sum(cached_input_text_tokens)::bigint AS cached_input_text,
          sum(input_image_tokens)::bigint AS input_image, sum(cached_input_image_tokens)::bigint AS cached_input_image,
          sum(output_image_tokens)::bigint AS output_image, sum(output_text_tokens)::bigint AS output_text
        FROM ${source(q).table} WHERE ${where} GROUP BY 1`,
      params,
    };
  },

  tokensBreakdown(q: ReportQuery): BuiltQuery {
    const params: unknown[] = [];
    const where = whereOf(q, params);
    return {
      sql: `
        SELECT provider, model, image_size, image_quality, sum(events)::bigint AS events, sum(images)::bigint AS images,
          sum(input_text_tokens)::bigint AS input_text, sum(cached_input_text_tokens)::bigint AS cached_input_text,
          sum(input_image_tokens)::bigint AS input_image, sum(cached_input_image_tokens)::bigint AS cached_input_image,
          sum(output_image_tokens)::bigint AS output_image, sum(output_text_tokens)::bigint AS output_text,
          sum(${costColumn(q)})::text AS cost, sum(unpriced_events)::bigint AS unpriced,
          sum(partial_events)::bigint AS partial, sum(partial_cost_usd)::text AS partial_cost
        FROM ${source(q, { imageColumns: true }).table} WHERE ${where}
        GROUP BY 1, 2, 3, 4 ORDER BY sum(${costColumn(q)}) DESC`,
      params,
    };
  },

  /**
   * Usage per provider and model, to price at every provider
   * (compare-providers): by UTC day, except on days when some price changes,
   * which stay by hour so that each hour meets the price then in effect.
   */
  usageForPricing(q: ReportQuery, priceChanges: Date[]): BuiltQuery {
    // The UTC days in which some price changes (not at their midnight).
    const DAY = 24 * 3600 * 1000;
    const changeDays = [
      ...new Set(priceChanges.filter((c) => c.getTime() % DAY !== 0).map((c) => Math.floor(c.getTime() / DAY) * DAY)),
    ].map((t) => new Date(t));
    const params: unknown[] = [changeDays];
    const where = whereOf(q, params);
    const { table } = source(q);
    // Per-image prices depend on size and quality; the user rollup does not keep them.
    const imageColumns =
      table === 'usage_rollup_user_live'
        ? `''::text AS image_size, ''::text AS image_quality`
        : 'image_size, image_quality';
    return {
      sql: `
        SELECT CASE WHEN date_trunc('day', bucket, 'UTC') = ANY($1::timestamptz[])
               THEN bucket ELSE date_trunc('day', bucket, 'UTC') END AS bucket,
          provider, model, ${imageColumns},
          sum(events)::bigint AS events, sum(events - error_events)::bigint AS ok_events, sum(images)::bigint AS images,
          sum(per_image_images)::bigint AS per_image_images,
          sum(input_text_tokens)::bigint AS input_text, sum(cached_input_text_tokens)::bigint AS cached_input_text,
          sum(input_image_tokens)::bigint AS input_image, sum(cached_input_image_tokens)::bigint AS cached_input_image,
          sum(output_image_tokens)::bigint AS output_image, sum(output_text_tokens)::bigint AS output_text,
          sum(${costColumn(q)})::text AS cost, sum(unpriced_events)::bigint AS unpriced, sum(partial_events)::bigint AS partial
        FROM ${table} WHERE ${where}
        GROUP BY 1, 2, 3, 4, 5`,
      params,
    };
  },

  /**
   * Each user's spend over exactly the hourly rows a spend report by user
   * adds up (those of [hour of from, to) whose bucket is one of `buckets`),
   * and only the users that can be among the first `limit` (ties at the cut
   * included), with how many users there are and their total. Keys as the
   * report names them ('' is '(none)').
   *
   * Which hours count is decided by the report's own bucket expression on
   * every hour of the range that can hold data (clamped to the first and
   * last hour of the user rollup), so it is the same rule in every time
   * zone, half-hour ones and odd daylight saving changes included. A UTC
   * month (day) of which every hour that can hold data counts is read from
   * the monthly (daily) user rollup, the other hours from the hourly one:
   * the dashboard's last 30 days are then a month and a few days per user.
   * All UTC arithmetic is on `timestamp` in UTC, so the session's time zone
   * plays no part.
   */
  userRanking(q: ReportQuery, buckets: Date[], limit: number): BuiltQuery {
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const b = bucketExpression(q.granularity, params, q.tz);
    const [from, to, list, cut] = [p(rollupHourOf(q.from)), p(q.to), p(buckets), p(limit - 1)];
    const filters = filterClauses(q, params)
      .map((c) => ` AND ${c}`)
      .join('');
    const cost = costColumn(q);
    // Hours of [start, start + length) that can hold data, as a number.
    const hoursWithData = (start: string, length: string) =>
      `extract(epoch FROM least((${start} AT TIME ZONE 'UTC' + interval '${length}') AT TIME ZONE 'UTC', extent.last + interval '1 hour') - greatest(${start}, extent.first)) / 3600`;
    const sql = `
      WITH extent AS (
        SELECT min(bucket) AS first, max(bucket) AS last
        FROM (
          (SELECT bucket FROM usage_rollup_user_hourly ORDER BY bucket LIMIT 1)
          UNION ALL (SELECT bucket FROM usage_rollup_user_hourly ORDER BY bucket DESC LIMIT 1)
          UNION ALL SELECT bucket FROM usage_rollup_user_deltas
        ) x
        HAVING min(bucket) IS NOT NULL -- no row without data: no hours to generate, however long the range
      ), hours AS MATERIALIZED (
        SELECT bucket, date_trunc('day', bucket, 'UTC') AS day, date_trunc('month', bucket, 'UTC') AS month
        FROM extent, generate_series(greatest(${from}::timestamptz, extent.first), least(${to}::timestamptz - interval '1 microsecond', extent.last), interval '1 hour') bucket
        WHERE ${b} IN (SELECT unnest(${list}::timestamptz[]))
      ), months AS MATERIALIZED (
        SELECT month FROM hours, extent GROUP BY month, extent.first, extent.last
        HAVING count(*) = ${hoursWithData('month', '1 month')}
      ), days AS MATERIALIZED (
        SELECT day FROM hours, extent WHERE month NOT IN (SELECT month FROM months) GROUP BY day, extent.first, extent.last
        HAVING count(*) = ${hoursWithData('day', '1 day')}
      ), per_user AS MATERIALIZED (
        SELECT CASE WHEN user_id = '' THEN '(none)' ELSE user_id END AS key, sum(cost) AS cost
        FROM (
          SELECT user_id, ${cost} AS cost FROM usage_rollup_user_monthly_live
          WHERE bucket = ANY(ARRAY(SELECT month FROM months))${filters}
          UNION ALL
          SELECT user_id, ${cost} FROM usage_rollup_user_daily_live
          WHERE bucket = ANY(ARRAY(SELECT day FROM days))${filters}
          UNION ALL
          SELECT user_id, ${cost} FROM usage_rollup_user_live
          WHERE bucket = ANY(ARRAY(SELECT bucket FROM hours WHERE month NOT IN (SELECT month FROM months) AND day NOT IN (SELECT day FROM days)))${filters}
        ) x
        GROUP BY 1
      ), threshold AS (
        SELECT cost FROM per_user ORDER BY cost DESC OFFSET ${cut} LIMIT 1
      )
      SELECT key, cost::text AS cost,
        (SELECT count(*) FROM per_user)::int AS users, (SELECT coalesce(sum(cost), 0) FROM per_user)::text AS total
      FROM per_user
      WHERE NOT EXISTS (SELECT 1 FROM threshold) OR cost >= (SELECT cost FROM threshold)`;
    return { sql, params };
  },

  /**
   * Calls, errors and latency per provider and model (the performance
   * report). Latency is summed over the events that gave one.
   */
  performance(q: ReportQuery): BuiltQuery {
    const params: unknown[] = [];
    const plain = { ...q, groupBy: 'none' as const };
    const where = whereOf(plain, params);
    return {
      sql: `
        SELECT provider, model, sum(events)::bigint AS events, sum(error_events)::bigint AS error_events,
          sum(latency_ms_sum)::text AS latency_ms_sum, sum(latency_events)::bigint AS latency_events
        FROM ${source(plain).table} WHERE ${where}
        GROUP BY 1, 2`,
      params,
    };
  },

  /**
   * The events of the range that carry a cost reported by their provider
   * (OpenRouter's `usage.cost`), per provider and model: over the events
   * priced wholly here, our cost on the report's basis and theirs; the others
   * apart. With `basis=ingested` our cost is the one given at ingest, so an
   * event priced wholly now that had no cost at ingest (unpriced then, priced
   * since) is one of the others: its ingest cost is not known. Read from
   * usage_events through its partial index (`provider_cost_usd IS NOT NULL`):
   * the rollups do not carry that figure.
   */
  providerCost(q: ReportQuery): BuiltQuery {
    const params: unknown[] = [q.from, q.to];
    const where = [
      `occurred_at >= $1`,
      `occurred_at < $2`,
      `provider_cost_usd IS NOT NULL`,
      ...rawEventFilters(q, params),
    ];
    const cost = costColumn(q);
    const compared = `pricing = 'priced' AND ${cost} IS NOT NULL`;
    return {
      sql: `
        SELECT provider, model,
          count(*) FILTER (WHERE ${compared})::bigint AS events,
          coalesce(sum(${cost}) FILTER (WHERE ${compared}), 0)::text AS tracked_cost,
          coalesce(sum(provider_cost_usd) FILTER (WHERE ${compared}), 0)::text AS provider_cost,
          count(*) FILTER (WHERE NOT (${compared}))::bigint AS other_events,
          coalesce(sum(provider_cost_usd) FILTER (WHERE NOT (${compared})), 0)::text AS other_provider_cost
        FROM usage_events WHERE ${where.join(' AND ')}
        GROUP BY 1, 2`,
      params,
    };
  },

  /**
   * One page of the raw events of the range (the CSV export, the one place
   * raw events are read), after (occurred_at, project_id, event_id), with the
   * report's filters; a tag filter is containment in `tags`. The cursor's time
   * is a row's `ts` (microseconds): a JS Date would cut them, and the page
   * after would start with the row it ended on.
   */
  rawEvents(q: ReportQuery, after: EventCursorKey, limit: number): BuiltQuery {
    const params: unknown[] = [q.from, q.to, ...after];
    const where = [
      `occurred_at >= $1`,
      `occurred_at < $2`,
      `(occurred_at, project_id, event_id) > ($3::timestamptz, $4::uuid, $5::text)`,
      ...rawEventFilters(q, params),
    ];
    params.push(limit);
    return {
      sql: `SELECT *, ${isoMicroseconds('occurred_at')} AS ts, ${isoMicroseconds('booked_at')} AS counted_at FROM usage_events
         WHERE ${where.join(' AND ')} ORDER BY occurred_at, project_id, event_id LIMIT $${params.length}`,
      params,
    };
  },

  projectNames: `SELECT id::text AS id, name FROM projects`,
} as const;

/** Token sums per kind (bigint sums: strings). */
export type TokenSums = Record<TokenKind, string>;

/** A row of REPORT_SQL.spend: one bucket and key. */
export interface SpendRow {
  b: Date;
  key: string;
  cost: string;
  events: string;
  unpriced: string;
  partial: string;
  partial_cost: string;
}

/** A row of REPORT_SQL.userRanking. */
export interface UserRankingRow {
  key: string;
  cost: string;
  /** How many users there are, and their total (on every row). */
  users: number;
  total: string;
}

/** A row of REPORT_SQL.summary: one (project, team, feature, model). */
export interface SummaryRow {
  project: string;
  team: string;
  feature: string;
  model: string;
  current: string;
  previous_to_date: string;
  previous_whole: string;
  events: string;
  unpriced: string;
  partial: string;
  partial_cost: string;
}

/** A row of REPORT_SQL.tokensOverTime. */
export interface TokensOverTimeRow extends TokenSums {
  b: Date;
}

/** A row of REPORT_SQL.tokensBreakdown: one provider, model, size and quality ('' when absent). */
export interface TokensBreakdownRow extends TokenSums {
  provider: string;
  model: string;
  image_size: string;
  image_quality: string;
  events: string;
  images: string;
  cost: string;
  unpriced: string;
  partial: string;
  partial_cost: string;
}

/** A row of REPORT_SQL.usageForPricing: a UTC day (or an hour on a day a price changes). */
export interface UsageForPricingRow extends TokenSums {
  bucket: Date;
  provider: string;
  model: string;
  image_size: string;
  image_quality: string;
  events: string;
  ok_events: string;
  images: string;
  per_image_images: string;
  cost: string;
  unpriced: string;
  partial: string;
}

/** The report's dimension and tag filters as conditions on usage_events (a tag is containment in `tags`). */
function rawEventFilters(q: ReportQuery, params: unknown[]): string[] {
  const where: string[] = [];
  for (const [dimension, values] of Object.entries(q.filters)) {
    params.push(values);
    where.push(`${COLUMN[dimension as Dimension]} = ANY($${params.length}::text[])`);
  }
  if (q.tag) {
    params.push(JSON.stringify({ [q.tag.key]: q.tag.value }));
    where.push(`tags @> $${params.length}::jsonb`);
  }
  return where;
}

/** A row of REPORT_SQL.providerCost. */
export interface ProviderCostRow {
  provider: string;
  model: string;
  events: string;
  tracked_cost: string;
  provider_cost: string;
  other_events: string;
  other_provider_cost: string;
}

/** A row of REPORT_SQL.performance. */
export interface PerformanceRow {
  provider: string;
  model: string;
  events: string;
  error_events: string;
  latency_ms_sum: string | null;
  latency_events: string;
}

/**
 * Where a keyset page of events ends, in their (occurred_at, project_id, event_id) order: the time as an
 * ISO text with microseconds (or an instant to start after), the project, the event id.
 */
export type EventCursorKey = [Date | string, string, string];

/** A row of REPORT_SQL.rawEvents: a stored event (bigint and numeric columns as strings) and its UTC time. */
export interface RawEventRow extends Record<`${TokenKind}_tokens`, string> {
  ts: string;
  project_id: string;
  event_id: string;
  occurred_at: Date;
  provider: string;
  model: string;
  operation: string | null;
  status: string;
  images: number;
  image_size: string | null;
  image_quality: string | null;
  latency_ms: number | null;
  team: string;
  user_id: string;
  feature: string;
  environment: string;
  tags: Record<string, string>;
  cost_usd: string | null;
  cost_ingested_usd: string | null;
  provider_cost_usd: string | null;
  priced: boolean;
  pricing: PricingState;
  unpriced_kinds: string[] | null;
  counted_at: string | null;
}

/**
 * The reports' reads of the rollups (and the raw export's of usage_events):
 * REPORT_SQL with typed rows. Reads that must see one snapshot take the
 * caller's transaction (`tx`).
 */
@Injectable()
export class ReportsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async buckets(q: ReportQuery): Promise<Date[]> {
    const { sql, params } = REPORT_SQL.buckets(q);
    return (await queryRows<{ b: Date }>(this.db, sql, params)).map((row) => new Date(row.b));
  }

  /** The total of each item, read from one rollup family. */
  totals(
    table: string,
    items: TotalItem[],
    basis: 'restated' | 'ingested',
  ): Promise<Array<{ key: string; cost: string }>> {
    const { sql, params } = REPORT_SQL.totals(table, items, basis);
    return queryRows(this.db, sql, params);
  }

  spend(q: ReportQuery, tx: Queryable = this.db): Promise<SpendRow[]> {
    const { sql, params } = REPORT_SQL.spend(q, q.from, q.to);
    return queryRows<SpendRow>(tx, sql, params);
  }

  userRanking(q: ReportQuery, buckets: Date[], limit: number, tx: Queryable = this.db): Promise<UserRankingRow[]> {
    const { sql, params } = REPORT_SQL.userRanking(q, buckets, limit);
    return queryRows<UserRankingRow>(tx, sql, params);
  }

  summary(q: ReportQuery, w: { start: Date; now: Date; prevStart: Date; prevSamePoint: Date }): Promise<SummaryRow[]> {
    const { sql, params } = REPORT_SQL.summary(q, w);
    return queryRows<SummaryRow>(this.db, sql, params);
  }

  tokensOverTime(q: ReportQuery): Promise<TokensOverTimeRow[]> {
    const { sql, params } = REPORT_SQL.tokensOverTime(q);
    return queryRows<TokensOverTimeRow>(this.db, sql, params);
  }

  tokensBreakdown(q: ReportQuery): Promise<TokensBreakdownRow[]> {
    const { sql, params } = REPORT_SQL.tokensBreakdown(q);
    return queryRows<TokensBreakdownRow>(this.db, sql, params);
  }

  usageForPricing(q: ReportQuery, priceChanges: Date[]): Promise<UsageForPricingRow[]> {
    const { sql, params } = REPORT_SQL.usageForPricing(q, priceChanges);
    return queryRows<UsageForPricingRow>(this.db, sql, params);
  }

  performance(q: ReportQuery): Promise<PerformanceRow[]> {
    const { sql, params } = REPORT_SQL.performance(q);
    return queryRows<PerformanceRow>(this.db, sql, params);
  }

  providerCost(q: ReportQuery): Promise<ProviderCostRow[]> {
    const { sql, params } = REPORT_SQL.providerCost(q);
    return queryRows<ProviderCostRow>(this.db, sql, params);
  }

  rawEvents(q: ReportQuery, after: EventCursorKey, limit: number): Promise<RawEventRow[]> {
    const { sql, params } = REPORT_SQL.rawEvents(q, after, limit);
    return queryRows<RawEventRow>(this.db, sql, params);
  }

  projectNames(): Promise<Array<{ id: string; name: string }>> {
    return queryRows(this.db, REPORT_SQL.projectNames);
  }
}
