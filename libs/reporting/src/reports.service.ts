import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  BudgetPeriod,
  computeCost,
  Decimal,
  EMPTY_USAGE,
  forecastExplanation,
  forecastHistoryDays,
  forecastInputOf,
  forecastPeriodEnd,
  formatUsd,
  modelWithoutSnapshot,
  periodBounds,
  PriceVersion,
  TOKEN_KINDS,
  TokenKind,
  TokenUsage,
} from '@tokentally/core';
import type { Queryable } from '@tokentally/db';
import { PricingRefreshService, PricingService } from '@tokentally/pricing';
import { ReportQuery } from './dto/report-query.dto';
import { ReportsRepository, source, SpendRow, SummaryRow, TotalItem } from './reports.sql';
import { counted } from './words';

/** The dimensions of the summary's top movers (those of the rows REPORT_SQL.summary adds up). */
const MOVER_DIMENSIONS = ['project', 'team', 'feature', 'model'] as const;

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
  private readonly logger = new Logger(ReportsService.name);

  constructor(
    // Transactions only (one snapshot for a report read in parts): the statements are the repository's.
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(ReportsRepository) private readonly repository: ReportsRepository,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(PricingRefreshService) private readonly refresher: PricingRefreshService,
  ) {}

  async buckets(q: ReportQuery): Promise<Date[]> {
    return this.repository.buckets(q);
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
      for (const row of await this.repository.totals(table, group, basis)) totals.set(row.key, dec(row.cost));
    }
    return totals;
  }

  async spend(q: ReportQuery) {
    const buckets = await this.buckets(q);
    // By user with thousands of users, the hourly user rows of the range are nearly as many as the
    // events: the top users are ranked on monthly and daily rows first and only their series are read.
    const fast = q.groupBy === 'user' && !q.filters.user ? await this.topUsersTally(q, buckets) : null;
    // The range itself, not the whole first bucket: a week or month bucket that starts before `from`
    // holds only what happened from `from` on, so the total is the sum of the range's events.
    const tally = fast ?? withOther(tallyOf(buckets, await this.spendRows(q)), buckets, q.limit);
    const labels = q.groupBy === 'project' ? await this.projectNames() : new Map<string, string>();
    const total = tally.series.reduce((sum, s) => sum.add(s.total), Decimal.ZERO);
    return {
      currency: 'USD',
      basis: q.basis,
      granularity: q.granularity,
      tz: q.tz,
      group_by: q.groupBy,
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      buckets: buckets.map((b) => b.toISOString()),
      // Each series says how many of its calls are not (wholly) in its total: a series of unpriced calls totals 0 but
      // is not free.
      series: tally.series.map((s) => ({
        key: s.key,
        label: labels.get(s.key) ?? s.key,
        values: s.values.map(usd),
        total: usd(s.total),
        unpriced_events: s.unpriced,
        partial_events: s.partial,
      })),
      total: usd(total),
      events: Number(tally.events),
      // The total counts partly priced events at the cost of their priced kinds; unpriced events add nothing.
      partial_events: Number(tally.partial),
      partial_cost_usd: usd(tally.partialCost),
      unpriced_events: Number(tally.unpriced),
    };
  }

  private async spendRows(q: ReportQuery, tx?: Queryable): Promise<SpendRow[]> {
    return this.repository.spend(q, tx);
  }

  /**
   * Spend by user, read as: (1) every user's total over the range, from the
   * monthly and daily user rollups for whole UTC months and days and the
   * hourly one elsewhere (REPORT_SQL.userRanking in reports.sql.ts), keeping those that can be among the first
   * `limit`, of which the first `limit` in the report's order are taken;
   * (2) the series of those users only, from the hourly rows, as the
   * plain report reads them; (3) when there are more users, `(other)` as the
   * range's totals per bucket (the main rollup, which holds the same events
   * with the same filters) minus those series. The three queries read one
   * snapshot (a repeatable-read transaction), so events arriving meanwhile
   * cannot make them disagree. The same figures as adding up every user's
   * rows, to the last digit; the parts are checked against each other and,
   * should they ever disagree, the report is made the plain way.
   */
  private async topUsersTally(q: ReportQuery, buckets: Date[]): Promise<Tally | null> {
    const read = await this.db.transaction('REPEATABLE READ', async (db) => {
      const ranked = await this.repository.userRanking(q, buckets, q.limit, db);
      // The first `limit` in the report's own order (total, then key), ties at the cut settled here as there.
      const top = ranked
        .map((r) => ({ key: r.key, cost: dec(r.cost) }))
        .sort((a, b) => b.cost.compare(a.cost) || a.key.localeCompare(b.key))
        .slice(0, q.limit);
      // '(none)' is the series of events without a user, and of a user named so.
      const rawKeys = top.flatMap((r) => (r.key === NONE ? ['', NONE] : [r.key]));
      const own =
        rawKeys.length > 0
          ? tallyOf(buckets, await this.spendRows({ ...q, filters: { ...q.filters, user: rawKeys } }, db))
          : emptyTally();
      const users = ranked[0]?.users ?? 0;
      const all = users > q.limit ? tallyOf(buckets, await this.spendRows({ ...q, groupBy: 'none' }, db)) : null;
      return { ranked, top, users, own, all };
    });
    const { ranked, top, users, own, all } = read;
    // The series read are those of the users ranked, with the same totals, in the same order.
    const fetched =
      top.length === own.series.length &&
      own.series.every((s, i) => s.key === top[i].key && s.total.equals(top[i].cost));
    if (!fetched) return this.fellBack(q, 'the user rollups by hour, day and month disagree');
    if (!all) {
      if (users !== own.series.length) return this.fellBack(q, 'the user count disagrees');
      return own;
    }
    const kept = own.series;
    const totals = all.series[0]?.values ?? buckets.map(() => Decimal.ZERO);
    if (!totals.reduce((a, b) => a.add(b), Decimal.ZERO).equals(dec(ranked[0].total)))
      return this.fellBack(q, 'the user and main rollups disagree');
    const values = totals.map((total, i) => kept.reduce((rest, s) => rest.subtract(s.values[i]), total));
    const counted = (pick: (s: SeriesTally) => number) => kept.reduce((n, s) => n + pick(s), 0);
    const other: SeriesTally = {
      key: OTHER,
      values,
      total: values.reduce((a, b) => a.add(b), Decimal.ZERO),
      unpriced: Number(all.unpriced) - counted((s) => s.unpriced),
      partial: Number(all.partial) - counted((s) => s.partial),
    };
    return { ...all, series: [...kept, other] };
  }

  private fellBack(q: ReportQuery, why: string): null {
    this.logger.error(`spend by user: ${why}; made the plain way (${q.from.toISOString()} to ${q.to.toISOString()})`);
    return null;
  }

  /**
   * Spend per local day of `tz` in [from, to), keyed by the instant each day
   * starts: the history of the weekly-rhythm forecast, read the same way by
   * budgets and the summary (so both forecast the same figure on the same data).
   */
  async spendByLocalDay(
    scope: Pick<ReportQuery, 'filters' | 'tag'>,
    tz: string,
    from: Date,
    to: Date,
    basis: ReportQuery['basis'] = 'restated',
  ): Promise<Map<number, Decimal>> {
    const report = await this.spend({
      ...scope,
      from,
      to,
      granularity: 'day',
      tz,
      groupBy: 'none',
      basis,
      limit: 1_000,
      raw: false,
    });
    const byDay = new Map<number, Decimal>();
    report.buckets.forEach((bucket, i) => {
      byDay.set(
        Date.parse(bucket),
        report.series.reduce((sum, s) => sum.add(Decimal.parse(s.values[i])), Decimal.ZERO),
      );
    });
    return byDay;
  }

  /** The period (day, week, month, quarter) holding `now` in a time zone, and the one before (the maths is libs/core's,
   * shared with budgets). */
  periodBounds(period: BudgetPeriod, tz: string, now = new Date()) {
    const { start, end } = periodBounds(period, tz, now);
    return { start, end, previousStart: periodBounds(period, tz, new Date(start.getTime() - 1)).start };
  }

  /** Period to date, forecast, previous period, top movers, unpriced events, pricing freshness. */
  async summary(q: ReportQuery, period: 'day' | 'week' | 'month' | 'quarter', now = new Date()) {
    const { start: periodStart, end: periodEnd, previousStart: prevStart } = this.periodBounds(period, q.tz, now);
    const elapsed = now.getTime() - periodStart.getTime();
    const prevSamePoint = new Date(prevStart.getTime() + elapsed);
    const rows = await this.repository.summary(q, { start: periodStart, now, prevStart, prevSamePoint });
    const sumOf = (column: 'current' | 'previous_to_date' | 'previous_whole' | 'partial_cost') =>
      rows.reduce<Decimal>((sum, r) => sum.add(dec(r[column])), Decimal.ZERO);
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
    // On the report's basis, as the spend to date it extends (basis=ingested forecasts the costs given at ingest).
    const spendByDay = await this.spendByLocalDay({ filters: q.filters, tag: q.tag }, q.tz, historyFrom, now, q.basis);
    const forecast = forecastPeriodEnd(
      forecastInputOf({ now, tz: q.tz, start: periodStart, end: periodEnd, spent: current.cost, spendByDay }),
    );
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
      previous_period: {
        start: prevStart.toISOString(),
        end: periodStart.toISOString(),
        spent: usd(previousWhole.cost),
        spent_to_same_point: usd(previousToDate.cost),
      },
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

  private async topMovers(rows: SummaryRow[]) {
    const names = await this.projectNames();
    const movers: Array<{
      dimension: (typeof MOVER_DIMENSIONS)[number];
      key: string;
      label: string;
      current: Decimal;
      previous: Decimal;
      change: Decimal;
    }> = [];
    for (const dimension of MOVER_DIMENSIONS) {
      const byKey = new Map<string, { current: Decimal; previous: Decimal }>();
      for (const row of rows) {
        const key = row[dimension];
        if (key === '' || key === null) continue;
        const entry = byKey.get(key) ?? { current: Decimal.ZERO, previous: Decimal.ZERO };
        byKey.set(key, {
          current: entry.current.add(dec(row.current)),
          previous: entry.previous.add(dec(row.previous_to_date)),
        });
      }
      for (const [key, { current, previous }] of byKey) {
        if (current.isZero() && previous.isZero()) continue;
        movers.push({
          dimension,
          key,
          label: dimension === 'project' ? (names.get(key) ?? key) : key,
          current,
          previous,
          change: current.subtract(previous),
        });
      }
    }
    const abs = (d: Decimal) => d.abs();
    return movers
      .sort((a, b) => abs(b.change).compare(abs(a.change)))
      .slice(0, 6)
      .map((m) => ({
        dimension: m.dimension,
        key: m.key,
        label: m.label,
        current: usd(m.current),
        previous: usd(m.previous),
        change: usd(m.change),
        change_pct: m.previous.isZero() ? null : changePct(m.current, m.previous),
      }));
  }

  /** Token kinds over time; tokens, images and cost per model, size and quality. */
  async tokens(q: ReportQuery) {
    const buckets = await this.buckets(q);
    const index = new Map(buckets.map((b, i) => [b.getTime(), i]));
    const series = Object.fromEntries(TOKEN_KINDS.map((k) => [k, buckets.map(() => 0)]));
    for (const row of await this.repository.tokensOverTime(q)) {
      const i = index.get(new Date(row.b).getTime());
      if (i === undefined) continue;
      for (const kind of TOKEN_KINDS) series[kind][i] += Number(row[kind]);
    }
    const rows = (await this.repository.tokensBreakdown(q)).map((row) => {
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
    // from/to: the range, as in spend (a chart labels a bucket the range cuts by the part it holds).
    return {
      granularity: q.granularity,
      tz: q.tz,
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      buckets: buckets.map((b) => b.toISOString()),
      series: TOKEN_KINDS.map((kind) => ({ kind, values: series[kind] })),
      breakdown: rows,
    };
  }

  /**
   * What the same usage cost, and would have cost at every provider that
   * offers the model, with the price in effect at each hour of use (days
   * without a price change are priced whole: the price is the same all day).
   * A dated snapshot (`gpt-image-2-2026-04-21`) is offered wherever it or its
   * base model is, and priced as ingest prices it (the price book falls back
   * to the base model's versions). A provider that cannot price all of the
   * usage is left out of `at_each_provider` (a total that leaves usage out is
   * not comparable) and listed in `not_compared` with the reason.
   */
  async compareProviders(q: ReportQuery) {
    const rows = await this.repository.usageForPricing(q, this.pricing.priceChangeInstants());
    const sellersOf = new Map<string, Set<string>>();
    for (const v of this.pricing.currentVersions()) {
      if (v.kind === 'discount') continue; // a list price or a negotiated one: the provider sells the model
      sellersOf.set(v.model, (sellersOf.get(v.model) ?? new Set()).add(v.provider));
    }
    const providersOfModel = new Map<string, string[]>();
    const providersOf = (model: string): string[] => {
      let providers = providersOfModel.get(model);
      if (!providers) {
        const base = modelWithoutSnapshot(model);
        providers = [...new Set([...(sellersOf.get(model) ?? []), ...(base ? (sellersOf.get(base) ?? []) : [])])];
        providersOfModel.set(model, providers);
      }
      return providers;
    };
    type ModelUsage = {
      actual: Map<string, { cost: Decimal; unpriced: number; partial: number }>;
      scenarios: Map<string, Decimal>;
      /** What each provider that sells the model could not price (the provider is then not compared). */
      shortfalls: Map<string, Shortfall>;
    };
    const models = new Map<string, ModelUsage>();
    const shortfallOf = (m: ModelUsage, provider: string): Shortfall => {
      let shortfall = m.shortfalls.get(provider);
      if (!shortfall) m.shortfalls.set(provider, (shortfall = emptyShortfall()));
      return shortfall;
    };
    // Usage summed per (model, scenario provider, price version): pricing is
    // linear, so each sum is priced once instead of every hour.
    const pending = new Map<
      string,
      {
        model: string;
        provider: string;
        version: PriceVersion;
        usage: TokenUsage;
        images: number;
        okEvents: number;
        imageSize: string | null;
        imageQuality: string | null;
      }
    >();
    for (const row of rows) {
      let m = models.get(row.model);
      if (!m) models.set(row.model, (m = { actual: new Map(), scenarios: new Map(), shortfalls: new Map() }));
      const actual = m.actual.get(row.provider) ?? { cost: Decimal.ZERO, unpriced: 0, partial: 0 };
      m.actual.set(row.provider, {
        cost: actual.cost.add(dec(row.cost)),
        unpriced: actual.unpriced + Number(row.unpriced),
        partial: actual.partial + Number(row.partial),
      });
      const at = new Date(row.bucket).getTime();
      for (const provider of providersOf(row.model)) {
        const version = this.pricing.resolve(provider, row.model, at);
        if (!version) {
          // Sold now, but not then (a negotiated price that starts later, with no list price).
          const shortfall = shortfallOf(m, provider);
          shortfall.calls += Number(row.events);
          shortfall.days.add(new Date(at).toISOString().slice(0, 10));
          continue;
        }
        // Per-image prices depend on size and quality: those stay apart in the sums.
        const key = `${row.model}\u0000${provider}\u0000${version.id}\u0000${version.appliedDiscountPct ?? ''}\u0000${row.image_size}\u0000${row.image_quality}`;
        let sum = pending.get(key);
        if (!sum) {
          const image = { imageSize: row.image_size || null, imageQuality: row.image_quality || null };
          pending.set(
            key,
            (sum = {
              model: row.model,
              provider,
              version,
              usage: { ...EMPTY_USAGE },
              images: 0,
              okEvents: 0,
              ...image,
            }),
          );
        }
        for (const kind of TOKEN_KINDS) sum.usage[kind] += Number(row[kind]);
        sum.images += Number(row.per_image_images);
        sum.okEvents += Number(row.ok_events);
      }
    }
    for (const sum of pending.values()) {
      const m = models.get(sum.model)!;
      // `images` are those priced per image (not counted in tokens), summed per event: pricing stays linear.
      const result = computeCost(
        {
          usage: sum.usage,
          images: sum.images,
          imageSize: sum.imageSize,
          imageQuality: sum.imageQuality,
          succeeded: false,
        },
        sum.version.sheet,
      );
      if (!result.priced) {
        const shortfall = shortfallOf(m, sum.provider);
        for (const unit of result.missing) {
          if (unit === 'per_image') {
            const what = [sum.imageQuality, sum.imageSize].filter(Boolean).join(' ') || 'an image of unknown size';
            shortfall.images.set(what, (shortfall.images.get(what) ?? 0) + sum.images);
          } else if (unit !== 'usage') {
            shortfall.tokens.set(unit, (shortfall.tokens.get(unit) ?? 0) + sum.usage[unit]);
          }
        }
        continue;
      }
      let cost = result.cost;
      if (sum.version.sheet.per_request)
        cost = cost.add(Decimal.parse(sum.version.sheet.per_request).times(sum.okEvents));
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
        .filter(([provider]) => !m.shortfalls.has(provider))
        .map(([provider, cost]) => ({
          provider,
          cost_usd: usd(cost),
          saving_usd: complete ? usd(actual.subtract(cost)) : null,
        }))
        .sort((a, b) => Decimal.parse(a.cost_usd).compare(Decimal.parse(b.cost_usd)));
      // Every provider left out, and why: those that sell the model but cannot price all of its usage, and those
      // the calls were made at that have no price for it.
      const sellers = new Set(providersOf(model));
      const notCompared = [
        ...[...m.shortfalls.entries()].map(([provider, shortfall]) => ({
          provider,
          reason: shortfallReason(provider, model, shortfall),
        })),
        ...[...m.actual.keys()]
          .filter((provider) => !sellers.has(provider))
          .map((provider) => ({ provider, reason: `${provider} has no price for ${model}` })),
      ].sort((a, b) => a.provider.localeCompare(b.provider));
      return {
        model,
        actual: [...m.actual.entries()].map(([provider, a]) => ({
          provider,
          cost_usd: a.unpriced > 0 && a.cost.isZero() && a.partial === 0 ? null : usd(a.cost),
          unpriced_events: a.unpriced,
          partial_events: a.partial,
        })),
        actual_total_usd: usd(actual),
        actual_complete: complete,
        ...(complete
          ? {}
          : {
              note: `the actual cost leaves out ${unpriced} unpriced and ${partial} partly priced calls: no saving is computed`,
            }),
        at_each_provider: scenarios,
        cheapest: scenarios[0] ?? null,
        not_compared: notCompared,
      };
    });
    return {
      currency: 'USD',
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      models: out,
      actual_total_usd: usd(totalActual),
    };
  }

  /**
   * What providers that report a call's cost themselves (OpenRouter's
   * `usage.cost`) billed, beside what TokenTally computed for the same calls,
   * per provider and model (docs/reports.md, "Provider-reported cost"). The
   * comparison is over the calls priced wholly here; the calls partly priced
   * or unpriced here are counted apart (`not_compared`): against a cost we do
   * not know in full, a difference would be ours, not the provider's.
   */
  async providerCost(q: ReportQuery) {
    const rows = await this.repository.providerCost(q);
    const total = {
      events: 0,
      tracked: Decimal.ZERO,
      reported: Decimal.ZERO,
      otherEvents: 0,
      otherReported: Decimal.ZERO,
    };
    const figures = (f: typeof total) => {
      const difference = f.reported.subtract(f.tracked);
      return {
        events: f.events,
        // Normalized first: sums of amounts of different scales keep no trailing zeros beyond the 6 shown.
        tracked_cost_usd: usd(f.tracked.normalized()),
        provider_cost_usd: usd(f.reported.normalized()),
        difference_usd: usd(difference.normalized()),
        // Percent of our cost, rounded half up to 2 places; none when we counted nothing.
        difference_pct: f.tracked.isZero() ? null : difference.times(100).divide(f.tracked, 2).toFixedString(2),
        not_compared: { events: f.otherEvents, provider_cost_usd: usd(f.otherReported.normalized()) },
      };
    };
    const out = rows.map((r) => {
      const f = {
        events: Number(r.events),
        tracked: dec(r.tracked_cost),
        reported: dec(r.provider_cost),
        otherEvents: Number(r.other_events),
        otherReported: dec(r.other_provider_cost),
      };
      total.events += f.events;
      total.tracked = total.tracked.add(f.tracked);
      total.reported = total.reported.add(f.reported);
      total.otherEvents += f.otherEvents;
      total.otherReported = total.otherReported.add(f.otherReported);
      return { provider: r.provider, model: r.model, ...figures(f), gap: f.reported.subtract(f.tracked).abs() };
    });
    out.sort((a, b) => b.gap.compare(a.gap) || a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
    return {
      currency: 'USD',
      // Which of our costs is compared: the restated one (default) or the one given at ingest.
      basis: q.basis,
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      rows: out.map(({ gap: _gap, ...row }) => row),
      total: figures(total),
    };
  }

  /**
   * Calls, errors and mean latency per provider and model over the range,
   * with the same filters as every report. `error_rate` is error_events /
   * events as a decimal string rounded half up to 6 places; the mean latency
   * is over the events that gave one, rounded half up to whole milliseconds
   * (null when none did). Counts, never money: no partial or unpriced figures.
   */
  async performance(q: ReportQuery) {
    const rows = await this.repository.performance(q);
    const figures = rows
      .map((r) => ({
        provider: r.provider,
        model: r.model,
        events: BigInt(r.events),
        errors: BigInt(r.error_events),
        latencySum: BigInt(r.latency_ms_sum ?? '0'),
        latencyEvents: BigInt(r.latency_events),
      }))
      .filter((r) => r.events > 0n)
      .sort((a, b) =>
        a.events === b.events
          ? a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model)
          : a.events > b.events
            ? -1
            : 1,
      );
    const total = figures.reduce(
      (t, r) => ({
        events: t.events + r.events,
        errors: t.errors + r.errors,
        latencySum: t.latencySum + r.latencySum,
        latencyEvents: t.latencyEvents + r.latencyEvents,
      }),
      {
        events: 0n,
        errors: 0n,
        latencySum: 0n,
        latencyEvents: 0n,
      },
    );
    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      tz: q.tz,
      rows: figures.map((r) => ({ provider: r.provider, model: r.model, ...performanceOf(r) })),
      total: performanceOf(total),
    };
  }

  async projectNames(): Promise<Map<string, string>> {
    return new Map((await this.repository.projectNames()).map((r) => [r.id, r.name]));
  }
}

