import { Decimal } from './decimal';
import { forecastExplanation, forecastHistoryDays, forecastInputOf, forecastPeriodEnd } from './forecast';

const d = (v: string | number) => Decimal.parse(String(v));
const DAY = 86_400;

/** A 4-week history where index i falls on weekday (i mod 7); 0..4 are weekdays, 5 and 6 the weekend. */
function weeklyHistory(weekday: string, weekend: string): Decimal[] {
  return Array.from({ length: 28 }, (_, i) => d(i % 7 >= 5 ? weekend : weekday));
}

describe('forecastPeriodEnd', () => {
  it('is linear in elapsed time without enough history', () => {
    const f = forecastPeriodEnd({
      spent: d('10'),
      elapsedSeconds: 6 * 3600,
      periodSeconds: DAY,
      history: [],
      daysAhead: [],
    });
    expect(f).toEqual({ amount: d('40'), method: 'linear' });
  });

  it('counts a history with spend on fewer than 21 of 28 days as not enough', () => {
    const sparse = Array.from({ length: 28 }, (_, i) => d(i % 2 === 0 ? '5' : '0'));
    const f = forecastPeriodEnd({
      spent: d('3'),
      elapsedSeconds: DAY,
      periodSeconds: 7 * DAY,
      history: sparse,
      daysAhead: [{ offset: 0, remainingSeconds: DAY, daySeconds: DAY }],
    });
    expect(f.method).toBe('linear');
    expect(f.amount.toString()).toBe('21');
  });

  it('forecasts quiet weekends as quiet: the weekly rhythm of the last 4 weeks', () => {
    // Weekdays cost 100, weekends 10. Today (offset 0) is history index 0's weekday: a Monday-like day.
    // A week budget on Monday at noon with 50 spent: half of today, four more weekdays, two weekend days.
    const history = weeklyHistory('100', '10');
    const daysAhead = [
      { offset: 0, remainingSeconds: DAY / 2, daySeconds: DAY },
      ...[1, 2, 3, 4, 5, 6].map((offset) => ({ offset, remainingSeconds: DAY, daySeconds: DAY })),
    ];
    const f = forecastPeriodEnd({
      spent: d('50'),
      elapsedSeconds: DAY / 2,
      periodSeconds: 7 * DAY,
      history,
      daysAhead,
    });
    expect(f.method).toBe('weekly_rhythm');
    expect(f.amount.toString()).toBe('520'); // 50 + 50 + 4 * 100 + 2 * 10
    // Linear from the same point would have said 700.
  });

  it("carries last week's growth forward", () => {
    // Three weeks at 10 a day, the last week at 20 a day: the level is the last week's.
    const history = Array.from({ length: 28 }, (_, i) => d(i >= 21 ? '20' : '10'));
    const f = forecastPeriodEnd({
      spent: d('0'),
      elapsedSeconds: 0,
      periodSeconds: 2 * DAY,
      history,
      daysAhead: [0, 1].map((offset) => ({ offset, remainingSeconds: DAY, daySeconds: DAY })),
    });
    // expected(day) = last7 (140) * sameWeekday (10+10+10+20 = 50) / total28 (350) = 20
    expect(f.amount.toString()).toBe('40');
  });

  it('stays exact with awkward amounts and rounds only the share ahead, to 6 decimals', () => {
    const history = Array.from({ length: 28 }, (_, i) => d(i % 3 === 0 ? '0.333333' : '1.1'));
    const f = forecastPeriodEnd({
      spent: d('0.000001'),
      elapsedSeconds: 1,
      periodSeconds: DAY,
      history,
      daysAhead: [{ offset: 0, remainingSeconds: DAY - 1, daySeconds: DAY }],
    });
    expect(f.method).toBe('weekly_rhythm');
    expect(f.amount.toFixedString()).toMatch(/^\d+\.\d{1,6}$/);
  });
});

describe('Decimal.divide', () => {
  it('divides decimals with half-up rounding', () => {
    expect(d('1').divide(d('3'), 6).toString()).toBe('0.333333');
    expect(d('2').divide(d('3'), 6).toString()).toBe('0.666667');
    expect(d('-1.5').divide(d('0.5')).toString()).toBe('-3');
    expect(() => d('1').divide(d('0'))).toThrow(RangeError);
  });
});

describe('forecastInputOf (the one builder of forecast inputs, for budgets and the summary)', () => {
  it('takes the 28 local days before today as history and counts the local days ahead, DST included', () => {
    const tz = 'America/New_York';
    const now = new Date('2026-10-31T16:00:00Z'); // Saturday Oct 31, 12:00 EDT
    const days = forecastHistoryDays(now, tz);
    expect(days).toHaveLength(28);
    expect(days[0].toISOString()).toBe('2026-10-03T04:00:00.000Z');
    expect(days[27].toISOString()).toBe('2026-10-30T04:00:00.000Z');
    const spendByDay = new Map(days.map((day, i) => [day.getTime(), d(i + 1)]));
    const start = new Date('2026-10-26T04:00:00Z'); // Monday
    const end = new Date('2026-11-02T05:00:00Z'); // the next Monday, after the 25-hour Sunday
    const input = forecastInputOf({ now, tz, start, end, spent: d('7'), spendByDay });
    expect(input.history.map((v) => v.toString())).toEqual(days.map((_, i) => String(i + 1)));
    expect(input.daysAhead).toEqual([
      { offset: 0, remainingSeconds: 12 * 3600, daySeconds: DAY },
      { offset: 1, remainingSeconds: 25 * 3600, daySeconds: 25 * 3600 },
    ]);
    expect(input.elapsedSeconds).toBe(5 * DAY + 12 * 3600);
    expect(input.periodSeconds).toBe(7 * DAY + 3600);
    expect(forecastInputOf({ now, tz, start, end, spent: d('7'), spendByDay: null }).history).toEqual([]);
  });

  it('explains both methods in a sentence', () => {
    expect(forecastExplanation('weekly_rhythm')).toMatch(/weekday rhythm of the last 28 days/);
    expect(forecastExplanation('linear')).toMatch(/linear/);
  });
});
