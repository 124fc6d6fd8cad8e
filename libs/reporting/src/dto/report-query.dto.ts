import { z } from 'zod';
import {
  DomainError,
  FieldError,
  fieldErrorsOf,
  hasNoNul,
  isTimeZone,
  NUL_MESSAGE,
  wholeNumberParam,
} from '@tokentally/common';
import {
  addDays,
  bucketCount,
  dateOrDateTimeProblem,
  Dimension,
  DIMENSIONS,
  normalizeModelName,
  normalizeProviderSlug,
  parseLocalDate,
  startOfLocalDate,
} from '@tokentally/core';

export const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
/** The dimensions are libs/core's (dimensions.ts). */
export { DIMENSIONS };
export type { Dimension };
export type GroupBy = Dimension | `tag:${string}` | 'none';

export interface ReportQuery {
  from: Date;
  to: Date;
  granularity: Granularity;
  tz: string;
  groupBy: GroupBy;
  filters: Partial<Record<Dimension, string[]>>;
  tag: { key: string; value: string } | null;
  basis: 'restated' | 'ingested';
  limit: number;
  raw: boolean;
}

/**
 * At most this many buckets in one report: about 10 years by day (3,653
 * days), 154 days by hour, 70 years by week, 308 by month. Each bucket is a
 * value in every series (and a PNG chart draws them all), so a range of
 * centuries by day would exhaust the process; it is counted before any query.
 */
export const MAX_BUCKETS = 3_700;

/** A UUID as project ids are written (either case). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 100 project ids and the commas between them. */
const PROJECT_LIST_MAX = 100 * 36 + 99;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const dateOrDateTime = z
  .string()
  .superRefine((value, ctx) => {
    const problem = dateOrDateTimeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'A date (2026-11-01: a whole local day of `tz`, `to` inclusive) or an RFC 3339 date-time.' });

/**
 * The instant a `from` or `to` stands for: a date-time is that instant; a date
 * is a local day of `tz`, whose start `from` takes and whose end (the next
 * local midnight, so 25 hours later on the day daylight saving ends) `to`
 * takes, with libs/core's calendar.
 */
function instantOf(text: string, tz: string, edge: 'from' | 'to'): Date {
  const date = DATE_ONLY.test(text) ? parseLocalDate(text) : null;
  if (!date) return new Date(Date.parse(text));
  return startOfLocalDate(edge === 'from' ? date : addDays(date, 1), tz);
}

const UNIT_WORD: Record<Granularity, string> = { hour: 'hourly', day: 'daily', week: 'weekly', month: 'monthly' };

/**
 * Refuses a range that would make more than MAX_BUCKETS buckets, counted by
 * arithmetic (libs/core's bucketCount), before any query is made.
 */
export function assertBucketLimit(q: Pick<ReportQuery, 'from' | 'to' | 'granularity' | 'tz'>): void {
  const count = bucketCount(q.granularity, q.from, q.to, q.tz);
  if (count <= MAX_BUCKETS) return;
  // When even months are too many, the range itself is the problem.
  const path = bucketCount('month', q.from, q.to, q.tz) > MAX_BUCKETS ? 'from' : 'granularity';
  const n = (v: number) => v.toLocaleString('en-US');
  throw DomainError.validation([
    {
      path,
      message: `this range makes ${n(count)} ${UNIT_WORD[q.granularity]} buckets; at most ${n(MAX_BUCKETS)} (narrow from/to or choose a coarser granularity)`,
    },
  ]);
}

const schema = z
  .object({
    from: dateOrDateTime.optional(),
    to: dateOrDateTime.optional(),
    granularity: z.enum(GRANULARITIES, { error: `must be one of ${GRANULARITIES.join(', ')}` }).default('day'),
    tz: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
    group_by: z
      .string()
      .refine(
        (v) => v === 'none' || (DIMENSIONS as readonly string[]).includes(v) || /^tag:[^\s]{1,64}$/.test(v),
        `must be one of ${DIMENSIONS.join(', ')}, tag:<key> or none`,
      )
      .default('provider'),
    basis: z.enum(['restated', 'ingested'], { error: 'must be restated or ingested' }).default('restated'),
    limit: wholeNumberParam(1, 100, 12),
    raw: z.enum(['0', '1', 'true', 'false']).optional(),
    // A list of values; `project` holds up to 100 ids (a scoped viewer key's projects are filled in here).
    ...Object.fromEntries(
      DIMENSIONS.map((d) => [
        d,
        z
          .string()
          .min(1)
          .max(d === 'project' ? PROJECT_LIST_MAX : 1000)
          .optional(),
      ]),
    ),
  })
  .strict();

