/**
 * Every statement of the ingest feature, in one place.
 *
 * `insertEvents` is one statement, so one implicit transaction: it inserts the
 * batch's events (skipping event_ids the project already has) and, from the
 * rows actually inserted, appends one rollup delta per (hour, dimension set).
 * An event and its share of the rollup are committed together or not at all,
 * and a replayed event adds nothing to either.
 */
const ROLLUP_MEASURES = `events, unpriced_events, error_events, images,
  input_text_tokens, cached_input_text_tokens, input_image_tokens,
  cached_input_image_tokens, output_image_tokens, output_text_tokens, cost_usd, cost_ingested_usd,
  partial_events, partial_cost_usd, per_image_images`;
const MEASURE_NAMES = ROLLUP_MEASURES.split(',').map((m) => m.trim());

/**
 * The rollup families. Each is an hourly table, an append-only delta table
 * and a `_live` view over both, keyed by its own dimensions: the main one by
 * everything but the user (thousands of users an hour would make it as large
 * as the events), one by tag, one by user.
 */
export interface RollupFamily {
  deltas: string;
  hourly: string;
  key: string[];
  /** Extra FROM item, for families that fan an event out (one row per tag). */
  fanOut?: (alias: string) => string;
}

const MAIN_KEY = ['bucket', 'project_id', 'provider', 'model', 'team', 'feature', 'environment', 'image_size', 'image_quality'];
export const ROLLUPS: RollupFamily[] = [
  { deltas: 'usage_rollup_deltas', hourly: 'usage_rollup_hourly', key: MAIN_KEY },
  { deltas: 'usage_rollup_tag_deltas', hourly: 'usage_rollup_tag_hourly', key: [...MAIN_KEY, 'tag_key', 'tag_value'], fanOut: (alias) => `jsonb_each_text(${alias}.tags) t` },
  { deltas: 'usage_rollup_user_deltas', hourly: 'usage_rollup_user_hourly', key: ['bucket', 'project_id', 'provider', 'model', 'user_id'] },
];

