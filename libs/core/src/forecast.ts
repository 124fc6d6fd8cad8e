import { Decimal, sumDecimals } from './decimal';

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
