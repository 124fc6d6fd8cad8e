import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PricingState, TOKEN_KINDS, TokenKind } from '@tokentally/core';
import { Database, isoMicroseconds, queryRows } from '@tokentally/db';
import { BOOKED_AT } from './periods.sql';

/**
 * Every statement of the ingest feature, in one place.
 *
 * `insertEvents` is one statement, so one implicit transaction: it inserts the
 * batch's events (skipping event_ids the project already has: their keys are in
 * usage_event_keys, as events are stored by month) and, from the
 * rows actually inserted, appends one rollup delta per (hour, dimension set).
 * An event and its share of the rollup are committed together or not at all,
 * and a replayed event adds nothing to either.
 */
const ROLLUP_MEASURES = `events, unpriced_events, error_events, images,
  input_text_tokens, cached_input_text_tokens, input_image_tokens,
  cached_input_image_tokens, output_image_tokens, output_text_tokens, cost_usd, cost_ingested_usd,
  partial_events, partial_cost_usd, per_image_images, latency_ms_sum, latency_events`;
const MEASURE_NAMES = ROLLUP_MEASURES.split(',').map((m) => m.trim());

/**
 * The rollup families. Each is an hourly table, an append-only delta table
 * and a `_live` view over both, keyed by its own dimensions: the main one by
 * everything but the user (thousands of users an hour would make it as large
 * as the events), one by tag, one by user. The user family also has tables
 * by UTC day and by UTC month (same key, `bucket` the day or month), folded
 * in by the compactor from the same deltas, so ranking users over a range
 * reads a row per user and month or day (docs/reports.md, "How user reports
 * stay fast").
 */
export interface RollupFamily {
  deltas: string;
  hourly: string;
  /** The same key and measures by UTC day and by UTC month, moved in with the hourly rows. */
  coarser?: { daily: string; monthly: string };
  key: string[];
  /** Extra FROM item, for families that fan an event out (one row per tag). */
  fanOut?: (alias: string) => string;
}

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
export const ROLLUPS: RollupFamily[] = [
  { deltas: 'usage_rollup_deltas', hourly: 'usage_rollup_hourly', key: MAIN_KEY },
  {
    deltas: 'usage_rollup_tag_deltas',
    hourly: 'usage_rollup_tag_hourly',
    key: [...MAIN_KEY, 'tag_key', 'tag_value'],
    fanOut: (alias) => `jsonb_each_text(${alias}.tags) t`,
  },
  {
    deltas: 'usage_rollup_user_deltas',
    hourly: 'usage_rollup_user_hourly',
    coarser: { daily: 'usage_rollup_user_daily', monthly: 'usage_rollup_user_monthly' },
    key: ['bucket', 'project_id', 'provider', 'model', 'user_id'],
  },
];

/** The value of a rollup key column, from an event row aliased `alias`. */
function keyValue(column: string, alias: string): string {
  switch (column) {
    case 'bucket':
      // An event that arrived for a closed month is counted at its booking time (periods.sql.ts).
      return `date_trunc('hour', coalesce(${alias}.booked_at, ${alias}.occurred_at), 'UTC')`;
    case 'image_size':
    case 'image_quality':
      return `coalesce(${alias}.${column}, '')`;
    case 'tag_key':
      return 't.key';
    case 'tag_value':
      return 't.value';
    default:
      return `${alias}.${column}`;
  }
}

/**
 * Measures of newly stored events. `cost_usd` counts priced and partly priced
 * events (a partial event's cost is that of its priced kinds); partial events
 * and their cost are also counted apart, unpriced events only by number.
 * `per_image_images`: images of successful calls not counted in output tokens (priced per image).
 * `latency_ms_sum` and `latency_events`: the latencies given and how many events gave one.
 */
export const EVENT_MEASURES = (
  a: string,
) => `count(*), count(*) FILTER (WHERE ${a}.pricing = 'unpriced'), count(*) FILTER (WHERE ${a}.status = 'error'), sum(${a}.images),
  sum(${a}.input_text_tokens), sum(${a}.cached_input_text_tokens), sum(${a}.input_image_tokens),
  sum(${a}.cached_input_image_tokens), sum(${a}.output_image_tokens), sum(${a}.output_text_tokens),
  coalesce(sum(${a}.cost_usd), 0), coalesce(sum(${a}.cost_ingested_usd), 0),
  count(*) FILTER (WHERE ${a}.pricing = 'partial'), coalesce(sum(${a}.cost_usd) FILTER (WHERE ${a}.pricing = 'partial'), 0),
  coalesce(sum(${a}.images) FILTER (WHERE ${a}.output_image_tokens = 0 AND ${a}.status = 'ok'), 0),
  coalesce(sum(${a}.latency_ms), 0), count(${a}.latency_ms)`;