/** What one provider could not price of a model's usage in compare-providers. */
interface Shortfall {
  /** Calls of hours in which the provider had no price for the model (it sells it now, not then). */
  calls: number;
  /** The UTC days of those calls. */
  days: Set<string>;
  /** Tokens of each kind it has no rate for. */
  tokens: Map<TokenKind, number>;
  /** Images priced per image with no per-image price there, by quality and size. */
  images: Map<string, number>;
}

const emptyShortfall = (): Shortfall => ({ calls: 0, days: new Set(), tokens: new Map(), images: new Map() });

/**
 * Why a provider is left out of a model's comparison, in words: "2 images
 * could not be priced at azure: no per-image price for 512x512".
 */
function shortfallReason(provider: string, model: string, s: Shortfall): string {
  const parts: string[] = [];
  if (s.calls > 0 || s.days.size > 0) {
    const days = [...s.days].sort();
    const when = days.length === 1 ? `on ${days[0]}` : `from ${days[0]} to ${days[days.length - 1]}`;
    parts.push(
      `${counted(s.calls, 'call')} could not be priced at ${provider}: no price for ${model} there ${when} (UTC)`,
    );
  }
  for (const [what, images] of [...s.images.entries()].sort(([a], [b]) => a.localeCompare(b)))
    parts.push(`${counted(images, 'image')} could not be priced at ${provider}: no per-image price for ${what}`);
  for (const kind of TOKEN_KINDS) {
    const tokens = s.tokens.get(kind);
    if (tokens !== undefined)
      parts.push(`${counted(tokens, `${kind} token`)} could not be priced at ${provider}: no rate for ${kind}`);
  }
  return parts.length > 0 ? parts.join('; ') : `not all of the usage could be priced at ${provider}`;
}

