import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { formatUsd } from '@tokentally/core';
import { EventBus, TouchedScope } from '@tokentally/db';
import { describeEvent, WebhookDispatcher } from '@tokentally/webhooks';
import { ALERT_SQL } from './alerts.sql';
import { AnomalyDetector, FiringAlert } from './anomaly-detector.service';
import { BudgetRow, BudgetsService, SCOPE_DIMENSIONS } from './budgets.service';

/** After an ingest, evaluation waits this long for more of the burst, so a busy product costs one pass, not one per batch. */
const DEBOUNCE_MS = 500;
/** The forecast alert waits until this share of the period has passed: earlier, one busy hour is no forecast. */
export const FORECAST_MIN_ELAPSED_SHARE = 0.05;
/** Past this many distinct touched scopes in one window, every budget is evaluated. */
const MAX_TOUCHED = 1_000;

/**
 * Evaluates budgets (thresholds, forecast) and spend anomalies. Runs a short
 * while after ingest stores events in a budget's scope, and every minute.
 * Every replica may run it: each alert is an insert on a unique key, so it
 * fires once per budget, period and threshold whoever gets there first.
 */
@Injectable()
export class BudgetEvaluator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BudgetEvaluator.name);
  private touched: TouchedScope[] | 'all' = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(BudgetsService) private readonly budgets: BudgetsService,
    @Inject(AnomalyDetector) private readonly anomalies: AnomalyDetector,
    @Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runJobs) return;
    this.events.on('usage.ingested', ({ touched }) => this.noteIngest(touched));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Every minute: every budget and the anomaly rule, whatever ingest did (catches other replicas' events, period changes). */
  @Cron(CronExpression.EVERY_MINUTE, { name: 'budget-evaluation' })
  async evaluateEveryMinute(): Promise<void> {
    if (!this.config.runJobs || this.stopped) return;
    await this.evaluate('all').catch((error) => this.logger.warn(`budget evaluation failed: ${error?.message ?? error}`));
  }

  /** Cheap and synchronous: ingest is never slowed by evaluation. */
  private noteIngest(touched: TouchedScope[]): void {
    if (this.touched !== 'all') {
      this.touched.push(...touched);
      if (this.touched.length > MAX_TOUCHED) this.touched = 'all';
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      const touchedNow = this.touched;
      this.touched = [];
      void this.evaluate(touchedNow).catch((error) => this.logger.warn(`budget evaluation failed: ${error?.message ?? error}`));
    }, DEBOUNCE_MS);
  }

  /** One pass at a time per process; a pass asked for while one runs follows it. */
  async evaluate(touched: TouchedScope[] | 'all', now = new Date()): Promise<number> {
    while (this.running) await this.running.catch(() => undefined);
    let fired = 0;
    this.running = (async () => {
      const rows = (await this.budgets.rows()).filter((row) => touched === 'all' || touched.some((t) => inScope(row.scope ?? {}, t)));
      const due: FiringAlert[] = [];
      for (const row of rows) due.push(...(await this.budgetAlerts(row, now)));
      due.push(...(await this.anomalies.dueAlerts(now)));
      fired = await this.fire(due);
    })();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
    if (fired > 0) this.dispatcher.wake();
    return fired;
  }

  private async budgetAlerts(row: BudgetRow, now: Date): Promise<FiringAlert[]> {
    const m = await this.budgets.measure(row, now);
    const period = m.start.toISOString();
    const facts = {
      budget_id: row.id,
      budget_name: row.name,
      amount_usd: formatUsd(m.amount),
      spent_usd: m.view.spent_usd,
      percent: m.view.percent,
      forecast_usd: m.view.forecast_usd,
      forecast_method: m.view.forecast_method,
      period: row.period,
      period_start: period,
      period_end: m.end.toISOString(),
      timezone: row.timezone,
      scope: row.scope,
      dashboard_url: `${this.config.publicUrl}/?${new URLSearchParams({ from: localDay(m.start, row.timezone), to: localDay(now, row.timezone), tz: row.timezone })}#budgets`,
      chart_url: `${this.config.publicUrl}/v1/charts/budgets.png?budget_id=${row.id}`,
    };
    const audience: string[] | null = row.webhook_ids?.length ? row.webhook_ids : null;
    const alerts: FiringAlert[] = m.reached.map((pct) => ({
      type: 'budget.threshold_reached',
      dedupeKey: `budget:${row.id}:${period}:threshold:${pct}`,
      budgetId: row.id,
      data: { ...facts, threshold_pct: pct },
      audience,
    }));
    // Forecast: once per period, when the period is far enough along and the amount is not already spent.
    const overAmount = m.spent.compare(m.amount) >= 0;
    if (row.forecast_alert && !overAmount && m.elapsedShare >= FORECAST_MIN_ELAPSED_SHARE && m.forecast.compare(m.amount) > 0) {
      alerts.push({ type: 'budget.forecast_exceeded', dedupeKey: `budget:${row.id}:${period}:forecast`, budgetId: row.id, data: facts, audience });
    }
    return alerts;
  }

  /** Inserts the alerts not yet fired; returns how many fired now. */
  private async fire(alerts: FiringAlert[]): Promise<number> {
    if (alerts.length === 0) return 0;
    const already = new Set<string>((await this.db.query(ALERT_SQL.fired, [alerts.map((a) => a.dedupeKey)])).map((r: { dedupe_key: string }) => r.dedupe_key));
    let fired = 0;
    for (const alert of alerts) {
      if (already.has(alert.dedupeKey)) continue;
      const inserted = await this.db.query(ALERT_SQL.fireOnce, [
        alert.type,
        alert.dedupeKey,
        alert.budgetId,
        describeEvent(alert.type, alert.data),
        JSON.stringify(alert.data),
        alert.audience,
      ]);
      if (inserted.length > 0) {
        fired++;
        this.logger.log(`alert ${alert.type}: ${describeEvent(alert.type, alert.data)}`);
      }
    }
    return fired;
  }
}

/** Does a stored event with these dimensions count toward a budget of this scope? */
export function inScope(scope: Record<string, any>, touched: TouchedScope): boolean {
  for (const d of SCOPE_DIMENSIONS) if (scope[d] !== undefined && scope[d] !== touched[d]) return false;
  for (const [key, value] of Object.entries(scope.tags ?? {})) if (touched.tags?.[key] !== value) return false;
  return true;
}

function localDay(instant: Date, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}