/**
 * One CTE per rollup family appending the deltas of the event rows in `from`
 * (alias `alias`), with `measures` computed per group.
 */
export function rollupDeltaCtes(from: string, alias: string, measures: string): string {
  return ROLLUPS.map((family, i) => {
    const fanOut = family.fanOut ? `, ${family.fanOut(alias)}` : '';
    return `rolled_${i} AS (
      INSERT INTO ${family.deltas} (${family.key.join(', ')}, ${ROLLUP_MEASURES})
      SELECT ${family.key.map((c) => keyValue(c, alias)).join(', ')}, ${measures}
      FROM ${from}${fanOut}
      GROUP BY ${family.key.map((_, k) => k + 1).join(', ')}
    )`;
  }).join(',\n    ');
}

/** Adds the rows of `source` into `table`, summed by `key` (`bucket` as `bucketOf` gives it). */
function foldInto(table: string, key: string[], source: string, bucketOf = 'bucket'): string {
  const columns = key.join(', ');
  const values = key.map((c) => (c === 'bucket' ? bucketOf : c));
  return `INSERT INTO ${table} AS r (${columns}, ${ROLLUP_MEASURES})
    SELECT ${values.join(', ')}, ${MEASURE_NAMES.map((m) => `sum(${m})`).join(', ')}
    FROM ${source}
    GROUP BY ${key.map((_, i) => i + 1).join(', ')}
    ON CONFLICT (${columns}) DO UPDATE SET
      ${MEASURE_NAMES.map((m) => `${m} = r.${m} + EXCLUDED.${m}`).join(',\n      ')}`;
}

/**
 * One statement per family: the deltas deleted are added to the hourly table
 * and, for the user family, to the daily and monthly ones (their UTC day and
 * month), so all of them always hold the same deltas. The user family sums
 * the deltas by hourly key once and folds those sums into the three tables.
 * Each answers how many deltas it moved (`moved`).
 */
function compactStatement(family: RollupFamily): string {
  const moved = `moved AS (
      DELETE FROM ${family.deltas}
      WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${family.deltas} LIMIT $1))
      RETURNING *
    )`;
  const count = `SELECT count(*)::int AS moved FROM moved`;
  if (!family.coarser)
    return `WITH ${moved}, hourly AS (
    ${foldInto(family.hourly, family.key, 'moved')}
    )
    ${count}`;
  const byHour = `by_hour AS MATERIALIZED (
      SELECT ${family.key.join(', ')}, ${MEASURE_NAMES.map((m) => `sum(${m}) AS ${m}`).join(', ')}
      FROM moved GROUP BY ${family.key.join(', ')}
    )`;
  return `WITH ${moved}, ${byHour}, hourly AS (
    ${foldInto(family.hourly, family.key, 'by_hour')}
    ), daily AS (
    ${foldInto(family.coarser.daily, family.key, 'by_hour', `date_trunc('day', bucket, 'UTC')`)}
    ), monthly AS (
    ${foldInto(family.coarser.monthly, family.key, 'by_hour', `date_trunc('month', bucket, 'UTC')`)}
    )
    ${count}`;
}

/** The input of the insert statements: one array per column, project_id first (EventToStore's order). */
const INSERT_INPUT = `
    WITH input AS (
      SELECT * FROM unnest(
        $1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
        $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
        $13::int[], $14::text[], $15::text[], $16::text[], $17::int[],
        $18::text[], $19::text[], $20::text[], $21::text[], $22::jsonb[],
        $23::numeric[], $24::text[], $25::text[], $26::uuid[], $27::numeric[]
      ) AS t(project_id, event_id, occurred_at, provider, model, operation,
             input_text_tokens, cached_input_text_tokens, input_image_tokens,
             cached_input_image_tokens, output_image_tokens, output_text_tokens,
             images, image_size, image_quality, status, latency_ms,
             team, user_id, feature, environment, tags,
             cost_usd, pricing, unpriced_kinds, price_version_id, provider_cost_usd)
    )`;

