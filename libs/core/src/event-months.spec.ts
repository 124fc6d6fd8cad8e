import * as fc from 'fast-check';
import { eventMonthTable, monthOfEventTable, monthsHolding, rawEventsKeptSince, utcMonthStart } from './event-months';

describe('event months', () => {
  it('a month starts at UTC midnight of its first day, whatever the instant or the offset', () => {
    expect(utcMonthStart(Date.parse('2026-11-29T23:59:59.999Z')).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(utcMonthStart(Date.parse('2026-11-01T00:00:00Z'), 1).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(utcMonthStart(Date.parse('2026-12-31T23:00:00Z'), 1).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(utcMonthStart(Date.parse('2026-03-31T12:00:00Z'), -1).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(utcMonthStart(Date.parse('2000-01-15T00:00:00Z'), -13).toISOString()).toBe('1998-12-01T00:00:00.000Z');
  });

  it('a local time zone does not move the month (2026-11-01T00:30 in New York is still October in UTC)', () => {
    expect(utcMonthStart(Date.parse('2026-11-01T00:30:00-04:00')).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(utcMonthStart(Date.parse('2026-11-01T00:30:00+05:30')).toISOString()).toBe('2026-10-01T00:00:00.000Z');
  });

  it('RETENTION_MONTHS keeps the current month and that many whole months before it; unset keeps all', () => {
    const now = Date.parse('2026-11-29T10:00:00Z');
    expect(rawEventsKeptSince(now, 2)?.toISOString()).toBe('2026-09-01T00:00:00.000Z');
    expect(rawEventsKeptSince(now, 0)?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(rawEventsKeptSince(now, 12)?.toISOString()).toBe('2025-11-01T00:00:00.000Z');
    expect(rawEventsKeptSince(now, undefined)).toBeNull();
  });

  it('a table name stands for exactly one month and back', () => {
    expect(eventMonthTable(new Date('2026-11-01T00:00:00Z'))).toBe('usage_events_y2026m11');
    expect(eventMonthTable(new Date('2000-01-01T00:00:00Z'))).toBe('usage_events_y2000m01');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 11 }), (year, month0) => {
        const start = new Date(0);
        start.setUTCFullYear(year, month0, 1);
        expect(monthOfEventTable(eventMonthTable(start))?.getTime()).toBe(start.getTime());
      }),
    );
    for (const other of ['usage_events', 'usage_events_y2026m13', 'usage_events_y2026m00', 'usage_events_y2026m1', 'x'])
      expect(monthOfEventTable(other)).toBeNull();
  });

  it('the months of a batch are distinct and in order', () => {
    expect(
      monthsHolding(['2026-11-02T00:00:00Z', '2026-09-30T23:59:59.999999Z', '2026-11-30T23:00:00Z']).map((m) =>
        m.toISOString(),
      ),
    ).toEqual(['2026-09-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z']);
  });
});
