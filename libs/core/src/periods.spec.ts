import { localDayStarts, periodBounds, startOfLocalDate, zoneOffsetMs } from './periods';

const at = (iso: string) => new Date(iso);
const bounds = (period: Parameters<typeof periodBounds>[0], tz: string, now: string) => {
  const { start, end } = periodBounds(period, tz, at(now));
  return [start.toISOString(), end.toISOString()];
};

describe('periodBounds', () => {
  it('starts a day at local midnight, not UTC midnight', () => {
    // 23:30 UTC on Nov 26 is already Nov 27 in Berlin (UTC+1).
    expect(bounds('day', 'Europe/Berlin', '2026-11-26T23:30:00Z')).toEqual(['2026-11-26T23:00:00.000Z', '2026-11-27T23:00:00.000Z']);
    // 03:00 UTC on Nov 27 is still Nov 26 in New York (UTC-5).
    expect(bounds('day', 'America/New_York', '2026-11-27T03:00:00Z')).toEqual(['2026-11-26T05:00:00.000Z', '2026-11-27T05:00:00.000Z']);
  });

  it('gives the 23-hour and 25-hour days of daylight saving time', () => {
    expect(bounds('day', 'America/New_York', '2026-03-08T12:00:00Z')).toEqual(['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
    expect(bounds('day', 'America/New_York', '2026-11-01T12:00:00Z')).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
  });

  it('starts weeks on Monday in the local zone', () => {
    // Sunday 2026-11-29 20:00 in Tokyo is Monday 05:00 local: the week of Monday Nov 30.
    expect(bounds('week', 'Asia/Tokyo', '2026-11-29T20:00:00Z')).toEqual(['2026-11-29T15:00:00.000Z', '2026-12-06T15:00:00.000Z']);
    expect(bounds('week', 'UTC', '2026-11-27T10:00:00Z')).toEqual(['2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z']);
  });

  it('gives months and quarters across a change of offset and a year end', () => {
    expect(bounds('month', 'Europe/Berlin', '2026-10-15T12:00:00Z')).toEqual(['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z']);
    expect(bounds('quarter', 'America/Los_Angeles', '2026-12-31T12:00:00Z')).toEqual(['2026-10-01T07:00:00.000Z', '2027-01-01T08:00:00.000Z']);
    expect(bounds('quarter', 'UTC', '2026-02-10T00:00:00Z')).toEqual(['2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
  });

  it('handles half-hour zones and the exact boundary instant', () => {
    expect(bounds('day', 'Asia/Kolkata', '2026-11-26T18:30:00Z')).toEqual(['2026-11-26T18:30:00.000Z', '2026-11-27T18:30:00.000Z']);
    expect(bounds('day', 'Asia/Kolkata', '2026-11-26T18:29:59Z')).toEqual(['2026-11-25T18:30:00.000Z', '2026-11-26T18:30:00.000Z']);
  });

  it('finds the first instant of a day whose midnight does not exist', () => {
    // Chile springs forward at 00:00 local on 2026-09-06: the day begins at 01:00 (-03).
    expect(startOfLocalDate({ year: 2026, month: 9, day: 6 }, 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
  });
});

describe('zone helpers', () => {
  it('reads offsets, including DST', () => {
    expect(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(3_600_000);
    expect(zoneOffsetMs(at('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(7_200_000);
  });

  it('lists the local day starts before today, oldest first', () => {
    const starts = localDayStarts(at('2026-03-09T12:00:00Z'), 'America/New_York', 2);
    expect(starts.map((d) => d.toISOString())).toEqual(['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
  });
});