/** Inserts the events of `from` (input's columns and cost_ingested_usd) into usage_events. */
const insertEventRows = (from: string) => `INSERT INTO usage_events (
        project_id, event_id, occurred_at, provider, model, operation,
        input_text_tokens, cached_input_text_tokens, input_image_tokens,
        cached_input_image_tokens, output_image_tokens, output_text_tokens,
        images, image_size, image_quality, status, latency_ms,
        team, user_id, feature, environment, tags, cost_usd, cost_ingested_usd, priced, pricing, unpriced_kinds, price_version_id,
        provider_cost_usd, booked_at)
      SELECT project_id, event_id, occurred_at, provider, model, operation,
        input_text_tokens, cached_input_text_tokens, input_image_tokens,
        cached_input_image_tokens, output_image_tokens, output_text_tokens,
        images, image_size, image_quality, status, latency_ms,
        team, user_id, feature, environment, tags, cost_usd, cost_usd, pricing = 'priced', pricing,
        string_to_array(unpriced_kinds, ','), price_version_id, provider_cost_usd, booked_at
      FROM ${from}`;

export const SQL = {
  /**
   * One or more requests' events, unique by (project_id, event_id) and sorted so, all of them new: the keys, the
   * events and their rollup deltas, straight from the input. A key stored before makes the whole statement fail
   * on usage_event_keys_pkey (nothing of it is kept) and UsageEventsRepository runs insertEvents instead. This is
   * the common case made cheap: no `ON CONFLICT` probe before each key, no join of the input with the keys
   * inserted, no materialized copy of the rows, no search for duplicates to answer (bench/RESULTS.md).
   */
  insertNewEvents: `${INSERT_INPUT}, fresh_rows AS (
      SELECT input.*, input.cost_usd AS cost_ingested_usd, ${BOOKED_AT('input')} AS booked_at FROM input
    ), keys AS (
      INSERT INTO usage_event_keys (project_id, event_id, occurred_at)
      SELECT project_id, event_id, occurred_at FROM input
    ), inserted AS (
      ${insertEventRows('fresh_rows')}
    ),
    ${rollupDeltaCtes('fresh_rows', 'fresh_rows', EVENT_MEASURES('fresh_rows'))}
    SELECT NULL::uuid AS project_id, NULL::text AS event_id WHERE false`,

  /**
   * The same when some keys may have been stored before: the keys first (`ON CONFLICT DO NOTHING`), then the
   * events whose key was new, and from those same rows the rollup deltas. `fresh_rows` is materialized once and
   * feeds both, so nothing is read back from the insert. It answers the keys that were stored before.
   */
  insertEvents: `${INSERT_INPUT}, fresh AS (
      INSERT INTO usage_event_keys (project_id, event_id, occurred_at)
      SELECT project_id, event_id, occurred_at FROM input
      ON CONFLICT (project_id, event_id) DO NOTHING
      RETURNING project_id, event_id
    ), fresh_rows AS MATERIALIZED (
      SELECT input.*, input.cost_usd AS cost_ingested_usd, ${BOOKED_AT('input')} AS booked_at
      FROM input JOIN fresh USING (project_id, event_id)
    ), inserted AS (
      ${insertEventRows('fresh_rows')}
    ),
    ${rollupDeltaCtes('fresh_rows', 'fresh_rows', EVENT_MEASURES('fresh_rows'))}
    SELECT project_id, event_id FROM input
    WHERE NOT EXISTS (SELECT FROM fresh WHERE fresh.project_id = input.project_id AND fresh.event_id = input.event_id)`,

  storedCosts: `
    SELECT e.event_id, e.cost_usd, e.pricing, e.unpriced_kinds, e.price_version_id
    FROM usage_event_keys k JOIN usage_events e USING (occurred_at, project_id, event_id)
    WHERE k.project_id = $1 AND k.event_id = ANY($2::text[])`,

  /**
   * Folds rollup deltas into the hourly rollup (and the daily and monthly user rollups).
   * DELETE ... RETURNING feeds the upserts in one statement, so each delta is
   * moved exactly once; deltas that commit meanwhile are not visible to the
   * DELETE and wait for the next run.
   */
  compactRollups: ROLLUPS.map(compactStatement),

  tryCompactionLock: `SELECT pg_try_advisory_xact_lock(7291002) AS locked`,

  /**
   * After a compaction, the delta tables' dead rows are made free space again. Deltas are inserted and deleted
   * thousands of times a second under load, and autovacuum looks at a database once a minute: in between, inserts
   * could not reuse the space, the tables grew by a minute of deltas (100+ MB at 30,000 events/s), and every
   * compaction scanned all of it again to find the few live rows (bench/RESULTS.md, "Third session").
   * SKIP_LOCKED: a table that autovacuum is vacuuming already is left to it.
   */
  vacuumDeltas: `VACUUM (SKIP_LOCKED) ${ROLLUPS.map((family) => family.deltas).join(', ')}`,
} as const;