/** The report parameters, for the OpenAPI document (libs/openapi); a `tag:<key>` filter is read outside them. */
export const reportQuerySchema = schema;

export interface ParseOptions {
  /** Days before `to` when `from` is not given (30). */
  defaultDays?: number;
  /**
   * Whether the report builds buckets of `granularity` over the range (spend,
   * tokens, the aggregated export, their charts: true, the default) and so is
   * bounded by MAX_BUCKETS. The summary, compare-providers and the raw export
   * do not bucket.
   */
  buckets?: boolean;
}

/** Parses report query parameters; dates without a time are local days in `tz` (`to` inclusive). */
export function parseReportQuery(
  query: Record<string, string | string[] | undefined>,
  options: ParseOptions = {},
): ReportQuery {
  const plain: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  let tag: ReportQuery['tag'] = null;
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) {
      errors.push({ path: key, message: 'must be given once' });
    } else if (!hasNoNul(key) || (value !== undefined && !hasNoNul(value))) {
      // PostgreSQL text cannot hold NUL: refused here, before any query (a filter, a tag, group_by, tz alike).
      errors.push({ path: key, message: NUL_MESSAGE });
    } else if (key.startsWith('tag:')) {
      const name = key.slice(4);
      // Tag names are 1 to 64 characters at ingest: an empty or longer one matches nothing and is a mistake.
      if (name.length === 0 || name.length > 64)
        errors.push({ path: key, message: 'must name a tag of 1 to 64 characters (tag:<name>=<value>)' });
      else if (tag) errors.push({ path: key, message: 'only one tag filter at a time' });
      else tag = { key: name, value: value ?? '' };
    } else plain[key] = value;
  }
  const parsed = schema.safeParse(plain);
  if (!parsed.success) errors.push(...fieldErrorsOf(parsed.error));
  if (errors.length > 0 || !parsed.success) throw DomainError.validation(errors);
  const q = parsed.data as z.output<typeof schema> & Record<string, string | undefined>;
  const day = 24 * 3600 * 1000;
  const to = q.to ? instantOf(q.to, q.tz, 'to') : new Date();
  const from = q.from ? instantOf(q.from, q.tz, 'from') : new Date(to.getTime() - (options.defaultDays ?? 30) * day);
  if (from >= to) throw DomainError.validation([{ path: 'to', message: 'must be after from' }]);
  const raw = q.raw === '1' || q.raw === 'true';
  if (options.buckets !== false && !raw) assertBucketLimit({ from, to, granularity: q.granularity, tz: q.tz });
  const filters: ReportQuery['filters'] = {};
  for (const d of DIMENSIONS) {
    const raw = q[d];
    if (!raw) continue;
    const values = raw.split(',').map((v) => v.trim());
    if (d === 'project') {
      // A project is named by its id: a name (or a typo) would match nothing and show $0 as if it had no usage.
      const wrong = values.find((v) => !UUID.test(v));
      if (wrong !== undefined)
        throw DomainError.validation([
          {
            path: 'project',
            message: `must be project ids (UUIDs), comma-separated; "${wrong.slice(0, 60)}" is not one (GET /v1/reports/dimensions/project/values finds a project by name)`,
          },
        ]);
      filters.project = values.map((v) => v.toLowerCase());
      continue;
    }
    filters[d] =
      d === 'provider' ? values.map(normalizeProviderSlug) : d === 'model' ? values.map(normalizeModelName) : values;
  }
  const groupBy = q.group_by as GroupBy;
  if (tag && groupBy.startsWith('tag:') && groupBy !== `tag:${tag.key}`) {
    throw DomainError.validation([{ path: 'group_by', message: 'can group by the tag it filters on only' }]);
  }
  return { from, to, granularity: q.granularity, tz: q.tz, groupBy, filters, tag, basis: q.basis, limit: q.limit, raw };
}
