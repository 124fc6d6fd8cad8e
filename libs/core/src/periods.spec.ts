import {
  addDays,
  bucketCount,
  daysInMonth,
  localDateOf,
  localDayStarts,
  parseLocalDate,
  periodBounds,
  startOfLocalDate,
  zoneOffsetMs,
} from './periods';

const at = (iso: string) => new Date(iso);
const bounds = (period: Parameters<typeof periodBounds>[0], tz: string, now: string) => {
  const { start, end } = periodBounds(period, tz, at(now));
  return [start.toISOString(), end.toISOString()];
};

describe('periodBounds', () => {
  it('starts a day at local midnight, not UTC midnight', () => {
    // 23:30 UTC on Nov 26 is already Nov 27 in Berlin (UTC+1).
    expect(bounds('day', 'Europe/Berlin', '2026-11-26T23:30:00Z')).toEqual([
      '2026-11-26T23:00:00.000Z',
      '2026-11-27T23:00:00.000Z',
    ]);
    // 03:00 UTC on Nov 27 is still Nov 26 in New York (UTC-5).
    expect(bounds('day', 'America/New_York', '2026-11-27T03:00:00Z')).toEqual([
      '2026-11-26T05:00:00.000Z',
      '2026-11-27T05:00:00.000Z',
    ]);
  });

  it('gives the 23-hour and 25-hour days of daylight saving time', () => {
    expect(bounds('day', 'America/New_York', '2026-03-08T12:00:00Z')).toEqual([
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ]);
    expect(bounds('day', 'America/New_York', '2026-11-01T12:00:00Z')).toEqual([
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
    ]);
  });

  it('starts weeks on Monday in the local zone', () => {
    // Sunday 2026-11-29 20:00 in Tokyo is Monday 05:00 local: the week of Monday Nov 30.
    expect(bounds('week', 'Asia/Tokyo', '2026-11-29T20:00:00Z')).toEqual([
      '2026-11-29T15:00:00.000Z',
      '2026-12-06T15:00:00.000Z',
    ]);
    expect(bounds('week', 'UTC', '2026-11-27T10:00:00Z')).toEqual([
      '2026-11-23T00:00:00.000Z',
      '2026-11-30T00:00:00.000Z',
    ]);
  });

  it('gives months and quarters across a change of offset and a year end', () => {
    expect(bounds('month', 'Europe/Berlin', '2026-10-15T12:00:00Z')).toEqual([
      '2026-09-30T22:00:00.000Z',
      '2026-10-31T23:00:00.000Z',
    ]);
    expect(bounds('quarter', 'America/Los_Angeles', '2026-12-31T12:00:00Z')).toEqual([
      '2026-10-01T07:00:00.000Z',
      '2027-01-01T08:00:00.000Z',
    ]);
    expect(bounds('quarter', 'UTC', '2026-02-10T00:00:00Z')).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-04-01T00:00:00.000Z',
    ]);
  });

  it('handles half-hour zones and the exact boundary instant', () => {
    expect(bounds('day', 'Asia/Kolkata', '2026-11-26T18:30:00Z')).toEqual([
      '2026-11-26T18:30:00.000Z',
      '2026-11-27T18:30:00.000Z',
    ]);
    expect(bounds('day', 'Asia/Kolkata', '2026-11-26T18:29:59Z')).toEqual([
      '2026-11-25T18:30:00.000Z',
      '2026-11-26T18:30:00.000Z',
    ]);
  });

  it('finds the first instant of a day whose midnight does not exist', () => {
    // Chile springs forward at 00:00 local on 2026-09-06: the day begins at 01:00 (-03).
    expect(startOfLocalDate({ year: 2026, month: 9, day: 6 }, 'America/Santiago').toISOString()).toBe(
      '2026-09-06T04:00:00.000Z',
    );
  });
});