/** The orders of the events list; `-` is descending. */
export const EVENT_SORTS = ['-time', 'time', '-cost', 'cost'] as const;
export type EventSort = (typeof EVENT_SORTS)[number];

/** Filters of the events list and its totals, as validated by dto/list-events.dto.ts. */
export interface EventFilters {
  /**
   * Bounds on `occurred_at`, inclusive and exclusive, already worked out
   * from the query's from/to, tz, edges and bucket (the reports' hour rule
   * or exact instants): the SQL compares the column only, so the
   * (occurred_at, project_id, event_id) index serves the range.
   */
  from?: Date;
  to?: Date;
  provider?: string[];
  model?: string[];
  project?: string[];
  team?: string[];
  user?: string[];
  feature?: string[];
  environment?: string[];
  image_size?: string[];
  image_quality?: string[];
  status?: string[];
  pricing?: string[];
  /** Every one must match (`tags @> {...}`). */
  tags: Record<string, string>;
}

/** Where the last row of a page was, in the order of its sort. `cost` is that row's cost_usd (null: unpriced). */
export interface EventCursor {
  sort: EventSort;
  occurredAt: string;
  projectId: string;
  eventId: string;
  cost: string | null;
}

export interface EventListQuery extends EventFilters {
  sort: EventSort;
  cursor?: EventCursor;
  limit: number;
}

/**
 * The column each list filter compares. Image size and quality are compared
 * as the rollups key them (absent is ''), so an empty value selects the
 * events without one, as the reports' "(none)" rows hold them.
 */
const FILTER_COLUMNS: Array<[keyof EventFilters, string, 'uuid' | 'text']> = [
  ['provider', 'provider', 'text'],
  ['model', 'model', 'text'],
  ['project', 'project_id', 'uuid'],
  ['team', 'team', 'text'],
  ['user', 'user_id', 'text'],
  ['feature', 'feature', 'text'],
  ['environment', 'environment', 'text'],
  ['image_size', `coalesce(image_size, '')`, 'text'],
  ['image_quality', `coalesce(image_quality, '')`, 'text'],
  ['status', 'status', 'text'],
  ['pricing', 'pricing', 'text'],
];

/** WHERE clauses of the filters (not the cursor), with their parameters appended to `params`. */
function eventFilterClauses(filters: EventFilters, params: unknown[]): string[] {
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (filters.from) where.push(`occurred_at >= ${param(filters.from)}::timestamptz`);
  if (filters.to) where.push(`occurred_at < ${param(filters.to)}::timestamptz`);
  for (const [key, column, type] of FILTER_COLUMNS) {
    const values = filters[key];
    if (Array.isArray(values)) where.push(`${column} = ANY(${param(values)}::${type}[])`);
  }
  if (Object.keys(filters.tags).length > 0) where.push(`tags @> ${param(JSON.stringify(filters.tags))}::jsonb`);
  return where;
}

const whereOf = (clauses: string[]) => (clauses.length ? `WHERE ${clauses.join(' AND ')}` : '');

/** A stored event as the list and the detail show it (every column, the time at microseconds, whether restated). */
const EVENT_SELECT = `
  SELECT *, ${isoMicroseconds('occurred_at')} AS occurred_at_iso,
    cost_usd::text AS cost_text, (cost_usd IS DISTINCT FROM cost_ingested_usd) AS restated
  FROM usage_events`;

/**
 * ORDER BY and the keyset condition after a cursor, per sort. Every order
 * ends with (occurred_at, project_id, event_id), unique, so each event has
 * one place and a page boundary never skips or repeats one. Unpriced events
 * (cost NULL) come last in both cost orders; within them, and between equal
 * costs, the time order follows the direction of the sort.
 */
