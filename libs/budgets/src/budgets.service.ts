import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@tokentally/common';
import {
  BUDGET_SCOPE_DIMENSIONS,
  Decimal,
  Forecast,
  forecastHistoryDays,
  forecastInputOf,
  forecastPeriodEnd,
  formatUsd,
  periodBounds,
} from '@tokentally/core';
import { ReportQuery, ReportsService, TotalItem } from '@tokentally/reporting';
import { CreateBudgetDto, UpdateBudgetDto } from './budgets.dto';
import { BudgetRow, BudgetScope, BudgetsRepository } from './budgets.sql';

export type { BudgetRow, BudgetScope } from './budgets.sql';

/** Budgets and their status: spend of the scope in the current period, against the amount. */
@Injectable()
export class BudgetsService {
  constructor(
    @Inject(BudgetsRepository) private readonly repository: BudgetsRepository,
    @Inject(ReportsService) private readonly reports: ReportsService,
  ) {}

  async create(dto: CreateBudgetDto, actor: string) {
    await this.assertWebhooksExist(dto.webhook_ids);
    await this.assertProjectExists(dto.scope.project);
    const thresholds = [...new Set(dto.thresholds_pct)].sort((a, b) => a - b);
    const row = await this.repository.insert({ ...dto, thresholds_pct: thresholds }, actor);
    return toView(row);
  }

  async rows(): Promise<BudgetRow[]> {
    return this.repository.list();
  }

  async update(id: string, dto: UpdateBudgetDto) {
    if (dto.webhook_ids) await this.assertWebhooksExist(dto.webhook_ids);
    await this.assertProjectExists(dto.scope?.project);
    const thresholds = dto.thresholds_pct && [...new Set(dto.thresholds_pct)].sort((a, b) => a - b);
    const row = await this.repository.update(id, { ...dto, thresholds_pct: thresholds });
    if (!row) throw DomainError.notFound(`Budget ${id}`);
    return toView(row);
  }

  /** Every budget, or for a key limited to `projectIds` those it may read (budgetReadableBy). */
  async list(withStatus: boolean, projectIds: string[] | null = null): Promise<BudgetListItem[]> {
    const rows = (await this.repository.list()).filter((row) => budgetReadableBy(row, projectIds));
    return Promise.all(
      rows.map(async (row) => ({ ...toView(row), ...(withStatus ? { status: await this.statusOf(row) } : {}) })),
    );
  }

  /** One budget; 404 for a key limited to projects that may not read it, as for a budget that does not exist. */
  async get(id: string, projectIds: string[] | null = null) {
    return toView(await this.row(id, projectIds));
  }

  async status(id: string, projectIds: string[] | null = null, now = new Date()) {
    return this.statusOf(await this.row(id, projectIds), now);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.repository.remove(id))) throw DomainError.notFound(`Budget ${id}`);
  }

  /** A budget naming an endpoint that does not exist would alert nobody: refuse it. */
  /** A budget on a project that does not exist would never spend: refused, as keys refuse one. */
  private async assertProjectExists(projectId: string | undefined): Promise<void> {
    if (projectId === undefined) return;
    if (!(await this.repository.projectExists(projectId)))
      throw DomainError.validation([{ path: 'scope.project', message: `is not a known project (${projectId})` }]);
  }

  private async assertWebhooksExist(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const found = await this.repository.existingWebhooks(ids);
    const errors = ids.flatMap((id, i) =>
      found.has(id) ? [] : [{ path: `webhook_ids[${i}]`, message: `is not a webhook (${id})` }],
    );
    if (errors.length > 0) throw DomainError.validation(errors);
  }

  private async row(id: string, projectIds: string[] | null = null): Promise<BudgetRow> {
    const row = await this.repository.byId(id);
    if (!row || !budgetReadableBy(row, projectIds)) throw DomainError.notFound(`Budget ${id}`);
    return row;
  }

  /** Spent, remaining, percent and forecast of the budget's current period. */
  private async statusOf(row: BudgetRow, now = new Date()) {
    return (await this.measure(row, now)).view;
  }

  /**
   * The budget's period to date, measured on the rollups in its time zone:
   * one daily spend query covers the period and the 28 days before today
   * (the history of the weekly-rhythm forecast, docs/budgets.md).
   */
  async measure(row: BudgetRow, now = new Date()): Promise<BudgetMeasure> {
    const tz: string = row.timezone;
    const { start } = periodBounds(row.period, tz, now);
    const [firstHistoryDay] = forecastHistoryDays(now, tz);
    const from = new Date(Math.min(start.getTime(), firstHistoryDay.getTime()));
    const byDay = await this.reports.spendByLocalDay(scopeQuery(row.scope ?? {}), tz, from, now);
    let spent = Decimal.ZERO;
    for (const [day, value] of byDay) if (day >= start.getTime()) spent = spent.add(value);
    return measureOf(row, now, spent, byDay);
  }

  /**
   * The period to date of many budgets in one query per rollup family, with
   * a linear forecast (no history): what evaluation right after ingest needs.
   */
  async measureMany(rows: BudgetRow[], now = new Date()): Promise<Map<string, BudgetMeasure>> {
    const items: TotalItem[] = rows.map((row) => {
      const { filters, tag } = scopeQuery(row.scope ?? {});
      const single = Object.fromEntries(Object.entries(filters).map(([d, values]) => [d, values![0]]));
      return { key: row.id, from: periodBounds(row.period, row.timezone, now).start, to: now, filters: single, tag };
    });
    const totals = await this.reports.totals(items);
    return new Map(rows.map((row) => [row.id, measureOf(row, now, totals.get(row.id) ?? Decimal.ZERO, null)]));
  }
}

