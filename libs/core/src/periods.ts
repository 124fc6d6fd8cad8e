/**
 * Calendar periods in an IANA time zone: a day starts at local midnight (so
 * it may last 23 or 25 hours), a week on Monday, a quarter in January, April,
 * July or October. Instants are `Date`s; no library, only `Intl`.
 */
export type BudgetPeriod = 'day' | 'week' | 'month' | 'quarter';

export interface LocalDate {
  year: number;
  month: number; // 1..12
  day: number;
}

/**
 * `Date.UTC` for every year: `Date.UTC` reads years 0..99 as 1900..1999, so
 * 0001-01-01 would become 1901-01-01. Months and days may overflow, as with `Date.UTC`.
 */
function utcMs(year: number, month0: number, day: number, hour = 0, minute = 0, second = 0): number {
  const at = new Date(0);
  at.setUTCFullYear(year, month0, day);
  at.setUTCHours(hour, minute, second, 0);
  return at.getTime();
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(tz: string): Intl.DateTimeFormat {
  let formatter = formatters.get(tz);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      // Years before 1 come as "2" + "BC"; the era tells them from 2 AD.
      era: 'short',
    });
    formatters.set(tz, formatter);
  }
  return formatter;
}

/** Offset of `tz` from UTC at `instant`, in milliseconds (Berlin in winter: +3,600,000). */
export function zoneOffsetMs(instant: Date, tz: string): number {
  const parts: Record<string, number> = {};
  let beforeChrist = false;
  for (const part of formatterOf(tz).formatToParts(instant)) {
    if (part.type === 'era') beforeChrist = part.value === 'BC';
    else if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const year = beforeChrist ? 1 - parts.year : parts.year; // 1 BC is year 0
  const asUtc = utcMs(year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The local calendar date of `instant` in `tz`. */
export function localDateOf(instant: Date, tz: string): LocalDate {
  const local = new Date(instant.getTime() + zoneOffsetMs(instant, tz));
  return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
}

/**
 * The instant of local midnight starting `date` in `tz`. Where midnight does
 * not exist (a zone that springs forward at 00:00) it is the first instant of
 * that local day, as PostgreSQL's `AT TIME ZONE` gives.
 */
export function startOfLocalDate(date: LocalDate, tz: string): Date {
  const wallClock = utcMs(date.year, date.month - 1, date.day);
  let instant = wallClock - zoneOffsetMs(new Date(wallClock), tz);
  // The offset at the guess may differ from the offset at the answer (DST); one more step settles it.
  const settled = wallClock - zoneOffsetMs(new Date(instant), tz);
  if (settled !== instant) instant = Math.max(instant, settled);
  return new Date(instant);
}

/** `date` moved by `days` calendar days. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const moved = new Date(utcMs(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

function firstDayOf(period: BudgetPeriod, date: LocalDate): LocalDate {
  switch (period) {
    case 'day':
      return date;
    case 'week': {
      const weekday = new Date(utcMs(date.year, date.month - 1, date.day)).getUTCDay(); // 0 = Sunday
      return addDays(date, -((weekday + 6) % 7));
    }
    case 'month':
      return { year: date.year, month: date.month, day: 1 };
    case 'quarter':
      return { year: date.year, month: date.month - ((date.month - 1) % 3), day: 1 };
  }
}

function nextFirstDay(period: BudgetPeriod, first: LocalDate): LocalDate {
  switch (period) {
    case 'day':
      return addDays(first, 1);
    case 'week':
      return addDays(first, 7);
    case 'month':
    case 'quarter': {
      const months = period === 'month' ? 1 : 3;
      const next = new Date(utcMs(first.year, first.month - 1 + months, 1));
      return { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: 1 };
    }
  }
}

/** Start and end (exclusive) of the period containing `now`, in `tz`. */
export function periodBounds(period: BudgetPeriod, tz: string, now: Date): { start: Date; end: Date } {
  const first = firstDayOf(period, localDateOf(now, tz));
  return { start: startOfLocalDate(first, tz), end: startOfLocalDate(nextFirstDay(period, first), tz) };
}

/** Start of the local day containing `now`, and of the `days` local days before it (oldest first). */
export function localDayStarts(now: Date, tz: string, daysBefore: number): Date[] {
  const today = localDateOf(now, tz);
  const starts: Date[] = [];
  for (let back = daysBefore; back >= 0; back--) starts.push(startOfLocalDate(addDays(today, -back), tz));
  return starts;
}

/**
 * A calendar date written `YYYY-MM-DD` (years 0001 to 9999), or null when it
 * is not one: 2026-02-30, 2026-04-31 and 2026-13-01 are not dates.
 */
export function parseLocalDate(text: string): LocalDate | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return isCalendarDate(year, month, day) ? { year, month, day } : null;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const SHAPE = 'must be a date (2026-11-01) or an RFC 3339 date-time with an offset (2026-11-01T10:00:00Z)';

/** Why `text` is not a date or date-time we take, or null when it is one (real calendar dates, years 0001 to 9999). */
export function dateOrDateTimeProblem(text: string): string | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text))
    return parseLocalDate(text) ? null : `is not a date of the calendar (years 0001 to 9999): ${text} does not exist`;
  const m = DATE_TIME.exec(text);
  if (!m) return SHAPE;
  // Ingest checks every event's time here: the date is read from this match, not parsed again.
  const [, year, month, day, hour, minute, second, , offsetHour, offsetMinute] = m;
  const real =
    isCalendarDate(+year, +month, +day) &&
    +hour <= 23 &&
    +minute <= 59 &&
    +second <= 59 &&
    (offsetHour === undefined || (+offsetHour <= 15 && +offsetMinute <= 59));
  return real
    ? null
    : `is not a real date-time (years 0001 to 9999, hours to 23, minutes and seconds to 59, offsets within ±15:59): ${text}`;
}

