import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { Decimal, formatUsd, rawEventsKeptSince } from '@tokentally/core';
import { Month, monthRange, monthText, previousMonth } from './dto/month-close.dto';
import { ReportQuery } from './dto/report-query.dto';
import { csvLine } from './csv';
import { GROUPING_BITS, MonthCloseRepository, MonthCloseSet, MonthRestatementRow } from './month-close.sql';
import { ReportsService } from './reports.service';

const NONE = '(none)';
const dec = (text: string | null | undefined) => (text ? Decimal.parse(text) : Decimal.ZERO);

interface Measures {
  cost: Decimal;
  events: number;
  images: number;
  unpriced: number;
  partial: number;
  partialCost: Decimal;
}

interface GroupedRow extends Measures {
  set: MonthCloseSet;
  project: string | null;
  team: string | null;
  provider: string | null;
  model: string | null;
}

const ZERO_MEASURES: Measures = {
  cost: Decimal.ZERO,
  events: 0,
  images: 0,
  unpriced: 0,
  partial: 0,
  partialCost: Decimal.ZERO,
};

/** Totals as the API shows them: money as exact decimal strings. */
function totalsView(m: Measures) {
  return {
    cost_usd: formatUsd(m.cost),
    events: m.events,
    images: m.images,
    unpriced_events: m.unpriced,
    partial_events: m.partial,
    partial_cost_usd: formatUsd(m.partialCost),
  };
}

/** A share of the month's cost, a fraction to 4 decimals (a ratio for people, not money); null when the month cost
 * nothing. */
function share(part: Decimal, whole: Decimal): string | null {
  return whole.isZero() ? null : part.divide(whole, 4).toFixedString(4);
}

/** Percent change to one decimal, rounded half up, exactly; null when the previous figure is 0. */
export function changePct(current: Decimal, previous: Decimal): string | null {
  if (previous.isZero()) return null;
  return current.subtract(previous).times(100).divide(previous, 1).toFixedString(1);
}

const byCost = (a: Measures & { key: string }, b: Measures & { key: string }) =>
  b.cost.compare(a.cost) || b.events - a.events || a.key.localeCompare(b.key);

export type MonthCloseView = Awaited<ReturnType<MonthCloseService['close']>>;

/**
 * Month close for finance: one month in one time zone, its totals, the
 * totals by project, team, provider and model (each adding up to the month's
 * total to the last digit), the month before, the restatements that touch
 * it, and what is not (wholly) priced. Reads the hourly rollups, plus raw
 * events only for a part hour at a month edge (month-close.sql.ts).
 */