describe('zone helpers', () => {
  it('reads offsets, including DST', () => {
    expect(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(3_600_000);
    expect(zoneOffsetMs(at('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(7_200_000);
  });

  it('lists the local day starts before today, oldest first', () => {
    const starts = localDayStarts(at('2026-03-09T12:00:00Z'), 'America/New_York', 2);
    expect(starts.map((d) => d.toISOString())).toEqual([
      '2026-03-07T05:00:00.000Z',
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ]);
  });
});

describe('calendar dates', () => {
  it('parses real dates only', () => {
    expect(parseLocalDate('2026-11-01')).toEqual({ year: 2026, month: 11, day: 1 });
    expect(parseLocalDate('2028-02-29')).toEqual({ year: 2028, month: 2, day: 29 });
    for (const bad of [
      '2026-02-29',
      '2026-02-30',
      '2026-04-31',
      '2026-13-01',
      '2026-00-10',
      '2026-01-00',
      '0000-01-01',
      '2026-1-01',
      '20261101',
      '2026-11-01T00:00:00Z',
    ]) {
      expect([bad, parseLocalDate(bad)]).toEqual([bad, null]);
    }
    expect(daysInMonth(1900, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
  });

  it('handles years before 100 and the far future (Date.UTC reads 0..99 as 1900..1999)', () => {
    expect(startOfLocalDate({ year: 1, month: 1, day: 1 }, 'UTC').toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(addDays({ year: 99, month: 12, day: 31 }, 1)).toEqual({ year: 100, month: 1, day: 1 });
    expect(startOfLocalDate({ year: 10000, month: 1, day: 1 }, 'UTC').toISOString()).toBe(
      '+010000-01-01T00:00:00.000Z',
    );
    // Tokyo in year 1 is on local mean time (+09:18:59): its first midnight is in 1 BC in UTC.
    const tokyo = startOfLocalDate({ year: 1, month: 1, day: 1 }, 'Asia/Tokyo');
    expect(tokyo.toISOString()).toBe('0000-12-31T14:41:01.000Z');
    expect(localDateOf(tokyo, 'Asia/Tokyo')).toEqual({ year: 1, month: 1, day: 1 });
    expect(periodBounds('month', 'UTC', new Date('0050-02-10T00:00:00Z')).end.toISOString()).toBe(
      '0050-03-01T00:00:00.000Z',
    );
  });
});

describe('bucketCount', () => {
  const count = (unit: Parameters<typeof bucketCount>[0], from: string, to: string, tz = 'UTC') =>
    bucketCount(unit, at(from), at(to), tz);

  it('counts UTC hours touched by the range', () => {
    expect(count('hour', '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z')).toBe(1);
    expect(count('hour', '2026-11-01T00:30:00Z', '2026-11-01T01:00:00.001Z')).toBe(2);
    // The New York day daylight saving ends: 25 hours; the day it starts: 23.
    expect(count('hour', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z')).toBe(25);
    expect(count('hour', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z')).toBe(23);
  });

  it('counts local days, Monday weeks and months', () => {
    expect(count('day', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', 'America/New_York')).toBe(1);
    expect(count('day', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00.001Z', 'America/New_York')).toBe(2);
    expect(count('day', '2026-11-26T18:30:00Z', '2026-11-28T18:30:00Z', 'Asia/Kolkata')).toBe(2);
    // Sunday Nov 29 to Monday Nov 30: two weeks; Monday to Sunday: one.
    expect(count('week', '2026-11-29T00:00:00Z', '2026-12-01T00:00:00Z')).toBe(2);
    expect(count('week', '2026-11-23T00:00:00Z', '2026-11-30T00:00:00Z')).toBe(1);
    expect(count('month', '2026-01-31T23:00:00Z', '2026-03-01T00:00:00Z')).toBe(2);
    expect(count('month', '2026-01-31T23:00:00Z', '2026-03-01T00:00:00.001Z')).toBe(3);
    // Feb 1 00:30 to Mar 1 00:00 in Berlin: one local month, two UTC ones.
    expect(count('month', '2026-01-31T23:30:00Z', '2026-02-28T23:00:00Z', 'Europe/Berlin')).toBe(1);
    expect(count('month', '2026-01-31T23:30:00Z', '2026-02-28T23:00:00Z')).toBe(2);
  });

  it('counts millions of buckets without making them, and 0 for an empty range', () => {
    expect(count('day', '0001-01-01T00:00:00Z', '+010000-01-01T00:00:00Z')).toBe(3_652_059);
    expect(count('hour', '0001-01-01T00:00:00Z', '+010000-01-01T00:00:00Z')).toBe(3_652_059 * 24);
    expect(count('month', '0001-01-01T00:00:00Z', '+010000-01-01T00:00:00Z')).toBe(9999 * 12);
    expect(count('day', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')).toBe(0);
  });
});
