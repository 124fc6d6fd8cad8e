/**
 * The months raw usage events are stored by. `usage_events` is partitioned by
 * UTC calendar month of `occurred_at` (one table per month, made ahead of
 * time), and RETENTION_MONTHS drops whole months of raw events while the
 * rollups keep their totals (docs/deploy.md, "A year of data and more").
 */

/** The first instant (UTC) of the calendar month `offset` months after the UTC month holding `at`. */
export function utcMonthStart(at: number | Date, offset = 0): Date {
  const d = new Date(at);
  const start = new Date(0);
  start.setUTCFullYear(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
  return start;
}

/**
 * The earliest instant whose raw events are kept: the start of the UTC month
 * `retentionMonths` before the current one, so the current month and
 * `retentionMonths` whole months before it stay. `undefined` keeps everything.
 */
export function rawEventsKeptSince(now: number, retentionMonths: number | undefined): Date | null {
  return retentionMonths === undefined ? null : utcMonthStart(now, -retentionMonths);
}

/** The name of the table holding the raw events of the UTC month starting at `monthStart`: `usage_events_y2026m11`. */
export function eventMonthTable(monthStart: Date): string {
  const month = String(monthStart.getUTCMonth() + 1).padStart(2, '0');
  return `usage_events_y${String(monthStart.getUTCFullYear()).padStart(4, '0')}m${month}`;
}

/** The month start a table name made by `eventMonthTable` stands for; null for any other name. */
export function monthOfEventTable(name: string): Date | null {
  const match = /^usage_events_y(\d{4})m(0[1-9]|1[0-2])$/.exec(name);
  if (!match) return null;
  const start = new Date(0);
  start.setUTCFullYear(Number(match[1]), Number(match[2]) - 1, 1);
  return start;
}

/** The distinct UTC month starts of these instants, oldest first. */
export function monthsHolding(instants: Iterable<number | Date | string>): Date[] {
  const months = new Map<number, Date>();
  for (const at of instants) {
    const start = utcMonthStart(typeof at === 'string' ? Date.parse(at) : at);
    months.set(start.getTime(), start);
  }
  return [...months.values()].sort((a, b) => a.getTime() - b.getTime());
}