function orderAndAfter(
  sort: EventSort,
  cursor: EventCursor | undefined,
  param: (value: unknown) => string,
): { order: string; after: string | null } {
  const desc = sort.startsWith('-');
  const dir = desc ? 'DESC' : 'ASC';
  const cmp = desc ? '<' : '>';
  const at = cursor
    ? [`${param(cursor.occurredAt)}::timestamptz`, `${param(cursor.projectId)}::uuid`, `${param(cursor.eventId)}::text`]
    : [];
  if (sort === '-time' || sort === 'time') {
    return {
      order: `occurred_at ${dir}, project_id ${dir}, event_id ${dir}`,
      after: cursor ? `(occurred_at, project_id, event_id) ${cmp} (${at.join(', ')})` : null,
    };
  }
  const order = `cost_usd ${dir} NULLS LAST, occurred_at ${dir}, project_id ${dir}, event_id ${dir}`;
  if (!cursor) return { order, after: null };
  // After an unpriced row: only the unpriced rows further on. After a priced
  // row: the priced rows further on (a row comparison with a NULL cost is
  // never true), then every unpriced one.
  const after =
    cursor.cost === null
      ? `cost_usd IS NULL AND (occurred_at, project_id, event_id) ${cmp} (${at.join(', ')})`
      : `((cost_usd, occurred_at, project_id, event_id) ${cmp} (${param(cursor.cost)}::numeric, ${at.join(', ')}) OR cost_usd IS NULL)`;
  return { order, after };
}

/** One page of events (one row more than `limit`, to tell whether another page follows). */
export function listEventsQuery(q: EventListQuery): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = eventFilterClauses(q, params);
  const { order, after } = orderAndAfter(q.sort, q.cursor, param);
  if (after) where.push(after);
  const sql = `${EVENT_SELECT}
    ${whereOf(where)}
    ORDER BY ${order}
    LIMIT ${param(q.limit + 1)}`;
  return { sql, params };
}

const TOKEN_COLUMNS = TOKEN_KINDS.map((kind) => `${kind}_tokens`);

/**
 * Totals of every event the filters select (not a page), measured as the
 * rollups measure them (EVENT_MEASURES), so a drill-down compares with the
 * report it came from digit for digit. It reads the events of the range
 * through the (occurred_at, ...) index: for the bucket or the range of a
 * report, not for years of a large installation.
 */
export function eventTotalsQuery(filters: EventFilters): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = eventFilterClauses(filters, params);
  const sql = `
    SELECT count(*)::bigint AS events,
      coalesce(sum(cost_usd), 0)::text AS cost_usd,
      coalesce(sum(cost_ingested_usd), 0)::text AS cost_ingested_usd,
      count(*) FILTER (WHERE pricing = 'unpriced')::bigint AS unpriced_events,
      count(*) FILTER (WHERE pricing = 'partial')::bigint AS partial_events,
      coalesce(sum(cost_usd) FILTER (WHERE pricing = 'partial'), 0)::text AS partial_cost_usd,
      count(*) FILTER (WHERE status = 'error')::bigint AS error_events,
      coalesce(sum(images), 0)::bigint AS images,
      ${TOKEN_COLUMNS.map((c) => `coalesce(sum(${c}), 0)::text AS ${c}`).join(',\n      ')}
    FROM usage_events
    ${whereOf(where)}`;
  return { sql, params };
}

export const EVENT_DETAIL_SQL = {
  /**
   * One event by its key: usage_event_keys gives its time, so one month is read.
   * Its restatements: RESTATEMENT_SQL.coveringEvent.
   */
  event: `${EVENT_SELECT}
    WHERE (occurred_at, project_id, event_id) IN (
      SELECT occurred_at, project_id, event_id FROM usage_event_keys WHERE project_id = $1::uuid AND event_id = $2::text)`,
} as const;

/** The token counts of an event row, one bigint column per kind (as strings: pg returns bigint so). */
export type TokenColumns = Record<`${TokenKind}_tokens`, string>;

/** A row of `usage_events` as `pg` returns it: bigint counts and numeric costs as strings. */
export interface UsageEventRow extends TokenColumns {
  project_id: string;
  event_id: string;
  occurred_at: Date;
  provider: string;
  model: string;
  operation: string | null;
  images: number;
  image_size: string | null;
  image_quality: string | null;
  status: 'ok' | 'error';
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
  price_version_id: string | null;
  received_at: Date;
  booked_at: Date | null;
}

/** A row of EVENT_SELECT: the event, its time to the microsecond, its exact cost as text, whether restated. */
export interface EventRow extends UsageEventRow {
  occurred_at_iso: string;
  cost_text: string | null;
  restated: boolean;
}

