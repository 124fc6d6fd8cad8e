import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BudgetPeriod, computeCost, Decimal, EMPTY_USAGE, forecastExplanation, forecastHistoryDays, forecastInputOf, forecastPeriodEnd, formatUsd, periodBounds, PriceVersion, TOKEN_KINDS, TokenUsage } from '@tokentally/core';
import { PricingRefreshService, PricingService } from '@tokentally/pricing';
import { Dimension, ReportQuery } from './dto/report-query.dto';
import { REPORT_SQL, source, TotalItem } from './reports.sql';

const OTHER = '(other)';
const NONE = '(none)';

const usd = (value: Decimal) => formatUsd(value);
const dec = (text: string | null | undefined) => (text ? Decimal.parse(text) : Decimal.ZERO);

export interface SpendSeries {
  key: string;
  label: string;
  values: string[];
  total: string;
}

/**
 * Reports read the hourly rollups only. Money is summed by PostgreSQL numeric
 * per bucket and added up here with exact decimals, so every total equals the
 * sum of its parts to the last digit.
 */
@Injectable()
export class ReportsService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(PricingRefreshService) private readonly refresher: PricingRefreshService,
  ) {}

  async buckets(q: ReportQuery): Promise<Date[]> {
    const { sql, params } = REPORT_SQL.buckets(q);
    return (await this.db.query(sql, params)).map((row: { b: Date }) => new Date(row.b));
  }

  /**
   * The total of each item (a range and single-value filters), in one query
   * per rollup family whatever the number of items: budget evaluation right
   * after ingest asks this for every budget at once.
   */
  async totals(items: TotalItem[], basis: 'restated' | 'ingested' = 'restated'): Promise<Map<string, Decimal>> {
    const byTable = new Map<string, TotalItem[]>();
    for (const item of items) {
      const filters = Object.fromEntries(Object.entries(item.filters).map(([d, v]) => [d, [v]]));
      const { table } = source({ filters, tag: item.tag, groupBy: 'none' } as ReportQuery);
      byTable.set(table, [...(byTable.get(table) ?? []), item]);
    }
    const totals = new Map<string, Decimal>();
    for (const [table, group] of byTable) {
      const { sql, params } = REPORT_SQL.totals(table, group, basis);
      for (const row of await this.db.query(sql, params)) totals.set(row.key, dec(row.cost));
    }
    return totals;
  }

  async spend(q: ReportQuery) {
    const buckets = await this.buckets(q);
    // The range itself, not the whole first bucket: a week or month bucket that starts before `from`
    // holds only what happened from `from` on, so the total is the sum of the range's events.
    const { sql, params } = REPORT_SQL.spend(q, q.from, q.to);
    const rows: Array<{ b: Date; key: string; cost: string; events: string; unpriced: string; partial: string; partial_cost: string }> = await this.db.query(sql, params);
    const index = new Map(buckets.map((b, i) => [b.getTime(), i]));
    const byKey = new Map<string, Decimal[]>();
    const countsOf = new Map<string, { unpriced: number; partial: number }>();
    let events = 0n;
    let unpriced = 0n;
    let partial = 0n;
    let partialCost = Decimal.ZERO;
    for (const row of rows) {
      const i = index.get(new Date(row.b).getTime());
      if (i === undefined) continue;
      const key = row.key === '' ? NONE : row.key;
      let values = byKey.get(key);
      if (!values) byKey.set(key, (values = buckets.map(() => Decimal.ZERO)));
      values[i] = values[i].add(dec(row.cost));
      const counts = countsOf.get(key) ?? { unpriced: 0, partial: 0 };
      countsOf.set(key, { unpriced: counts.unpriced + Number(row.unpriced), partial: counts.partial + Number(row.partial) });
      events += BigInt(row.events);
      unpriced += BigInt(row.unpriced);
      partial += BigInt(row.partial);
      partialCost = partialCost.add(dec(row.partial_cost));
    }
    const series = [...byKey.entries()]
      .map(([key, values]) => ({ key, values, total: values.reduce((a, b) => a.add(b), Decimal.ZERO) }))
      .sort((a, b) => b.total.compare(a.total) || a.key.localeCompare(b.key));
    // Beyond `limit` series, the rest are summed into one, so a chart stays readable and totals stay whole.
    const kept = series.slice(0, q.limit);
    const rest = series.slice(q.limit);
    if (rest.length > 0) {
      const values = buckets.map((_, i) => rest.reduce((sum, s) => sum.add(s.values[i]), Decimal.ZERO));
      kept.push({ key: OTHER, values, total: values.reduce((a, b) => a.add(b), Decimal.ZERO) });
      countsOf.set(OTHER, rest.reduce((sum, r) => ({ unpriced: sum.unpriced + countsOf.get(r.key)!.unpriced, partial: sum.partial + countsOf.get(r.key)!.partial }), { unpriced: 0, partial: 0 }));
    }
    const labels = q.groupBy === 'project' ? await this.projectNames() : new Map<string, string>();
    const total = kept.reduce((sum, s) => sum.add(s.total), Decimal.ZERO);
    return {
      currency: 'USD',
      basis: q.basis,
      granularity: q.granularity,
      tz: q.tz,
      group_by: q.groupBy,
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      buckets: buckets.map((b) => b.toISOString()),
      // Each series says how many of its calls are not (wholly) in its total: a series of unpriced calls totals 0 but is not free.
      series: kept.map((s) => ({
        key: s.key,
        label: labels.get(s.key) ?? s.key,
        values: s.values.map(usd),
        total: usd(s.total),
        unpriced_events: countsOf.get(s.key)?.unpriced ?? 0,
        partial_events: countsOf.get(s.key)?.partial ?? 0,
      })),
      total: usd(total),
      events: Number(events),
      // The total counts partly priced events at the cost of their priced kinds; unpriced events add nothing.
      partial_events: Number(partial),
      partial_cost_usd: usd(partialCost),
      unpriced_events: Number(unpriced),
    };
  }

  /**
   * Spend per local day of `tz` in [from, to), keyed by the instant each day
   * starts: the history of the weekly-rhythm forecast, read the same way by
   * budgets and the summary (so both forecast the same figure on the same data).
   */
  async spendByLocalDay(scope: Pick<ReportQuery, 'filters' | 'tag'>, tz: string, from: Date, to: Date): Promise<Map<number, Decimal>> {
    const report = await this.spend({ ...scope, from, to, granularity: 'day', tz, groupBy: 'none', basis: 'restated', limit: 1_000, raw: false });
    const byDay = new Map<number, Decimal>();
    report.buckets.forEach((bucket, i) => {
      byDay.set(Date.parse(bucket), report.series.reduce((sum, s) => sum.add(Decimal.parse(s.values[i])), Decimal.ZERO));
    });
    return byDay;
  }

  /** The period (day, week, month, quarter) holding `now` in a time zone, and the one before (the maths is libs/core's, shared with budgets). */
  periodBounds(period: BudgetPeriod, tz: string, now = new Date()) {
    const { start, end } = periodBounds(period, tz, now);
    return { start, end, previousStart: periodBounds(period, tz, new Date(start.getTime() - 1)).start };
  }

  /** Period to date, forecast, previous period, top movers, unpriced events, pricing freshness. */
  async summary(q: ReportQuery, period: 'day' | 'week' | 'month' | 'quarter', now = new Date()) {
    const { start: periodStart, end: periodEnd, previousStart: prevStart } = this.periodBounds(period, q.tz, now);
    const elapsed = now.getTime() - periodStart.getTime();
    const prevSamePoint = new Date(prevStart.getTime() + elapsed);
    const { sql, params } = REPORT_SQL.summary(q, { start: periodStart, now, prevStart, prevSamePoint });
    const rows: Array<Record<string, any>> = await this.db.query(sql, params);
    const sumOf = (column: string) => rows.reduce<Decimal>((sum, r) => sum.add(dec(r[column])), Decimal.ZERO);
    const current = {
      cost: sumOf('current'),
      events: rows.reduce((n, r) => n + Number(r.events), 0),
      unpriced: rows.reduce((n, r) => n + Number(r.unpriced), 0),
      partial: rows.reduce((n, r) => n + Number(r.partial), 0),
      partialCost: sumOf('partial_cost'),
    };
    const previousToDate = { cost: sumOf('previous_to_date') };
    const previousWhole = { cost: sumOf('previous_whole') };
    // Forecast: libs/core's, with the inputs budgets give it (28 local days of history in this tz).
    const historyFrom = forecastHistoryDays(now, q.tz)[0];
    const spendByDay = await this.spendByLocalDay({ filters: q.filters, tag: q.tag }, q.tz, historyFrom, now);
    const forecast = forecastPeriodEnd(forecastInputOf({ now, tz: q.tz, start: periodStart, end: periodEnd, spent: current.cost, spendByDay }));
    const movers = await this.topMovers(rows);
    const lastRefresh = await this.refresher.lastSuccessfulRun();
    return {
      currency: 'USD',
      tz: q.tz,
      period,
      period_start: periodStart.toISOString(),
      period_end: periodEnd.toISOString(),
      spent: usd(current.cost),
      events: current.events,
      forecast: usd(forecast.amount),
      forecast_method: forecast.method,
      forecast_explanation: forecastExplanation(forecast.method),
      previous_period: { start: prevStart.toISOString(), end: periodStart.toISOString(), spent: usd(previousWhole.cost), spent_to_same_point: usd(previousToDate.cost) },
      change_pct: previousToDate.cost.isZero() ? null : changePct(current.cost, previousToDate.cost),
      top_movers: movers,
      partial_events: current.partial,
      partial_cost_usd: usd(current.partialCost),
      unpriced_events: current.unpriced,
      pricing: {
        last_refresh: lastRefresh ? lastRefresh.finished_at : null,
        last_refresh_status: lastRefresh ? lastRefresh.status : null,
        next_refresh: this.refresher.nextScheduledRun()?.toISOString() ?? null,
      },
    };
  }

  private async topMovers(rows: Array<Record<string, any>>) {
    const names = await this.projectNames();
    const movers: Array<{ dimension: Dimension; key: string; label: string; current: Decimal; previous: Decimal; change: Decimal }> = [];
    for (const dimension of ['project', 'team', 'feature', 'model'] as Dimension[]) {
      const byKey = new Map<string, { current: Decimal; previous: Decimal }>();
      for (const row of rows) {
        const key = row[dimension];
        if (key === '' || key === null) continue;
        const entry = byKey.get(key) ?? { current: Decimal.ZERO, previous: Decimal.ZERO };
        byKey.set(key, { current: entry.current.add(dec(row.current)), previous: entry.previous.add(dec(row.previous_to_date)) });
      }
      for (const [key, { current, previous }] of byKey) {
        if (current.isZero() && previous.isZero()) continue;
        movers.push({ dimension, key, label: dimension === 'project' ? names.get(key) ?? key : key, current, previous, change: current.subtract(previous) });
      }
    }
    const abs = (d: Decimal) => d.abs();
    return movers
      .sort((a, b) => abs(b.change).compare(abs(a.change)))
      .slice(0, 6)
      .map((m) => ({ dimension: m.dimension, key: m.key, label: m.label, current: usd(m.current), previous: usd(m.previous), change: usd(m.change), change_pct: m.previous.isZero() ? null : changePct(m.current, m.previous) }));
  }

  /** Token kinds over time; tokens, images and cost per model, size and quality. */
  async tokens(q: ReportQuery) {
    const buckets = await this.buckets(q);
    const index = new Map(buckets.map((b, i) => [b.getTime(), i]));
    const overTime = REPORT_SQL.tokensOverTime(q);
    const series = Object.fromEntries(TOKEN_KINDS.map((k) => [k, buckets.map(() => 0)]));
    for (const row of await this.db.query(overTime.sql, overTime.params)) {
      const i = index.get(new Date(row.b).getTime());
      if (i === undefined) continue;
      for (const kind of TOKEN_KINDS) series[kind][i] += Number(row[kind]);
    }
    const breakdown = REPORT_SQL.tokensBreakdown(q);
    const rows = (await this.db.query(breakdown.sql, breakdown.params)).map((row: Record<string, string>) => {
      const images = Number(row.images);
      const cost = dec(row.cost);
      const outputImage = Number(row.output_image);
      return {
        provider: row.provider,
        model: row.model,
        image_size: row.image_size || null,
        image_quality: row.image_quality || null,
        events: Number(row.events),
        images,
        tokens: Object.fromEntries(TOKEN_KINDS.map((k) => [k, Number(row[k])])),
        cost_usd: usd(cost),
        cost_per_image_usd: images > 0 ? usd(cost.divideBy(images, 6)) : null,
        output_image_tokens_per_image: images > 0 ? Math.round(outputImage / images) : null,
        partial_events: Number(row.partial),
        partial_cost_usd: usd(dec(row.partial_cost)),
        unpriced_events: Number(row.unpriced),
      };
    });
    return { granularity: q.granularity, tz: q.tz, buckets: buckets.map((b) => b.toISOString()), series: TOKEN_KINDS.map((kind) => ({ kind, values: series[kind] })), breakdown: rows };
  }

  /**
   * What the same usage cost, and would have cost at every provider that
   * offers the model, with the price in effect at each hour of use (days
   * without a price change are priced whole: the price is the same all day).
   */
  async compareProviders(q: ReportQuery) {
    const { sql, params } = REPORT_SQL.usageForPricing(q, this.pricing.priceChangeInstants());
    const rows: Array<Record<string, string>> = await this.db.query(sql, params);
    const providersOf = new Map<string, Set<string>>();
    for (const v of this.pricing.currentVersions()) {
      if (v.kind === 'discount') continue; // a list price or a negotiated one: the provider sells the model
      providersOf.set(v.model, (providersOf.get(v.model) ?? new Set()).add(v.provider));
    }
    type ModelUsage = { actual: Map<string, { cost: Decimal; unpriced: number; partial: number }>; scenarios: Map<string, Decimal>; unpricedScenario: Set<string> };
    const models = new Map<string, ModelUsage>();
    // Usage summed per (model, scenario provider, price version): pricing is
    // linear, so each sum is priced once instead of every hour.
    const pending = new Map<
      string,
      { model: string; provider: string; version: PriceVersion; usage: TokenUsage; images: number; okEvents: number; imageSize: string | null; imageQuality: string | null }
    >();
    for (const row of rows) {
      let m = models.get(row.model);
      if (!m) models.set(row.model, (m = { actual: new Map(), scenarios: new Map(), unpricedScenario: new Set() }));
      const actual = m.actual.get(row.provider) ?? { cost: Decimal.ZERO, unpriced: 0, partial: 0 };
      m.actual.set(row.provider, { cost: actual.cost.add(dec(row.cost)), unpriced: actual.unpriced + Number(row.unpriced), partial: actual.partial + Number(row.partial) });
      const at = new Date(row.bucket).getTime();
      for (const provider of providersOf.get(row.model) ?? []) {
        const version = this.pricing.resolve(provider, row.model, at);
        if (!version) {
          m.unpricedScenario.add(provider);
          continue;
        }
        // Per-image prices depend on size and quality: those stay apart in the sums.
        const key = `${row.model}\u0000${provider}\u0000${version.id}\u0000${version.appliedDiscountPct ?? ''}\u0000${row.image_size}\u0000${row.image_quality}`;
        let sum = pending.get(key);
        if (!sum) {
          const image = { imageSize: row.image_size || null, imageQuality: row.image_quality || null };
          pending.set(key, (sum = { model: row.model, provider, version, usage: { ...EMPTY_USAGE }, images: 0, okEvents: 0, ...image }));
        }
        for (const kind of TOKEN_KINDS) sum.usage[kind] += Number(row[kind]);
        sum.images += Number(row.per_image_images);
        sum.okEvents += Number(row.ok_events);
      }
    }
    for (const sum of pending.values()) {
      const m = models.get(sum.model)!;
      // `images` are those priced per image (not counted in tokens), summed per event: pricing stays linear.
      const result = computeCost({ usage: sum.usage, images: sum.images, imageSize: sum.imageSize, imageQuality: sum.imageQuality, succeeded: false }, sum.version.sheet);
      if (!result.priced) {
        m.unpricedScenario.add(sum.provider);
        continue;
      }
      let cost = result.cost;
      if (sum.version.sheet.per_request) cost = cost.add(Decimal.parse(sum.version.sheet.per_request).times(sum.okEvents));
      m.scenarios.set(sum.provider, (m.scenarios.get(sum.provider) ?? Decimal.ZERO).add(cost));
    }
    let totalActual = Decimal.ZERO;
    const out = [...models.entries()].map(([model, m]) => {
      const actual = [...m.actual.values()].reduce((a, b) => a.add(b.cost), Decimal.ZERO);
      totalActual = totalActual.add(actual);
      // Scenarios price all the usage; the actual cost leaves out unpriced events and the unpriced kinds
      // of partly priced ones. Then the actual is a floor, and a saving against it would be wrong.
      const unpriced = [...m.actual.values()].reduce((n, a) => n + a.unpriced, 0);
      const partial = [...m.actual.values()].reduce((n, a) => n + a.partial, 0);
      const complete = unpriced === 0 && partial === 0;
      const scenarios = [...m.scenarios.entries()]
        .filter(([provider]) => !m.unpricedScenario.has(provider))
        .map(([provider, cost]) => ({ provider, cost_usd: usd(cost), saving_usd: complete ? usd(actual.subtract(cost)) : null }))
        .sort((a, b) => Decimal.parse(a.cost_usd).compare(Decimal.parse(b.cost_usd)));
      return {
        model,
        actual: [...m.actual.entries()].map(([provider, a]) => ({ provider, cost_usd: a.unpriced > 0 && a.cost.isZero() && a.partial === 0 ? null : usd(a.cost), unpriced_events: a.unpriced, partial_events: a.partial })),
        actual_total_usd: usd(actual),
        actual_complete: complete,
        ...(complete ? {} : { note: `the actual cost leaves out ${unpriced} unpriced and ${partial} partly priced calls: no saving is computed` }),
        at_each_provider: scenarios,
        cheapest: scenarios[0] ?? null,
      };
    });
    return { currency: 'USD', from: q.from.toISOString(), to: q.to.toISOString(), models: out, actual_total_usd: usd(totalActual) };
  }

  async projectNames(): Promise<Map<string, string>> {
    return new Map((await this.db.query(REPORT_SQL.projectNames)).map((r: { id: string; name: string }) => [r.id, r.name]));
  }
}

/** Percent change, to one decimal: a ratio for people, not money. */
function changePct(current: Decimal, previous: Decimal): string {
  return ((Number(current.toFixedString()) / Number(previous.toFixedString()) - 1) * 100).toFixed(1);
}