/** The value of a rollup key column, from an event row aliased `alias`. */
function keyValue(column: string, alias: string): string {
  switch (column) {
    case 'bucket':
      return `date_trunc('hour', ${alias}.occurred_at, 'UTC')`;
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
 */
export const EVENT_MEASURES = (a: string) => `count(*), count(*) FILTER (WHERE ${a}.pricing = 'unpriced'), count(*) FILTER (WHERE ${a}.status = 'error'), sum(${a}.images),
  sum(${a}.input_text_tokens), sum(${a}.cached_input_text_tokens), sum(${a}.input_image_tokens),
  sum(${a}.cached_input_image_tokens), sum(${a}.output_image_tokens), sum(${a}.output_text_tokens),
  coalesce(sum(${a}.cost_usd), 0), coalesce(sum(${a}.cost_ingested_usd), 0),
  count(*) FILTER (WHERE ${a}.pricing = 'partial'), coalesce(sum(${a}.cost_usd) FILTER (WHERE ${a}.pricing = 'partial'), 0),
  coalesce(sum(${a}.images) FILTER (WHERE ${a}.output_image_tokens = 0 AND ${a}.status = 'ok'), 0)`;

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

function compactStatement(family: RollupFamily): string {
  const key = family.key.join(', ');
  return `
    WITH moved AS (
      DELETE FROM ${family.deltas}
      WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${family.deltas} LIMIT $1))
      RETURNING *
    )
    INSERT INTO ${family.hourly} AS r (${key}, ${ROLLUP_MEASURES})
    SELECT ${key}, ${MEASURE_NAMES.map((m) => `sum(${m})`).join(', ')}
    FROM moved
    GROUP BY ${key}
    ON CONFLICT (${key}) DO UPDATE SET
      ${MEASURE_NAMES.map((m) => `${m} = r.${m} + EXCLUDED.${m}`).join(',\n      ')}`;
}

export const SQL = {
  insertEvents: `
    WITH input AS (
      SELECT * FROM unnest(
        $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
        $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
        $13::int[], $14::text[], $15::text[], $16::text[], $17::int[],
        $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],
        $23::numeric[], $24::text[], $25::text[], $26::uuid[]
      ) AS t(event_id, occurred_at, provider, model, operation,
             input_text_tokens, cached_input_text_tokens, input_image_tokens,
             cached_input_image_tokens, output_image_tokens, output_text_tokens,
             images, image_size, image_quality, status, latency_ms,
             team, user_id, feature, environment, tags,
             cost_usd, pricing, unpriced_kinds, price_version_id)
    ), inserted AS (
      INSERT INTO usage_events (
        project_id, event_id, occurred_at, provider, model, operation,
        input_text_tokens, cached_input_text_tokens, input_image_tokens,
        cached_input_image_tokens, output_image_tokens, output_text_tokens,
        images, image_size, image_quality, status, latency_ms,
        team, user_id, feature, environment, tags, cost_usd, cost_ingested_usd, priced, pricing, unpriced_kinds, price_version_id)
      SELECT $1::uuid, event_id, occurred_at, provider, model, operation,
        input_text_tokens, cached_input_text_tokens, input_image_tokens,
        cached_input_image_tokens, output_image_tokens, output_text_tokens,
        images, image_size, image_quality, status, latency_ms,
        team, user_id, feature, environment, tags::jsonb, cost_usd, cost_usd, pricing = 'priced', pricing,
        string_to_array(unpriced_kinds, ','), price_version_id
      FROM input
      ON CONFLICT (project_id, event_id) DO NOTHING
      RETURNING *
    ),
    ${rollupDeltaCtes('inserted', 'inserted', EVENT_MEASURES('inserted'))}
    SELECT event_id FROM inserted`,

  storedCosts: `
    SELECT event_id, cost_usd, pricing, unpriced_kinds, price_version_id FROM usage_events
    WHERE project_id = $1 AND event_id = ANY($2::text[])`,

  /**
   * Folds rollup deltas into the hourly rollup. DELETE ... RETURNING feeds the
   * upsert in one statement, so each delta is moved exactly once; deltas that
   * commit meanwhile are not visible to the DELETE and wait for the next run.
   */
  compactRollups: ROLLUPS.map(compactStatement),

  tryCompactionLock: `SELECT pg_try_advisory_xact_lock(7291002) AS locked`,
} as const;

export interface EventListFilters {
  from?: string;
  to?: string;
  provider?: string;
  model?: string;
  project?: string;
  team?: string;
  user?: string;
  feature?: string;
  environment?: string;
  status?: string;
  pricing?: string;
  tags?: Record<string, string>;
  cursor?: { occurredAt: string; projectId: string; eventId: string };
  limit: number;
}

const FILTER_COLUMNS: Array<[keyof EventListFilters, string]> = [
  ['provider', 'provider'],
  ['model', 'model'],
  ['project', 'project_id'],
  ['team', 'team'],
  ['user', 'user_id'],
  ['feature', 'feature'],
  ['environment', 'environment'],
  ['status', 'status'],
  ['pricing', 'pricing'],
];

/** Newest first, with a keyset cursor on (occurred_at, project_id, event_id). */
export function listEventsQuery(filters: EventListFilters): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filters.from) where.push(`occurred_at >= ${param(filters.from)}`);
  if (filters.to) where.push(`occurred_at < ${param(filters.to)}`);
  for (const [key, column] of FILTER_COLUMNS) {
    const value = filters[key];
    if (typeof value === 'string') where.push(`${column} = ${param(value)}`);
  }
  if (filters.tags && Object.keys(filters.tags).length > 0) where.push(`tags @> ${param(JSON.stringify(filters.tags))}::jsonb`);
  if (filters.cursor) {
    const { occurredAt, projectId, eventId } = filters.cursor;
    where.push(`(occurred_at, project_id, event_id) < (${param(occurredAt)}::timestamptz, ${param(projectId)}::uuid, ${param(eventId)})`);
  }
  const sql = `
    SELECT *, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at_iso
    FROM usage_events
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY occurred_at DESC, project_id DESC, event_id DESC
    LIMIT ${param(filters.limit + 1)}`;
  return { sql, params };
}