/** A row of eventTotalsQuery: counts and sums as strings. */
export interface EventTotalsRow extends TokenColumns {
  events: string;
  cost_usd: string;
  cost_ingested_usd: string;
  unpriced_events: string;
  partial_events: string;
  partial_cost_usd: string;
  error_events: string;
  images: string;
}

/** An event's identity across projects, as a Map or Set key. */
export function eventKey(projectId: string, eventId: string): string {
  return `${projectId}\n${eventId}`;
}

/** An event's key as a statement answers it. */
export interface StoredKey {
  project_id: string;
  event_id: string;
}

/** What a replayed event was stored with (SQL.storedCosts). */
export type StoredCostRow = Pick<
  UsageEventRow,
  'event_id' | 'cost_usd' | 'pricing' | 'unpriced_kinds' | 'price_version_id'
>;

/** Statements that check keys first after a replay was met (UsageEventsRepository.insertEvents). */
export const CHECKED_AFTER_A_REPLAY = 100;

/** PostgreSQL's answer to an event key stored before, in SQL.insertNewEvents. */
function isStoredKey(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'usage_event_keys_pkey';
}

/**
 * Stored usage events: the statements above, with typed rows. The batch
 * insert runs as a named prepared statement (the ingest hot path).
 */
@Injectable()
export class UsageEventsRepository {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(Database) private readonly database: Database,
  ) {}

  /** Statements left to run with the key check first, after a batch met a key stored before. */
  private checkedStatementsLeft = 0;

  /**
   * Inserts events (one array literal per column, in the order of SQL.insertEvents, unique by project and event_id)
   * with their rollup deltas, in one statement; the keys of those that were stored before (not inserted again).
   *
   * It first assumes every key is new (SQL.insertNewEvents, the cheap statement); a key stored before fails that
   * statement as a whole, and the events go again through SQL.insertEvents, which skips and answers such keys.
   * Replays come in runs (a client retrying a backlog), so after one the next statements check keys first.
   */
  async insertEvents(columns: string[]): Promise<StoredKey[]> {
    if (this.checkedStatementsLeft === 0) {
      try {
        return await this.database.queryPrepared<StoredKey>('tt_insert_new_events', SQL.insertNewEvents, columns);
      } catch (error) {
        if (!isStoredKey(error)) throw error;
        this.checkedStatementsLeft = CHECKED_AFTER_A_REPLAY;
      }
    } else {
      this.checkedStatementsLeft--;
    }
    return this.database.queryPrepared<StoredKey>('tt_insert_events', SQL.insertEvents, columns);
  }

  /** What these events of the project were stored with. */
  storedCosts(projectId: string, eventIds: string[]): Promise<StoredCostRow[]> {
    return queryRows<StoredCostRow>(this.db, SQL.storedCosts, [projectId, eventIds]);
  }

  /** One page of events, and one row more when another page follows. */
  list(q: EventListQuery): Promise<EventRow[]> {
    const { sql, params } = listEventsQuery(q);
    return queryRows<EventRow>(this.db, sql, params);
  }

  async totals(filters: EventFilters): Promise<EventTotalsRow> {
    const { sql, params } = eventTotalsQuery(filters);
    const [row] = await queryRows<EventTotalsRow>(this.db, sql, params);
    return row;
  }

  async byKey(projectId: string, eventId: string): Promise<EventRow | undefined> {
    const [row] = await queryRows<EventRow>(this.db, EVENT_DETAIL_SQL.event, [projectId, eventId]);
    return row;
  }
}

/** The rollups' background compaction (SQL.compactRollups): one compactor at a time across replicas. */
@Injectable()
export class RollupsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Moves up to `limit` deltas of each family into its rollups, unless another compactor holds the lock, then,
   * when it moved any, vacuums the delta tables (outside the transaction: VACUUM cannot run in one).
   */
  async compact(limit: number): Promise<void> {
    const moved = await this.db.transaction(async (tx) => {
      const [{ locked }] = await queryRows<{ locked: boolean }>(tx, SQL.tryCompactionLock);
      if (!locked) return 0;
      let total = 0;
      for (const statement of SQL.compactRollups) {
        const [row] = await queryRows<{ moved: number }>(tx, statement, [limit]);
        total += row.moved;
      }
      return total;
    });
    if (moved > 0) await this.db.query(SQL.vacuumDeltas);
  }
}
