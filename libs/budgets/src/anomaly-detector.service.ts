import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { AlertEventType, Decimal, formatUsd, HISTORY_DAYS, judgeDaySpend } from '@tokentally/core';
import { ChartLinks, ReportsService } from '@tokentally/reporting';

export interface FiringAlert {
  type: AlertEventType;
  /** One alert per key, ever. */
  dedupeKey: string;
  budgetId: string | null;
  data: Record<string, unknown>;
  /** Webhooks that receive it; null = every endpoint subscribed to the type. */
  audience: string[] | null;
}

const DAY_MS = 86_400_000;
/** Dimensions watched for anomalies. */
const WATCHED = ['project', 'model'] as const;

/**
 * `spend.anomaly`: today's spend (UTC day, so far) of a project or a model
 * against the 28 days before it, by the median/MAD rule of libs/core
 * (docs/budgets.md). One alert per project or model per day.
 */
@Injectable()
export class AnomalyDetector {
  constructor(
    @Inject(ReportsService) private readonly reports: ReportsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ChartLinks) private readonly links: ChartLinks,
  ) {}

  async dueAlerts(now: Date): Promise<FiringAlert[]> {
    const todayStart = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
    const from = new Date(todayStart.getTime() - HISTORY_DAYS * DAY_MS);
    const minimum = Decimal.parse(this.config.anomalyMinUsd);
    const day = todayStart.toISOString().slice(0, 10);
    const alerts: FiringAlert[] = [];
    for (const dimension of WATCHED) {
      const report = await this.reports.spend({
        from,
        to: now,
        granularity: 'day',
        tz: 'UTC',
        groupBy: dimension,
        filters: {},
        tag: null,
        basis: 'restated',
        limit: 10_000,
        raw: true,
      });
      const dayIndex = new Map(report.buckets.map((b, i) => [Date.parse(b), i]));
      const todayIndex = dayIndex.get(todayStart.getTime());
      if (todayIndex === undefined) continue;
      for (const series of report.series) {
        const today = Decimal.parse(series.values[todayIndex]);
        if (today.compare(minimum) < 0) continue;
        const baseline = Array.from({ length: HISTORY_DAYS }, (_, back) => {
          const i = dayIndex.get(from.getTime() + back * DAY_MS);
          return i === undefined ? Decimal.ZERO : Decimal.parse(series.values[i]);
        });
        const verdict = judgeDaySpend(today, baseline, minimum);
        if (!verdict.anomalous) continue;
        const filter = new URLSearchParams({
          from: new Date(from).toISOString().slice(0, 10),
          to: day,
          tz: 'UTC',
          group_by: dimension,
          [dimension]: series.key,
        });
        alerts.push({
          type: 'spend.anomaly',
          dedupeKey: `anomaly:${dimension}:${series.key}:${day}`,
          budgetId: null,
          audience: null,
          data: {
            dimension,
            key: series.key,
            label: series.label,
            day,
            spent_usd: formatUsd(today),
            median_usd: formatUsd(verdict.median),
            mad_usd: formatUsd(verdict.mad),
            threshold_usd: formatUsd(verdict.threshold),
            dashboard_url: `${this.config.publicUrl}/?${filter}`,
            chart_url: await this.links.url('spend.png', Object.fromEntries(filter), now),
          },
        });
      }
    }
    return alerts;
  }
}