/** The figures of the performance report, from exact counts and sums. */
function performanceOf(f: { events: bigint; errors: bigint; latencySum: bigint; latencyEvents: bigint }) {
  return {
    events: Number(f.events),
    error_events: Number(f.errors),
    error_rate: f.events > 0n ? Decimal.fromInteger(f.errors).divideBy(f.events, 6).toFixedString(6) : null,
    latency_events: Number(f.latencyEvents),
    // Rounded half up: (2 sum + n) / 2n, in integers.
    mean_latency_ms:
      f.latencyEvents > 0n ? Number((2n * f.latencySum + f.latencyEvents) / (2n * f.latencyEvents)) : null,
  };
}

/** Percent change, to one decimal: a ratio for people, not money. */
function changePct(current: Decimal, previous: Decimal): string {
  return ((Number(current.toFixedString()) / Number(previous.toFixedString()) - 1) * 100).toFixed(1);
}

interface SeriesTally {
  key: string;
  values: Decimal[];
  total: Decimal;
  unpriced: number;
  partial: number;
}

/** A spend report's series (sorted: biggest total first, then by key) and its counts. */
interface Tally {
  series: SeriesTally[];
  events: bigint;
  unpriced: bigint;
  partial: bigint;
  partialCost: Decimal;
}

const emptyTally = (): Tally => ({ series: [], events: 0n, unpriced: 0n, partial: 0n, partialCost: Decimal.ZERO });

