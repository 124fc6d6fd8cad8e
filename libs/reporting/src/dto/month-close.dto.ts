import { z } from 'zod';
import { DomainError, FieldError, hasNoNul, NUL_MESSAGE } from '@tokentally/common';
import { daysInMonth, startOfLocalDate } from '@tokentally/core';
import { parseReportQuery, ReportQuery, reportQuerySchema } from './report-query.dto';

/** A calendar month, 0001-01 to 9999-12. */
export interface Month {
  year: number;
  month: number; // 1..12
}

const MONTH_SHAPE = /^(\d{4})-(\d{2})$/;
const SHAPE = 'a month written YYYY-MM, such as 2026-10';
const SHAPE_MESSAGE = `must be ${SHAPE}`;

/** `2026-10` for a month. */
export function monthText(m: Month): string {
  return `${String(m.year).padStart(4, '0')}-${String(m.month).padStart(2, '0')}`;
}

/** The month before, or null before 0001-01 (no calendar month a report can take). */
export function previousMonth(m: Month): Month | null {
  if (m.month > 1) return { year: m.year, month: m.month - 1 };
  return m.year > 1 ? { year: m.year - 1, month: 12 } : null;
}

/** [start, end) of a month in `tz`: its first local midnight and the next month's (libs/core's calendar, as budgets and
 * reports use). */
export function monthRange(m: Month, tz: string): { from: Date; to: Date } {
  const next = m.month === 12 ? { year: m.year + 1, month: 1 } : { year: m.year, month: m.month + 1 };
  return { from: startOfLocalDate({ ...m, day: 1 }, tz), to: startOfLocalDate({ ...next, day: 1 }, tz) };
}

/** Why `text` is not a month we take, or the month. */
export function parseMonth(text: string | string[] | undefined): Month | FieldError {
  if (text === undefined) return { path: 'month', message: `is required (${SHAPE})` };
  if (Array.isArray(text)) return { path: 'month', message: 'must be given once' };
  if (!hasNoNul(text)) return { path: 'month', message: NUL_MESSAGE };
  const match = MONTH_SHAPE.exec(text);
  if (!match) return { path: 'month', message: SHAPE_MESSAGE };
  const [year, month] = [Number(match[1]), Number(match[2])];
  if (year < 1 || month < 1 || month > 12)
    return {
      path: 'month',
      message: `is not a month of the calendar (years 0001 to 9999, months 01 to 12): ${text} does not exist`,
    };
  return { year, month };
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
    month: z.string({ error: `is required (${SHAPE})` }).regex(MONTH_SHAPE, SHAPE_MESSAGE),
  })
  .strict();
