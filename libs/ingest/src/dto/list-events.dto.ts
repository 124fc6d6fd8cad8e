import { z } from 'zod';
import {
  DomainError,
  field,
  fieldErrorsOf,
  FieldError,
  hasNoNul,
  isTimeZone,
  NUL_MESSAGE,
  wholeNumberParam,
} from '@tokentally/common';
import {
  addDays,
  dateOrDateTimeProblem,
  DIMENSIONS,
  normalizeModelName,
  normalizeProviderSlug,
  parseLocalDate,
  periodBounds,
  startOfLocalDate,
} from '@tokentally/core';
import { EVENT_SORTS, EventCursor, EventFilters, EventListQuery, EventSort } from '../ingest.sql';

/**
 * The query language of GET /v1/events and /v1/events/totals: the reports'
 * (from, to, tz, comma lists of provider, model, project, team, user,
 * feature, environment, `tag:<key>=<value>`), plus status, pricing, image
 * size and quality, and what a drill-down from a report needs: `edges`,
 * `granularity` and `bucket` (docs/ingest.md, "Reading events back").
 */

export const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
type Granularity = (typeof GRANULARITIES)[number];
export const EDGES = ['exact', 'hour'] as const;
type Edges = (typeof EDGES)[number];

const HOUR_MS = 3_600_000;
/** At most this many values in one comma list. */
const MAX_LIST = 100;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Real calendar dates only: `Date.parse` takes 2026-02-30 for March 2.
const dateOrDateTime = z
  .string()
  .superRefine((value, ctx) => {
    const problem = dateOrDateTimeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'A date (2026-11-01: a whole local day of `tz`, `to` inclusive) or an RFC 3339 date-time.' });

/**
 * A comma list, as the reports read one: split at commas, each value
 * trimmed, duplicates dropped. `check` says what is wrong with one value (or
 * null), `normalize` rewrites a good one.
 */
function listParam(check: (value: string) => string | null, normalize: (value: string) => string = (v) => v) {
  return z
    .string()
    .transform((text, ctx): string[] => {
      const values = text.split(',').map((v) => v.trim());
      if (values.length > MAX_LIST) {
        ctx.addIssue({ code: 'custom', message: `must list at most ${MAX_LIST} values (it lists ${values.length})` });
        return z.NEVER;
      }
      for (const value of values) {
        const problem = check(value);
        if (problem) {
          ctx.addIssue({ code: 'custom', message: problem });
          return z.NEVER;
        }
      }
      return [...new Set(values.map(normalize))];
    })
    .optional();
}

const quoted = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
/** Names, slugs: never empty, up to `max` characters. */
const named = (max: number) => (value: string) =>
  value.length === 0
    ? 'must not hold an empty value'
    : value.length > max
      ? `holds a value longer than ${max} characters: ${quoted(value)}`
      : null;
/** Dimension values: up to `max` characters; empty selects the events without one (the reports' "(none)"). */
const dimension = (max: number) => (value: string) =>
  value.length > max ? `holds a value longer than ${max} characters: ${quoted(value)}` : null;
const oneOf = (allowed: readonly string[]) => (value: string) =>
  allowed.includes(value)
    ? null
    : `must be ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]} (comma-separated): ${quoted(value)} is not one`;

/** The comma-list filters, each compared with one column (ingest.sql.ts). */
const LIST_FILTERS = [...DIMENSIONS, 'image_size', 'image_quality', 'status', 'pricing'] as const;

/** The filters both routes take (the list adds sort, limit and cursor). */
const filterShape = {
  from: dateOrDateTime.optional(),
  to: dateOrDateTime.optional(),
  tz: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
  edges: z.enum(EDGES, { error: `must be one of ${EDGES.join(', ')}` }).optional(),
  granularity: z.enum(GRANULARITIES, { error: `must be one of ${GRANULARITIES.join(', ')}` }).optional(),
  bucket: dateOrDateTime.optional(),
  provider: listParam(named(100), normalizeProviderSlug),
  model: listParam(named(200), normalizeModelName),
  project: listParam(
    (v) => (UUID.test(v) ? null : `must be project ids (UUIDs), comma-separated: ${quoted(v)} is not one`),
    (v) => v.toLowerCase(),
  ),
  team: listParam(dimension(200)),
  user: listParam(dimension(200)),
  feature: listParam(dimension(200)),
  environment: listParam(dimension(200)),
  image_size: listParam(dimension(50)),
  image_quality: listParam(dimension(50)),
  status: listParam(oneOf(['ok', 'error'])),
  pricing: listParam(oneOf(['priced', 'partial', 'unpriced'])),
};

const totalsSchema = z.object(filterShape).strict();

const listSchema = z
  .object({
    ...filterShape,
    sort: z.enum(EVENT_SORTS, { error: `must be one of ${EVENT_SORTS.join(', ')}` }).default('-time'),
    limit: wholeNumberParam(1, 1000, 100),
    cursor: z.string().max(1000, 'is not a cursor this API gave out').optional(),
  })
  .strict();

