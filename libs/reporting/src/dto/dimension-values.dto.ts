import { z } from 'zod';
import { DomainError, FieldError, fieldErrorsOf, storableText, wholeNumberParam } from '@tokentally/common';
import { Dimension, DIMENSIONS, parseReportQuery, ReportQuery, reportQuerySchema } from './report-query.dto';

/** Suggestions look this far back when `from` is not given. */
export const SUGGESTION_DEFAULT_DAYS = 90;
/** The longest prefix taken: dimension and tag values are at most 200 characters at ingest. */
export const MAX_PREFIX_LENGTH = 200;

export interface SuggestionQuery {
  /** The range and the report filters, parsed as every report parses them. */
  report: ReportQuery;
  /** The prefix typed so far ('' for any value), matched case-insensitively and literally. */
  prefix: string;
  limit: number;
}

const own = z
  .object({
    q: storableText(z.string().max(MAX_PREFIX_LENGTH, `must be at most ${MAX_PREFIX_LENGTH} characters`)).optional(),
    limit: wholeNumberParam(1, 100, 20),
  })
  .strict();

/** Parameters of the reports that mean nothing for a list of values. */
const NOT_FOR_SUGGESTIONS = ['granularity', 'group_by', 'raw', 'basis'];

/**
 * `q` (prefix), `limit` (1 to 100, default 20), `from`/`to`/`tz` (default:
 * the last 90 days) and the report filters, which narrow the values to the
 * data they select (the teams of one project).
 */
export function parseSuggestionQuery(query: Record<string, string | string[] | undefined>): SuggestionQuery {
  const { q, limit, ...rest } = query;
  const errors: FieldError[] = [];
  const mine: Record<string, unknown> = {};
  for (const [key, value] of Object.entries({ q, limit })) {
    if (Array.isArray(value)) errors.push({ path: key, message: 'must be given once' });
    else if (value !== undefined) mine[key] = value;
  }
  for (const key of NOT_FOR_SUGGESTIONS) {
    if (key in rest) errors.push({ path: key, message: 'is not a known field' });
  }
  const parsed = own.safeParse(mine);
  if (!parsed.success) errors.push(...fieldErrorsOf(parsed.error));
  let report: ReportQuery | null = null;
  try {
    report = parseReportQuery(rest, { buckets: false, defaultDays: SUGGESTION_DEFAULT_DAYS });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    errors.push(...error.errors);
  }
  if (errors.length > 0 || !parsed.success || !report) throw DomainError.validation(errors);
  return { report, prefix: parsed.data.q ?? '', limit: parsed.data.limit };
}

/** The `:dimension` of /v1/reports/dimensions/:dimension/values, or a 400 naming it. */
export function parseDimension(text: string): Dimension {
  if ((DIMENSIONS as readonly string[]).includes(text)) return text as Dimension;
  throw DomainError.validation([
    { path: 'dimension', message: `must be one of ${DIMENSIONS.join(', ')} (tags: /v1/reports/tags)` },
  ]);
}

const tagKey = storableText(
  z.string().min(1, 'must name a tag of 1 to 64 characters').max(64, 'must name a tag of 1 to 64 characters'),
);

/** The `:key` of /v1/reports/tags/:key/values: a tag name as ingest takes it (1 to 64 characters). */
export function parseTagKey(text: string): string {
  const parsed = tagKey.safeParse(text);
  if (!parsed.success) throw DomainError.validation(fieldErrorsOf(parsed.error, 'key'));
  return parsed.data;
}

/**
 * The query, path and key schemas of the suggestion routes as parseSuggestionQuery,
 * parseDimension and parseTagKey read them: for the OpenAPI document (libs/openapi).
 */
export const suggestionQuerySchema = z
  .object({
    ...Object.fromEntries(
      Object.entries(reportQuerySchema.shape).filter(([key]) => ![...NOT_FOR_SUGGESTIONS, 'limit'].includes(key)),
    ),
    ...own.shape,
  })
  .strict();
export const dimensionParamsSchema = z.object({
  dimension: z.enum(DIMENSIONS, { error: `must be one of ${DIMENSIONS.join(', ')}` }),
});
export const tagKeyParamsSchema = z.object({ key: tagKey });
