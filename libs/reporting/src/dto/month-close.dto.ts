import { z } from 'zod';
import { DomainError, FieldError, hasNoNul, NUL_MESSAGE } from '@tokentally/common';
import {
  CalendarMonth,
  daysInMonth,
  MONTH_PATTERN,
  MONTH_SHAPE_TEXT,
  monthRange,
  monthText,
  parseMonthText,
  previousMonth,
} from '@tokentally/core';
import { parseReportQuery, ReportQuery, reportQuerySchema } from './report-query.dto';

export type Month = CalendarMonth;
export { monthRange, monthText, previousMonth };

/** Why `text` is not a month we take, or the month. */
export function parseMonth(text: string | string[] | undefined): Month | FieldError {
  if (text === undefined) return { path: 'month', message: `is required (${MONTH_SHAPE_TEXT})` };
  if (Array.isArray(text)) return { path: 'month', message: 'must be given once' };
  if (!hasNoNul(text)) return { path: 'month', message: NUL_MESSAGE };
  const month = parseMonthText(text);
  return typeof month === 'string' ? { path: 'month', message: month } : month;
}

const isMonth = (value: Month | FieldError): value is Month => 'year' in value;

/**
 * Parameters that the month replaces or that have no meaning for a month
 * close (it has no buckets, no series limit and no raw rows): refused rather
 * than silently ignored.
 */
const NOT_FOR_MONTH_CLOSE = ['from', 'to', 'granularity', 'group_by', 'limit', 'raw'];

export interface MonthCloseQuery {
  month: Month;
  /** The month's range and the report filters, as every other report takes them. */
  report: ReportQuery;
}

/**
 * `month` (YYYY-MM), `tz`, `basis` and the report filters (project, provider,
 * model, team, user, feature, environment, tag:<k>=<v>). The range is built
 * as the month's first and last local days and parsed by parseReportQuery, so
 * tz, basis and filters mean exactly what they mean in every other report.
 */
export function parseMonthCloseQuery(query: Record<string, string | string[] | undefined>): MonthCloseQuery {
  const { month: monthParam, ...rest } = query;
  const errors: FieldError[] = [];
  const month = parseMonth(monthParam);
  if (!isMonth(month)) errors.push(month);
  for (const key of NOT_FOR_MONTH_CLOSE) {
    if (key in rest)
      errors.push({ path: key, message: 'is not a known field (the month sets the range: month=YYYY-MM)' });
  }
  const m = isMonth(month) ? month : { year: 2000, month: 1 };
  const last = `${monthText(m)}-${String(daysInMonth(m.year, m.month)).padStart(2, '0')}`;
  let report: ReportQuery | null = null;
  try {
    report = parseReportQuery({ ...rest, from: `${monthText(m)}-01`, to: last }, { buckets: false });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    errors.push(...error.errors);
  }
  if (errors.length > 0 || !report || !isMonth(month)) throw DomainError.validation(errors);
  return { month, report };
}

/**
 * The query of the month-close routes as parseMonthCloseQuery reads it (the
 * report parameters less those the month replaces, and `month`): for the
 * OpenAPI document (libs/openapi).
 */
export const monthCloseQuerySchema = z
  .object({
    ...Object.fromEntries(
      Object.entries(reportQuerySchema.shape).filter(([key]) => !NOT_FOR_MONTH_CLOSE.includes(key)),
    ),
    month: z.string({ error: `is required (${MONTH_SHAPE_TEXT})` }).regex(MONTH_PATTERN, `must be ${MONTH_SHAPE_TEXT}`),
  })
  .strict();