@Injectable()
export class MonthCloseService {
  constructor(
    @Inject(MonthCloseRepository) private readonly repository: MonthCloseRepository,
    @Inject(ReportsService) private readonly reports: ReportsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private async grouped(q: ReportQuery): Promise<GroupedRow[]> {
    const rows = await this.repository.grouped(q, rawEventsKeptSince(Date.now(), this.config.retentionMonths));
    return rows.map((r) => ({
      set: GROUPING_BITS[Number(r.g)],
      project: r.project,
      team: r.team,
      provider: r.provider,
      model: r.model,
      cost: dec(r.cost),
      events: Number(r.events),
      images: Number(r.images),
      unpriced: Number(r.unpriced),
      partial: Number(r.partial),
      partialCost: dec(r.partial_cost),
    }));
  }

  async close(month: Month, q: ReportQuery) {
    const previous = previousMonth(month);
    const previousRange = previous ? monthRange(previous, q.tz) : null;
    const [rows, previousRows, names, kindRows, restatementRows, adjustmentRows, closed] = await Promise.all([
      this.grouped(q),
      previousRange ? this.grouped({ ...q, ...previousRange }) : Promise.resolve([] as GroupedRow[]),
      this.reports.projectNames(),
      this.kinds(q),
      this.repository.restatements(q.from, q.to),
      this.repository.adjustments(q),
      this.repository.closedPeriod(`${monthText(month)}-01`),
    ]);
    // GROUPING SETS always returns the () row, even over no rows.
    const total = rows.find((r) => r.set === 'total') ?? { ...ZERO_MEASURES };
    const previousTotal = previousRows.find((r) => r.set === 'total') ?? { ...ZERO_MEASURES };
    const byUser = !!q.filters.user;

    const group = (set: MonthCloseSet, keyOf: (r: GroupedRow) => string | null) =>
      rows
        .filter((r) => r.set === set)
        .map((r) => ({ ...r, key: keyOf(r) || NONE }))
        .sort(byCost)
        .map((r) => ({ key: r.key, ...totalsView(r), share: share(r.cost, total.cost) }));

    const notPriced = rows
      .filter((r) => r.set === 'provider_model' && (r.unpriced > 0 || r.partial > 0))
      .map((r) => ({ ...r, key: `${r.provider}/${r.model}` }))
      .sort((a, b) => b.unpriced + b.partial - (a.unpriced + a.partial) || a.key.localeCompare(b.key))
      .map((r) => ({
        provider: r.provider!,
        model: r.model!,
        unpriced_events: r.unpriced,
        partial_events: r.partial,
        partial_cost_usd: formatUsd(r.partialCost),
        unpriced_kinds: kindRows.get(`${r.provider}\u0000${r.model}`) ?? [],
      }))
      // Unpriced calls with no unit named had no price version at all (their kinds are not looked at).
      .map((m) => ({
        ...m,
        note: m.unpriced_events > 0 && m.unpriced_kinds.length === 0 ? `no price for ${m.provider}/${m.model}` : null,
      }));

    const change = total.cost.subtract(previousTotal.cost);
    const unfiltered = Object.keys(q.filters).length === 0 && !q.tag;
    return {
      currency: 'USD',
      month: monthText(month),
      tz: q.tz,
      basis: q.basis,
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      filters: { ...q.filters, ...(q.tag ? { [`tag:${q.tag.key}`]: [q.tag.value] } : {}) },
      totals: totalsView(total),
      by_project: group('project', (r) => r.project).map(({ key, ...rest }) => ({
        key,
        project_id: key,
        name: names.get(key) ?? null,
        ...rest,
      })),
      // The user rollup has no team: with a user filter there is no split by team (null, not a wrong one).
      by_team: byUser ? null : group('team', (r) => r.team),
      by_provider: group('provider', (r) => r.provider),
      by_model: group('model', (r) => r.model),
      previous_month: previous
        ? {
            month: monthText(previous),
            from: previousRange!.from.toISOString(),
            to: previousRange!.to.toISOString(),
            totals: totalsView(previousTotal),
          }
        : null,
      change: {
        cost_usd: formatUsd(change),
        pct: changePct(total.cost, previousTotal.cost),
        events: total.events - previousTotal.events,
      },
      // A restatement's counts and totals are of every project it re-priced: a month close of some
      // projects lists the restatements without them (they are not those projects' figures).
      restatements: restatementRows
        .filter((r) => matchesFilters(r, q))
        .map((r) => restatementView(r, !q.filters.project)),
      // The finance period of the same name (a UTC month: docs/finance.md) and what it locked.
      // The locked figures are of every project: given only to a report of the whole month (no filter), which a key
      // limited to projects never reads.
      period: closed
        ? {
            status: 'closed' as const,
            closed_at: new Date(closed.closed_at).toISOString(),
            reason: closed.reason,
            locked_cost_usd: unfiltered ? formatUsd(dec(closed.totals.cost_usd)) : null,
            locked_events: unfiltered ? Number(closed.totals.events) : null,
          }
        : { status: 'open' as const },
      // Included in the totals above: calls of closed months that arrived late, counted in this month.
      adjustments: {
        events: adjustmentRows.reduce((n, r) => n + Number(r.events), 0),
        cost_usd: formatUsd(adjustmentRows.reduce((sum, r) => sum.add(dec(r.cost_usd)), Decimal.ZERO)),
        by_month: adjustmentRows.map((r) => ({
          month: r.of_month,
          events: Number(r.events),
          cost_usd: formatUsd(dec(r.cost_usd)),
        })),
      },
      not_wholly_priced: {
        complete: total.unpriced === 0 && total.partial === 0,
        unpriced_events: total.unpriced,
        partial_events: total.partial,
        partial_cost_usd: formatUsd(total.partialCost),
        note: notPricedNote(total),
        models: notPriced,
      },
    };
  }

  /** The units with no rate, per provider and model, of the month's events that are not wholly priced. */
  private async kinds(q: ReportQuery): Promise<Map<string, string[]>> {
    const rows = await this.repository.unpricedKinds(q);
    return new Map(
      rows.map((r) => [
        `${r.provider}\u0000${r.model}`,
        [
          ...new Set(
            String(r.missing ?? '')
              .split(',')
              .filter(Boolean),
          ),
        ].sort(),
      ]),
    );
  }

  /**
   * The month close as CSV: one row per figure, with a `section` column
   * (total, project, team, provider, model, previous_month), so a
   * spreadsheet can filter on it and each section adds up to the total row.
   */
  csv(view: MonthCloseView): string {
    const header = [
      'month',
      'timezone',
      'basis',
      'section',
      'key',
      'name',
      'cost_usd',
      'events',
      'images',
      'unpriced_events',
      'partial_events',
      'partial_cost_usd',
      'share',
    ];
    const row = (
      section: string,
      key: string,
      name: string | null,
      t: ReturnType<typeof totalsView>,
      shareOf: string | null,
    ) =>
      csvLine([
        view.month,
        view.tz,
        view.basis,
        section,
        key,
        name,
        t.cost_usd,
        t.events,
        t.images,
        t.unpriced_events,
        t.partial_events,
        t.partial_cost_usd,
        shareOf,
      ]);
    const lines = [
      '\ufeff' + csvLine(header),
      row('total', view.month, null, view.totals, view.totals.cost_usd === formatUsd(Decimal.ZERO) ? null : '1.0000'),
    ];
    for (const r of view.by_project) lines.push(row('project', r.key, r.name, r, r.share));
    for (const r of view.by_team ?? []) lines.push(row('team', r.key, null, r, r.share));
    for (const r of view.by_provider) lines.push(row('provider', r.key, null, r, r.share));
    for (const r of view.by_model) lines.push(row('model', r.key, null, r, r.share));
    if (view.previous_month)
      lines.push(row('previous_month', view.previous_month.month, null, view.previous_month.totals, null));
    // Calls of closed months counted in this one (already in the total), by the month they belong to.
    for (const a of view.adjustments.by_month)
      lines.push(
        csvLine([
          view.month,
          view.tz,
          view.basis,
          'adjustment',
          a.month,
          null,
          a.cost_usd,
          a.events,
          '',
          '',
          '',
          '',
          '',
        ]),
      );
    return lines.join('');
  }
}

/** One sentence on what the total leaves out, or null when every call of the month is priced. */
function notPricedNote(total: Measures): string | null {
  const calls = (n: number) => `${n} ${n === 1 ? 'call' : 'calls'}`;
  const parts = [
    ...(total.unpriced > 0 ? [`${calls(total.unpriced)} unpriced (counted at nothing)`] : []),
    ...(total.partial > 0
      ? [
          `${calls(total.partial)} partly priced (counted at the cost of their priced units, ${formatUsd(total.partialCost)})`,
        ]
      : []),
  ];
  if (parts.length === 0) return null;
  return `The total leaves out part of the month's usage: ${parts.join(' and ')}. They are priced again when a price arrives, as a restatement.`;
}

/** A restatement for one provider or model is left out of a month close filtered to others. */
function matchesFilters(r: MonthRestatementRow, q: ReportQuery): boolean {
  if (r.provider && q.filters.provider && !q.filters.provider.includes(r.provider)) return false;
  if (r.model && q.filters.model && !q.filters.model.includes(r.model)) return false;
  return true;
}

function restatementView(r: MonthRestatementRow, withTotals: boolean) {
  const before = dec(r.total_before_usd);
  const after = dec(r.total_after_usd);
  const totals = withTotals
    ? {
        events_examined: r.events_examined,
        events_changed: r.events_changed,
        before_usd: formatUsd(before),
        after_usd: formatUsd(after),
        delta_usd: formatUsd(after.subtract(before)),
      }
    : { events_examined: null, events_changed: null, before_usd: null, after_usd: null, delta_usd: null };
  return {
    id: r.id,
    reason: r.reason,
    requested_by: r.requested_by,
    created_at: new Date(r.created_at).toISOString(),
    from: r.range_from && new Date(r.range_from).toISOString(),
    to: r.range_to && new Date(r.range_to).toISOString(),
    provider: r.provider,
    model: r.model,
    ...totals,
    recorded_in_month: r.recorded_in_month,
    range_overlaps_month: r.range_overlaps_month,
  };
}
