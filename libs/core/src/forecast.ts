import { Decimal, sumDecimals } from './decimal';
import { addDays, localDateOf, localDayStarts, startOfLocalDate } from './periods';

/** Days of history the rhythm forecast and the anomaly baseline look at. */
export const HISTORY_DAYS = 28;
/** Days with spend, of the 28, that make the history "enough" for the rhythm forecast. */
export const RHYTHM_MIN_ACTIVE_DAYS = 21;

export interface ForecastInput {
  /** Spend of the period so far. */
  spent: Decimal;
  /** Seconds of the period elapsed and in all. */
  elapsedSeconds: number;
  periodSeconds: number;
  /** Spend of each of the 28 whole local days before today, oldest first (index 27 = yesterday). */
  history: Decimal[];
  /**
   * The days still to come in the period: `offset` 0 is today, 1 tomorrow...;
   * `remainingSeconds` of `daySeconds` are still ahead (today: part of it).
   */
  daysAhead: Array<{ offset: number; remainingSeconds: number; daySeconds: number }>;
}

export interface Forecast {
  amount: Decimal;
  method: 'weekly_rhythm' | 'linear';
}

/**
 * Spend at the end of the period.
 *
 * With enough history (spend on at least 21 of the last 28 days) each day
 * still ahead is expected to cost the last 7 days' spend, shared out by the
 * weekday's weight in the last 4 weeks: expected(d) = last7 * sameWeekday(d) /
 * last28, where sameWeekday(d) sums the four past days of d's weekday. So a
 * product quiet at weekends is not forecast to spend at weekends, and growth
 * in the last week carries forward. Today counts for the part still ahead.
 *
 * Otherwise the forecast is linear: spend so far over elapsed time, times the
 * length of the period.
 */
export function forecastPeriodEnd(input: ForecastInput): Forecast {
  const { spent, history } = input;
  const active = history.filter((day) => !day.isZero()).length;
  const total28 = sumDecimals(history);
  if (history.length === HISTORY_DAYS && active >= RHYTHM_MIN_ACTIVE_DAYS && !total28.isZero()) {
    const last7 = sumDecimals(history.slice(HISTORY_DAYS - 7));
    let ahead = Decimal.ZERO;
    for (const day of input.daysAhead) {
      // history[i] falls on the weekday of day offset k when i = k (mod 7), since index 28 would be today.
      const sameWeekday = sumDecimals([0, 7, 14, 21].map((week) => history[(day.offset % 7) + week]));
      const expected = last7.multiply(sameWeekday).times(Math.max(0, day.remainingSeconds));
      ahead = ahead.add(expected.divide(total28.times(day.daySeconds), 6));
    }
    return { amount: spent.add(ahead), method: 'weekly_rhythm' };
  }
  const elapsed = Math.max(1, input.elapsedSeconds);
  return { amount: spent.times(input.periodSeconds).divideBy(elapsed, 6), method: 'linear' };
}

/**
 * The starts of the 28 whole local days before today in `tz` (oldest first):
 * the days whose spend is the rhythm forecast's history. A caller reads the
 * spend per local day from `days[0]` and hands it to `forecastInputOf`.
 */
export function forecastHistoryDays(now: Date, tz: string): Date[] {
  return localDayStarts(now, tz, HISTORY_DAYS).slice(0, HISTORY_DAYS);
}

/**
 * The forecast input of the period [start, end) at `now` in `tz`, the one
 * place it is built (budgets and the summary both use it): elapsed and total
 * seconds, the 28 days of history (the spend of each local day, keyed by the
 * instant the day starts; a missing day spent nothing) and the local days
 * still ahead, today for the part left. `spendByDay` null: no history, so the
 * forecast is linear.
 */
export function forecastInputOf(args: {
  now: Date;
  tz: string;
  start: Date;
  end: Date;
  spent: Decimal;
  spendByDay: ReadonlyMap<number, Decimal> | null;
}): ForecastInput {
  const { now, tz, start, end, spent, spendByDay } = args;
  const history = spendByDay
    ? forecastHistoryDays(now, tz).map((day) => spendByDay.get(day.getTime()) ?? Decimal.ZERO)
    : [];
  const daysAhead: ForecastInput['daysAhead'] = [];
  const today = localDateOf(now, tz);
  for (let offset = 0; ; offset++) {
    const dayStart = startOfLocalDate(addDays(today, offset), tz);
    if (dayStart.getTime() >= end.getTime()) break;
    const nextStart = startOfLocalDate(addDays(today, offset + 1), tz);
    const daySeconds = Math.round((nextStart.getTime() - dayStart.getTime()) / 1000);
    const remainingSeconds =
      offset === 0 ? Math.max(0, Math.round((nextStart.getTime() - now.getTime()) / 1000)) : daySeconds;
    daysAhead.push({ offset, remainingSeconds, daySeconds });
  }
  return {
    spent,
    elapsedSeconds: Math.round((now.getTime() - start.getTime()) / 1000),
    periodSeconds: Math.round((end.getTime() - start.getTime()) / 1000),
    history,
    daysAhead,
  };
}

/** One sentence saying how a forecast was made, for people. */
export function forecastExplanation(method: Forecast['method']): string {
  return method === 'weekly_rhythm'
    ? "spend so far + each day left at the last 7 days' level, shared out by the weekday rhythm of the last 28 days"
    : 'spend so far scaled to the whole period (linear): fewer than 21 of the last 28 days had spend';
}