type Query = Record<string, string | string[] | undefined>;

/** GET /v1/events: filters, sort, page size and cursor. */
export function parseListEventsQuery(query: Query): EventListQuery {
  const { data, tags, errors } = parseWith(listSchema, query);
  let cursor: EventCursor | undefined;
  if (data && data.cursor !== undefined) {
    cursor = decodeCursor(data.cursor);
    if (!cursor) errors.push({ path: 'cursor', message: 'is not a cursor this API gave out' });
    else if (cursor.sort !== data.sort)
      errors.push({
        path: 'cursor',
        message: `was given out for sort=${cursor.sort}, not sort=${data.sort} (start again without a cursor)`,
      });
  } else if (!data && typeof query.cursor === 'string' && !decodeCursor(query.cursor)) {
    // Named with the other bad parameters, so one answer lists them all.
    errors.push({ path: 'cursor', message: 'is not a cursor this API gave out' });
  }
  const filters = data && rangeOf(data, errors);
  if (errors.length > 0 || !data || !filters) throw DomainError.validation(dedupe(errors));
  return { ...filters, tags, sort: data.sort, limit: data.limit, cursor };
}

/** GET /v1/events/totals: the same filters. */
export function parseEventTotalsQuery(query: Query): EventFilters {
  const { data, tags, errors } = parseWith(totalsSchema, query);
  const filters = data && rangeOf(data, errors);
  if (errors.length > 0 || !data || !filters) throw DomainError.validation(dedupe(errors));
  return { ...filters, tags };
}

const eventKeySchema = z.object({ project_id: field.uuid(), event_id: field.string(200) });

/** The query and path schemas, for the OpenAPI document (libs/openapi); `tag:<key>` filters are read outside them. */
export { listSchema as listEventsQuerySchema, totalsSchema as eventTotalsQuerySchema, eventKeySchema };

/** The path of GET /v1/events/:project_id/:event_id. */
export function parseEventKey(params: { project_id?: unknown; event_id?: unknown }): {
  projectId: string;
  eventId: string;
} {
  const parsed = eventKeySchema.safeParse(params);
  if (!parsed.success) throw DomainError.validation(fieldErrorsOf(parsed.error));
  return { projectId: parsed.data.project_id.toLowerCase(), eventId: parsed.data.event_id };
}

/**
 * Splits `tag:<key>=<value>` filters from the other parameters (every tag
 * filter must match; a tag named __proto__ is a tag like any other) and
 * refuses NUL characters and repeated parameters, before the schema runs.
 */
function parseWith<S extends z.ZodType>(
  schema: S,
  query: Query,
): { data: z.output<S> | null; tags: Record<string, string>; errors: FieldError[] } {
  const tags: Record<string, string> = Object.create(null);
  const plain: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) {
      errors.push({ path: key, message: 'must be given once' });
      continue;
    }
    if (!hasNoNul(key) || (value !== undefined && !hasNoNul(value))) {
      // PostgreSQL text cannot hold NUL: refused here, before any query.
      errors.push({ path: key, message: NUL_MESSAGE });
      continue;
    }
    if (key.startsWith('tag:')) {
      const name = key.slice(4);
      if (name.length === 0 || name.length > 64)
        errors.push({ path: key, message: 'must name a tag of 1 to 64 characters (tag:<name>=<value>)' });
      else if ((value ?? '').length > 200) errors.push({ path: key, message: 'must be at most 200 characters' });
      else tags[name] = value ?? '';
    } else plain[key] = value;
  }
  const parsed = schema.safeParse(plain);
  if (!parsed.success) errors.push(...fieldErrorsOf(parsed.error));
  // A spread copy: the null-prototype object is for reading keys safely, JSON.stringify takes either.
  return { data: parsed.success ? parsed.data : null, tags: { ...tags }, errors };
}

type Parsed = z.output<typeof totalsSchema>;

/**
 * The instant a `from` or `to` stands for, as the reports read it: a
 * date-time is that instant; a date is a local day of `tz`, whose start
 * `from` takes and whose end (the next local midnight) `to` takes, with
 * libs/core's calendar.
 */
function instantOf(text: string, tz: string, edge: 'from' | 'to'): Date {
  const date = DATE_ONLY.test(text) ? parseLocalDate(text) : null;
  if (!date) return new Date(Date.parse(text));
  return startOfLocalDate(edge === 'from' ? date : addDays(date, 1), tz);
}

const floorHour = (at: Date) => new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
const ceilHour = (at: Date) => new Date(Math.ceil(at.getTime() / HOUR_MS) * HOUR_MS);
const later = (a: Date | undefined, b: Date) => (a === undefined || b > a ? b : a);
const earlier = (a: Date | undefined, b: Date) => (a === undefined || b < a ? b : a);

/** The report bucket of `granularity` starting at `start` in `tz` (hours are UTC hours), as the reports make them. */
function bucketOf(granularity: Granularity, tz: string, start: Date): { start: Date; end: Date } {
  if (granularity === 'hour') {
    const hour = floorHour(start);
    return { start: hour, end: new Date(hour.getTime() + HOUR_MS) };
  }
  return periodBounds(granularity, tz, start);
}

