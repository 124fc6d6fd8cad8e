/**
 * Calendar periods in an IANA time zone: a day starts at local midnight (so
 * it may last 23 or 25 hours), a week on Monday, a quarter in January, April,
 * July or October. Instants are `Date`s; no library, only `Intl`.
 */
export type BudgetPeriod = 'day' | 'week' | 'month' | 'quarter';

interface LocalDate {
  year: number;
  month: number; // 1..12
  day: number;
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
    });
    formatters.set(tz, formatter);
  }
  return formatter;
}

/** Offset of `tz` from UTC at `instant`, in milliseconds (Berlin in winter: +3,600,000). */
export function zoneOffsetMs(instant: Date, tz: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(tz).formatToParts(instant)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
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
  const wallClock = Date.UTC(date.year, date.month - 1, date.day);
  let instant = wallClock - zoneOffsetMs(new Date(wallClock), tz);
  // The offset at the guess may differ from the offset at the answer (DST); one more step settles it.
  const settled = wallClock - zoneOffsetMs(new Date(instant), tz);
  if (settled !== instant) instant = Math.max(instant, settled);
  return new Date(instant);
}

/** `date` moved by `days` calendar days. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

function firstDayOf(period: BudgetPeriod, date: LocalDate): LocalDate {
  switch (period) {
    case 'day':
      return date;
    case 'week': {
      const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay(); // 0 = Sunday
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
      const next = new Date(Date.UTC(first.year, first.month - 1 + months, 1));
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