/** Status of a budget from its spend so far (and, for the rhythm forecast, the spend of each local day: libs/core's
 * forecastInputOf). */
function measureOf(
  row: BudgetRow,
  now: Date,
  spent: Decimal,
  spendByDay: ReadonlyMap<number, Decimal> | null,
): BudgetMeasure {
  const tz: string = row.timezone;
  const { start, end } = periodBounds(row.period, tz, now);
  const input = forecastInputOf({ now, tz, start, end, spent, spendByDay });
  const { elapsedSeconds, periodSeconds } = input;
  const forecast = forecastPeriodEnd(input);

  const amount = Decimal.parse(String(row.amount_usd));
  const thresholds = row.thresholds_pct as number[];
  const reached = thresholds.filter((pct) => spent.times(100).compare(amount.times(pct)) >= 0);
  return {
    start,
    end,
    spent,
    amount,
    forecast: forecast.amount,
    elapsedShare: periodSeconds > 0 ? elapsedSeconds / periodSeconds : 1,
    reached,
    view: {
      period_start: start.toISOString(),
      period_end: end.toISOString(),
      spent_usd: formatUsd(spent),
      remaining_usd: formatUsd(amount.subtract(spent)),
      percent: percentOf(spent, amount),
      forecast_usd: formatUsd(forecast.amount),
      forecast_percent: percentOf(forecast.amount, amount),
      forecast_method: forecast.method,
      thresholds_reached: reached,
    },
  };
}

export interface BudgetMeasure {
  start: Date;
  end: Date;
  spent: Decimal;
  amount: Decimal;
  forecast: Decimal;
  /** Share of the period elapsed, 0..1 (not money). */
  elapsedShare: number;
  /** Thresholds (percent) the spend has reached, exactly: spent * 100 >= amount * pct. */
  reached: number[];
  view: BudgetStatusView;
}

/** A budget's status as the API shows it (GET /v1/budgets/:id/status). */
export interface BudgetStatusView {
  period_start: string;
  period_end: string;
  spent_usd: string;
  remaining_usd: string;
  percent: string;
  forecast_usd: string;
  forecast_percent: string;
  forecast_method: Forecast['method'];
  thresholds_reached: number[];
}

/** A budget as the API shows it. */
export interface BudgetView {
  id: string;
  name: string;
  amount_usd: string;
  period: BudgetRow['period'];
  timezone: string;
  scope: BudgetScope;
  thresholds_pct: number[];
  forecast_alert: boolean;
  webhook_ids: string[];
  created_at: string;
}

/** An item of GET /v1/budgets: with its status when asked for (with_status). */
export type BudgetListItem = BudgetView & { status?: BudgetStatusView };

/** "81.2": a percentage for people, one decimal, from exact values. */
export function percentOf(part: Decimal, whole: Decimal): string {
  return part.times(100).divide(whole, 1).toFixedString(1);
}

/**
 * Whether a key that may read `projectIds` (null: every project) may read a
 * budget: its scope names one of those projects. A budget over every project
 * (no `project` in its scope) holds other projects' spend, so a key limited to
 * projects does not see it.
 */
export function budgetReadableBy(row: BudgetRow, projectIds: string[] | null): boolean {
  if (projectIds === null) return true;
  const project = row.scope?.project;
  return typeof project === 'string' && projectIds.includes(project.toLowerCase());
}

/** The report filters that select a budget's scope. */
export function scopeQuery(scope: BudgetScope): Pick<ReportQuery, 'filters' | 'tag'> {
  const filters: ReportQuery['filters'] = {};
  for (const d of BUDGET_SCOPE_DIMENSIONS) {
    const value = scope[d];
    if (value) filters[d] = [value];
  }
  const [tagKey] = Object.keys(scope.tags ?? {});
  return { filters, tag: tagKey ? { key: tagKey, value: scope.tags![tagKey] } : null };
}

function toView(row: BudgetRow): BudgetView {
  return {
    id: row.id,
    name: row.name,
    amount_usd: formatUsd(Decimal.parse(String(row.amount_usd))),
    period: row.period,
    timezone: row.timezone,
    scope: row.scope,
    thresholds_pct: row.thresholds_pct,
    forecast_alert: row.forecast_alert,
    webhook_ids: row.webhook_ids,
    created_at: new Date(row.created_at).toISOString(),
  };
}