/**
 * The bounds on `occurred_at` that the query stands for (see docs/ingest.md):
 *
 * - `edges=exact` (the default without `granularity`): [from, to) exactly.
 * - `edges=hour` (the default with `granularity`): the reports' hour rule. A
 *   report counts every hourly rollup row whose hour starts in
 *   [floorHour(from), to), so an event counts when its UTC hour does:
 *   occurred_at in [floorHour(from), ceilHour(to)).
 * - `granularity`: only the hours a bucketed report shows, those of its
 *   buckets: where a bucket starts inside an hour (a local midnight in a
 *   half-hour zone), that hour belongs to the bucket before, which for the
 *   first bucket is outside the report.
 * - `bucket` (with `granularity`): only that bucket of the report, one bar.
 */
function rangeOf(q: Parsed, errors: FieldError[]): Omit<EventFilters, 'tags'> | null {
  const from = q.from === undefined ? undefined : instantOf(q.from, q.tz, 'from');
  const to = q.to === undefined ? undefined : instantOf(q.to, q.tz, 'to');
  if (from && to && from >= to) errors.push({ path: 'to', message: 'must be after from' });
  if (q.bucket !== undefined && q.granularity === undefined) {
    errors.push({ path: 'bucket', message: "needs granularity (the report's: hour, day, week or month)" });
  }
  let bucket: { start: Date; end: Date } | undefined;
  if (q.bucket !== undefined && q.granularity !== undefined) {
    const start = instantOf(q.bucket, q.tz, 'from');
    bucket = bucketOf(q.granularity, q.tz, start);
    if (bucket.start.getTime() !== start.getTime()) {
      errors.push({
        path: 'bucket',
        message: `is not the start of a ${q.granularity} bucket in ${q.tz} (the one holding it starts at ${bucket.start.toISOString()})`,
      });
    }
  }
  if (errors.length > 0) return null;

  const edges: Edges = q.edges ?? (q.granularity ? 'hour' : 'exact');
  let lower: Date | undefined;
  let upper: Date | undefined;
  if (edges === 'exact') {
    lower = from;
    upper = to;
    if (bucket) {
      lower = later(lower, bucket.start);
      upper = earlier(upper, bucket.end);
    }
  } else {
    // An event's hour h is in [a, b) when occurred_at is in [ceilHour(a), ceilHour(b)); floorHour(from) is on the hour.
    lower = from && floorHour(from);
    upper = to && ceilHour(to);
    if (from && q.granularity) lower = later(lower, ceilHour(bucketOf(q.granularity, q.tz, from).start));
    if (bucket) {
      lower = later(lower, ceilHour(bucket.start));
      upper = earlier(upper, ceilHour(bucket.end));
    }
  }
  const lists: Omit<EventFilters, 'tags' | 'from' | 'to'> = {};
  for (const key of LIST_FILTERS) if (q[key] !== undefined) lists[key] = q[key];
  return { ...lists, from: lower, to: upper };
}

/** One error per path and message (a repeated cursor problem is said once). */
function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---- cursors -----------------------------------------------------------------

const CURSOR_VERSION = 2;
const COST = /^-?\d{1,30}(?:\.\d{1,30})?$/;

/** Where a page ended, for the next: opaque to clients (base64url JSON), checked when it comes back. */
export function encodeCursor(c: EventCursor): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, c.sort, c.occurredAt, c.projectId, c.eventId, c.cost])).toString(
    'base64url',
  );
}

/**
 * A cursor this API gave out, or undefined. Each part goes into the query as
 * a timestamptz, a uuid, text and a numeric: a forged cursor must fail here,
 * not there. Cursors of the first version (time, project, event: newest
 * first) still page.
 */
function decodeCursor(text: string): EventCursor | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts)) return undefined;
  let sort: unknown = '-time';
  let rest: unknown[] = parts;
  let cost: unknown = null;
  if (parts.length === 6 && parts[0] === CURSOR_VERSION) [, sort, ...rest] = parts;
  else if (parts.length !== 3) return undefined;
  if (rest.length === 4) cost = rest.pop();
  const [occurredAt, projectId, eventId] = rest;
  const strings = [occurredAt, projectId, eventId].every((part) => typeof part === 'string' && hasNoNul(part));
  if (!strings || !(EVENT_SORTS as readonly unknown[]).includes(sort)) return undefined;
  const at = occurredAt as string;
  if (
    DATE_ONLY.test(at) ||
    dateOrDateTimeProblem(at) !== null ||
    !UUID.test(projectId as string) ||
    (eventId as string).length > 200
  )
    return undefined;
  const bySort = (sort as EventSort).endsWith('cost');
  if (cost !== null && !(bySort && typeof cost === 'string' && COST.test(cost))) return undefined;
  return {
    sort: sort as EventSort,
    occurredAt: at,
    projectId: projectId as string,
    eventId: eventId as string,
    cost: cost as string | null,
  };
}
