import { z } from 'zod';
import { DomainError, field, FieldError, wholeNumberParam } from '@tokentally/common';
import { parseLocalDate } from '@tokentally/core';

/** The longest range one run or report covers: a quarter and a day. */
export const MAX_RANGE_DAYS = 92;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a real calendar day (2026-02-30 is refused; libs/core's calendar), from 2000 on. */
export function isCalendarDay(text: string): boolean {
  const date = parseLocalDate(text);
  return date !== null && date.year >= 2000;
}

/** The UTC day `offset` days from `day` (or from the day of `instant`). */
export function addDays(day: string, offset: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + offset * DAY_MS).toISOString().slice(0, 10);
}

export function utcDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

const day = (required: boolean) =>
  z
    .string({ error: (issue) => (issue.input === undefined && required ? 'is required' : 'must be a date YYYY-MM-DD') })
    .refine(isCalendarDay, 'must be a date YYYY-MM-DD (a UTC day)')
    .meta({ description: 'A UTC day, `YYYY-MM-DD`.' });

/** A range of UTC days: `from` not after `to`, at most {@link MAX_RANGE_DAYS} days, not after today. */
export interface DayRange {
  from: string;
  to: string;
}

/** Checks a range whose days are each valid; every problem is named at its field. */
export function checkRange(range: DayRange, now: Date): DayRange {
  const errors: FieldError[] = [];
  const today = utcDay(now);
  if (range.from > range.to) errors.push({ path: 'from', message: `must not be after to (${range.to})` });
  else if (daysBetween(range.from, range.to) > MAX_RANGE_DAYS)
    errors.push({
      path: 'to',
      message: `must be at most ${MAX_RANGE_DAYS} days after from (one run covers a quarter)`,
    });
  if (range.to > today) errors.push({ path: 'to', message: `must not be after today (${today}, UTC)` });
  if (errors.length) throw DomainError.validation(errors);
  return range;
}

/** POST /v1/reconciliation/run. */
export const runBodySchema = z.object({ from: day(true), to: day(true) }).strict();

/** GET /v1/reconciliation: left out, the 7 days before today. */
export const reportQuerySchema = z.object({ from: day(false).optional(), to: day(false).optional() }).strict();

export const runsQuerySchema = z.object({ limit: wholeNumberParam(1, 100, 20) }).strict();

/** An OpenAI project id as OpenAI writes them (`proj_abc123`). */
export const openaiProjectParams = z.object({
  openai_project_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be an OpenAI project id such as proj_abc123')
    .meta({ description: "The OpenAI project's id (`proj_...`), from the OpenAI dashboard's project settings." }),
});

export const mappingBodySchema = z
  .object({ project_id: field.uuid().meta({ description: 'The TokenTally project it is.' }) })
  .strict();
