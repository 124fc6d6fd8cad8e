import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '@tokentally/common';
import { CalendarMonth, Decimal, formatUsd, monthRange, monthText, parseMonthText } from '@tokentally/core';
import { ClosedPeriodRow, PeriodLogRow, PeriodsRepository, RangeTotalsRow } from './periods.sql';

const MONEY: ReadonlyArray<keyof RangeTotalsRow> = ['cost_usd', 'cost_ingested_usd', 'partial_cost_usd'];

/** A month's totals as the API shows them: money as exact decimal strings, counts as numbers. */
function totalsView(row: RangeTotalsRow) {
  return Object.fromEntries(
    (Object.keys(row) as Array<keyof RangeTotalsRow>).map((key) => [
      key,
      MONEY.includes(key) ? formatUsd(Decimal.parse(row[key])) : Number(row[key]),
    ]),
  ) as Record<keyof RangeTotalsRow, string | number>;
}

/** True when every figure of `a` equals that of `b` (money compared as exact decimals). */
function sameTotals(a: RangeTotalsRow, b: RangeTotalsRow): boolean {
  return (Object.keys(a) as Array<keyof RangeTotalsRow>).every((key) =>
    MONEY.includes(key) ? Decimal.parse(a[key]).compare(Decimal.parse(b[key] ?? '0')) === 0 : a[key] === b[key],
  );
}

/** The first day of a month as PostgreSQL's `date` takes it. */
const firstDay = (m: CalendarMonth) => `${monthText(m)}-01`;

const monthOfDate = (date: string): CalendarMonth => ({
  year: Number(date.slice(0, 4)),
  month: Number(date.slice(5, 7)),
});

export type PeriodView = Awaited<ReturnType<PeriodsService['get']>>;

/**
 * Closing a month for finance (POST /v1/periods/:month/close and /reopen,
 * GET /v1/periods): the UTC month's totals are locked and stay as they are;
 * events that arrive for it later are counted in the first open month
 * (periods.sql.ts says how), and re-pricing inside it is refused.
 */
@Injectable()
export class PeriodsService {
  constructor(
    // Transactions only: the statements are the repository's.
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(PeriodsRepository) private readonly repository: PeriodsRepository,
  ) {}

  /** The month a path names, or a 400 naming `month`. */
  parseMonth(text: string): CalendarMonth {
    const month = parseMonthText(text);
    if (typeof month === 'string') throw DomainError.validation([{ path: 'month', message: month }]);
    return month;
  }

  async close(month: CalendarMonth, reason: string, keyId: string, now = new Date()): Promise<PeriodView> {
    const { from, to } = monthRange(month, 'UTC');
    if (to > now)
      throw new DomainError(
        'conflict',
        `${monthText(month)} is not over yet: it ends at ${to.toISOString()}. A month can be closed once it has ended.`,
        [{ path: 'month', message: 'has not ended yet' }],
      );
    await this.db.transaction(async (manager: EntityManager) => {
      // Waits for every ingest and re-pricing statement that read the closed months, holds new ones until this commits.
      await this.repository.lock(manager);
      if (await this.repository.closedOne(firstDay(month), manager))
        throw new DomainError('conflict', `${monthText(month)} is already closed.`, [
          { path: 'month', message: 'is already closed' },
        ]);
      const totals = await this.repository.totals(from, to, manager);
      const byProject = await this.repository.totalsByProject(from, to, manager);
      await this.repository.insertClosed(manager, {
        month: firstDay(month),
        actor: keyId,
        keyId,
        reason,
        locked: { totals, by_project: byProject },
      });
      await this.repository.insertLog(manager, {
        month: firstDay(month),
        action: 'close',
        actor: keyId,
        keyId,
        reason,
        totals,
      });
    });
    return this.get(month);
  }

  async reopen(month: CalendarMonth, reason: string, keyId: string): Promise<PeriodView> {
    const { from, to } = monthRange(month, 'UTC');
    await this.db.transaction(async (manager: EntityManager) => {
      await this.repository.lock(manager);
      if (!(await this.repository.closedOne(firstDay(month), manager)))
        throw new DomainError('conflict', `${monthText(month)} is not closed.`, [
          { path: 'month', message: 'is not closed' },
        ]);
      const totals = await this.repository.totals(from, to, manager);
      await this.repository.deleteClosed(manager, firstDay(month));
      await this.repository.insertLog(manager, {
        month: firstDay(month),
        action: 'reopen',
        actor: keyId,
        keyId,
        reason,
        totals,
      });
    });
    return this.get(month);
  }

  /** Every month that is closed or was closed once, newest first. */
  async list() {
    const views = [];
    for (const month of await this.repository.months()) views.push(await this.get(monthOfDate(month)));
    return { data: views };
  }

  /** One month: open or closed, its locked and current totals, its late events and its log. */
  async get(month: CalendarMonth) {
    const { from, to } = monthRange(month, 'UTC');
    const [closed, current, late, log] = await Promise.all([
      this.repository.closedOne(firstDay(month)),
      this.repository.totals(from, to),
      this.repository.lateEventsOf(from, to),
      this.repository.log(firstDay(month)),
    ]);
    return {
      month: monthText(month),
      status: closed ? ('closed' as const) : ('open' as const),
      from: from.toISOString(),
      to: to.toISOString(),
      ...closedView(closed, current),
      current: totalsView(current),
      late_events: late.map((row) => ({
        counted_in: row.booked_in,
        events: Number(row.events),
        cost_usd: formatUsd(Decimal.parse(row.cost_usd)),
      })),
      log: log.map(logView),
    };
  }

  /**
   * Refuses a re-pricing of [from, to) that would change a closed month (a
   * 409 naming them). Re-pricing checks again in the statement that writes,
   * so a month closed while it runs is still left alone.
   */
  async assertNoClosedMonthIn(from: Date, to: Date): Promise<void> {
    const closed = await this.repository.closedWithin(from, to);
    if (closed.length === 0) return;
    const names = closed.map((date) => monthText(monthOfDate(date)));
    throw new DomainError(
      'conflict',
      `The range covers closed months (${names.join(', ')}): their figures are locked, so re-pricing them is refused. ` +
        `Re-price a range outside them, or reopen them first (POST /v1/periods/${names[0]}/reopen with a reason).`,
      [{ path: 'from', message: `the range covers closed months: ${names.join(', ')}` }],
      { closed_months: names },
    );
  }
}

function closedView(closed: ClosedPeriodRow | null, current: RangeTotalsRow) {
  if (!closed) return { closed: null, locked: null, unchanged: null };
  return {
    closed: {
      at: new Date(closed.closed_at).toISOString(),
      by: { key_id: closed.closed_by_key_id, key_name: closed.closed_by_key_name },
      reason: closed.reason,
    },
    locked: {
      totals: totalsView(closed.locked.totals),
      by_project: closed.locked.by_project.map(({ project_id, ...totals }) => ({
        project_id,
        ...totalsView(totals as RangeTotalsRow),
      })),
    },
    unchanged: sameTotals(closed.locked.totals, current),
  };
}

function logView(row: PeriodLogRow) {
  return {
    action: row.action,
    at: new Date(row.at).toISOString(),
    by: { key_id: row.actor_key_id, key_name: row.actor_key_name },
    reason: row.reason,
    totals: row.totals ? totalsView(row.totals) : null,
  };
}
