import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '@tokentally/common';
import { Decimal, formatUsd } from '@tokentally/core';
import { ReportQuery, ReportsService } from '@tokentally/reporting';
import { CreateBudgetDto } from './budgets.dto';

const SQL = {
  insert: `
    INSERT INTO budgets (name, amount_usd, period, timezone, scope, thresholds_pct, forecast_alert, webhook_ids, created_by)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6::int[], $7, $8::uuid[], $9) RETURNING *`,
  list: `SELECT * FROM budgets ORDER BY created_at, name`,
  byId: `SELECT * FROM budgets WHERE id = $1`,
  remove: `DELETE FROM budgets WHERE id = $1 RETURNING id`,
} as const;

type BudgetRow = Record<string, any>;

/** Budgets and their status: spend of the scope in the current period, against the amount. */
@Injectable()
export class BudgetsService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(ReportsService) private readonly reports: ReportsService,
  ) {}

  async create(dto: CreateBudgetDto, actor: string) {
    const thresholds = [...new Set(dto.thresholds_pct)].sort((a, b) => a - b);
    const [row] = await this.db.query(SQL.insert, [dto.name, dto.amount_usd, dto.period, dto.timezone, JSON.stringify(dto.scope), thresholds, dto.forecast_alert, dto.webhook_ids, actor]);
    return toView(row);
  }

  async list(withStatus: boolean) {
    const rows: BudgetRow[] = await this.db.query(SQL.list);
    return Promise.all(rows.map(async (row) => ({ ...toView(row), ...(withStatus ? { status: await this.statusOf(row) } : {}) })));
  }

  async get(id: string) {
    return toView(await this.row(id));
  }

  async status(id: string, now = new Date()) {
    return this.statusOf(await this.row(id), now);
  }

  async remove(id: string): Promise<void> {
    const rows = await this.db.query(SQL.remove, [id]);
    if ((Array.isArray(rows[0]) ? rows[0] : rows).length === 0) throw DomainError.notFound(`Budget ${id}`);
  }

  private async row(id: string): Promise<BudgetRow> {
    const [row] = await this.db.query(SQL.byId, [id]);
    if (!row) throw DomainError.notFound(`Budget ${id}`);
    return row;
  }

  /**
   * Spent, remaining and percent of the period to date; the forecast for the
   * period end is linear in elapsed time here (issue #6 brings the weekly rhythm).
   */
  private async statusOf(row: BudgetRow, now = new Date()) {
    const { start, end } = await this.reports.periodBounds(row.period, row.timezone, now);
    const scope = row.scope ?? {};
    const filters: ReportQuery['filters'] = {};
    for (const d of ['provider', 'model', 'project', 'team', 'user', 'feature', 'environment'] as const) if (scope[d]) filters[d] = [scope[d]];
    const [tagKey] = Object.keys(scope.tags ?? {});
    const report = await this.reports.spend({
      from: start,
      to: now,
      granularity: 'day',
      tz: row.timezone,
      groupBy: 'none',
      filters,
      tag: tagKey ? { key: tagKey, value: scope.tags[tagKey] } : null,
      basis: 'restated',
      limit: 1,
      raw: false,
    });
    const spent = Decimal.parse(report.total);
    const amount = Decimal.parse(String(row.amount_usd));
    const elapsedHours = BigInt(Math.max(1, Math.round((now.getTime() - start.getTime()) / 3_600_000)));
    const periodHours = BigInt(Math.round((end.getTime() - start.getTime()) / 3_600_000));
    const forecast = spent.times(periodHours).divideBy(elapsedHours, 6);
    const percent = (Number(spent.toFixedString()) / Number(amount.toFixedString())) * 100;
    const forecastPercent = (Number(forecast.toFixedString()) / Number(amount.toFixedString())) * 100;
    const remaining = amount.add(spent.multiply(Decimal.parse('-1')));
    return {
      period_start: start.toISOString(),
      period_end: end.toISOString(),
      spent_usd: formatUsd(spent),
      remaining_usd: formatUsd(remaining),
      percent: percent.toFixed(1),
      forecast_usd: formatUsd(forecast),
      forecast_percent: forecastPercent.toFixed(1),
      thresholds_reached: (row.thresholds_pct as number[]).filter((t) => percent >= t),
    };
  }
}

function toView(row: BudgetRow) {
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