/** Adds up spend rows into a series per key; rows whose bucket is not one of `buckets` are not counted. */
function tallyOf(buckets: Date[], rows: SpendRow[]): Tally {
  const index = new Map(buckets.map((b, i) => [b.getTime(), i]));
  const byKey = new Map<string, SeriesTally>();
  const tally = emptyTally();
  for (const row of rows) {
    const i = index.get(new Date(row.b).getTime());
    if (i === undefined) continue;
    const key = row.key === '' ? NONE : row.key;
    let s = byKey.get(key);
    if (!s)
      byKey.set(
        key,
        (s = { key, values: buckets.map(() => Decimal.ZERO), total: Decimal.ZERO, unpriced: 0, partial: 0 }),
      );
    s.values[i] = s.values[i].add(dec(row.cost));
    s.unpriced += Number(row.unpriced);
    s.partial += Number(row.partial);
    tally.events += BigInt(row.events);
    tally.unpriced += BigInt(row.unpriced);
    tally.partial += BigInt(row.partial);
    tally.partialCost = tally.partialCost.add(dec(row.partial_cost));
  }
  for (const s of byKey.values()) s.total = s.values.reduce((a, b) => a.add(b), Decimal.ZERO);
  tally.series = [...byKey.values()].sort((a, b) => b.total.compare(a.total) || a.key.localeCompare(b.key));
  return tally;
}

/** Beyond `limit` series, the rest are summed into one, so a chart stays readable and totals stay whole. */
function withOther(tally: Tally, buckets: Date[], limit: number): Tally {
  const rest = tally.series.slice(limit);
  if (rest.length === 0) return tally;
  const values = buckets.map((_, i) => rest.reduce((sum, s) => sum.add(s.values[i]), Decimal.ZERO));
  const other: SeriesTally = {
    key: OTHER,
    values,
    total: values.reduce((a, b) => a.add(b), Decimal.ZERO),
    unpriced: rest.reduce((n, s) => n + s.unpriced, 0),
    partial: rest.reduce((n, s) => n + s.partial, 0),
  };
  return { ...tally, series: [...tally.series.slice(0, limit), other] };
}