/** Days in a month of the proleptic Gregorian calendar (as PostgreSQL and `Date` count). */
export function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** Whole days from `a` to `b` (negative when `b` is earlier). */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round((utcMs(b.year, b.month - 1, b.day) - utcMs(a.year, a.month - 1, a.day)) / 86_400_000);
}

/** Report bucket sizes: hours are UTC hours; days, weeks (from Monday) and months are local to the zone. */
export type BucketUnit = 'hour' | 'day' | 'week' | 'month';

const HOUR_MS = 3_600_000;

/**
 * How many buckets of `unit` the range [from, to) touches in `tz`, by
 * arithmetic alone (no list is built): what a report would return, counted
 * before it is asked for, so a range of centuries can be refused cheaply.
 * The first bucket is the one holding `from`, the last the one holding the
 * last instant before `to`. 0 when `to` is not after `from`.
 */
export function bucketCount(unit: BucketUnit, from: Date, to: Date, tz: string): number {
  if (to.getTime() <= from.getTime()) return 0;
  if (unit === 'hour') return Math.ceil((to.getTime() - Math.floor(from.getTime() / HOUR_MS) * HOUR_MS) / HOUR_MS);
  const first = localDateOf(from, tz);
  const last = localDateOf(new Date(to.getTime() - 1), tz);
  switch (unit) {
    case 'day':
      return daysBetween(first, last) + 1;
    case 'week':
      return daysBetween(firstDayOf('week', first), firstDayOf('week', last)) / 7 + 1;
    case 'month':
      return (last.year - first.year) * 12 + (last.month - first.month) + 1;
  }
}

/** A calendar month, 0001-01 to 9999-12. */
export interface CalendarMonth {
  year: number;
  month: number; // 1..12
}

export const MONTH_SHAPE_TEXT = 'a month written YYYY-MM, such as 2026-10';
/** The shape of a month as parameters take it (parseMonthText also checks it is a month of the calendar). */
export const MONTH_PATTERN = /^\d{4}-\d{2}$/;

/** `2026-10` for a month. */
export function monthText(m: CalendarMonth): string {
  return `${String(m.year).padStart(4, '0')}-${String(m.month).padStart(2, '0')}`;
}

/** The month before, or null before 0001-01 (no calendar month a report can take). */
export function previousMonth(m: CalendarMonth): CalendarMonth | null {
  if (m.month > 1) return { year: m.year, month: m.month - 1 };
  return m.year > 1 ? { year: m.year - 1, month: 12 } : null;
}

/** The month after (10000-01 after 9999-12: an end, never a month anyone can name). */
export function nextMonth(m: CalendarMonth): CalendarMonth {
  return m.month === 12 ? { year: m.year + 1, month: 1 } : { year: m.year, month: m.month + 1 };
}

/** [start, end) of a month in `tz`: its first local midnight and the next month's (as budgets and reports count). */
export function monthRange(m: CalendarMonth, tz: string): { from: Date; to: Date } {
  return { from: startOfLocalDate({ ...m, day: 1 }, tz), to: startOfLocalDate({ ...nextMonth(m), day: 1 }, tz) };
}

/** The month `text` names (YYYY-MM, 0001-01 to 9999-12), or why it names none (a message for a field error). */
export function parseMonthText(text: string): CalendarMonth | string {
  if (!MONTH_PATTERN.test(text)) return `must be ${MONTH_SHAPE_TEXT}`;
  const [year, month] = text.split('-').map(Number);
  if (year < 1 || month < 1 || month > 12)
    return `is not a month of the calendar (years 0001 to 9999, months 01 to 12): ${text} does not exist`;
  return { year, month };
}
