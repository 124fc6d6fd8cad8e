import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { BUDGET_SCOPE_DIMENSIONS, formatUsd, periodBounds } from '@tokentally/core';
import { EventBus, TouchedScope } from '@tokentally/db';
import { ChartLinks } from '@tokentally/reporting';
import { describeEvent, WebhookDispatcher } from '@tokentally/webhooks';
import { AlertsRepository } from './alerts.sql';
import { AnomalyDetector, FiringAlert } from './anomaly-detector.service';
import { BudgetMeasure, BudgetRow, BudgetScope, BudgetsService } from './budgets.service';

/** After an ingest, evaluation waits this long for more of the burst... */
const DEBOUNCE_MS = 1_000;
/**
 * ...and ingest-triggered passes start at least this far apart: under steady
 * load that is one pass per 2 s, not one per batch (bench/RESULTS.md), and the
 * alert still goes out within about 3 s of the event that crossed the line.
 */
const PASS_SPACING_MS = 2_000;
/** Name of the every-minute job in the SchedulerRegistry. */
export const BUDGET_EVALUATION_JOB = 'budget-evaluation';
/** The forecast alert waits until this share of the period has passed: earlier, one busy hour is no forecast. */
export const FORECAST_MIN_ELAPSED_SHARE = 0.05;

/**
 * Evaluates budgets (thresholds, forecast) and spend anomalies. Runs a short
 * while after ingest stores events in a budget's scope, and every minute.
 * Every replica may run it: each alert is an insert on a unique key, so it
 * fires once per budget, period and threshold whoever gets there first.
 */
@Injectable()
export class BudgetEvaluator implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(BudgetEvaluator.name);
  private touched = new TouchedValues();
  private timer: NodeJS.Timeout | null = null;
  /** The pass running of each kind: the minute's full pass never delays the quick pass after ingest. */
  private readonly running: Record<'full' | 'quick', Promise<void> | null> = { full: null, quick: null };
  private stopped = false;
  private lastPassAt = 0;

  constructor(
    @Inject(AlertsRepository) private readonly alerts: AlertsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(BudgetsService) private readonly budgets: BudgetsService,
    @Inject(AnomalyDetector) private readonly anomalies: AnomalyDetector,
    @Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher,
    @Inject(ChartLinks) private readonly links: ChartLinks,
  ) {}

  /**
   * Listens before any onApplicationBootstrap: the UsageSignalRelay starts
   * listening to other processes there, and its first "everything" must find
   * this listener.
   */
  onModuleInit(): void {
    if (!this.config.runJobs) return;
    this.events.on('usage.ingested', ({ touched }) => this.noteIngest(touched));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(Object.values(this.running).map((pass) => pass?.catch(() => undefined)));
  }

  /** Every minute: every budget and the anomaly rule, whatever ingest did (catches other replicas' events, period
   * changes). */
  @Cron(CronExpression.EVERY_MINUTE, { name: BUDGET_EVALUATION_JOB })
  async evaluateEveryMinute(): Promise<void> {
    if (!this.config.runJobs || this.stopped) return;
    await this.evaluate('all').catch((error) =>
      this.logger.warn(`budget evaluation failed: ${error?.message ?? error}`),
    );
  }

  /**
   * Cheap and synchronous: ingest is never slowed by evaluation. The scopes
   * come from this process's ingest or, through the UsageSignalRelay, from
   * api processes that do not run the jobs; 'everything' after the relay
   * (re)connects.
   */
  private noteIngest(touched: TouchedScope[] | 'everything'): void {
    if (touched === 'everything') this.touched.addEverything();
    else for (const scope of touched) this.touched.add(scope);
    const wait = Math.max(DEBOUNCE_MS, this.lastPassAt + PASS_SPACING_MS - Date.now());
    this.timer ??= setTimeout(() => {
      this.timer = null;
      const touchedNow = this.touched;
      this.touched = new TouchedValues();
      void this.evaluate(touchedNow).catch((error) =>
        this.logger.warn(`budget evaluation failed: ${error?.message ?? error}`),
      );
    }, wait);
  }

  /**
   * One pass at a time per process; a pass asked for while one runs follows it.
   * `all` (the minute job) evaluates every budget fully (thresholds, forecast)
   * and the anomaly rule. After ingest, only the thresholds of budgets whose
   * scope the new events touched and that have a threshold left to fire this
   * period: that is what must go out within seconds, and it keeps passes cheap.
   */
  async evaluate(touched: TouchedValues | 'all', now = new Date()): Promise<number> {
    const full = touched === 'all';
    const kind = full ? 'full' : 'quick';
    while (this.running[kind]) await this.running[kind]!.catch(() => undefined);
    let fired = 0;
    const started = Date.now();
    if (!full) this.lastPassAt = started;
    let budgets = 0;
    this.running[kind] = (async () => {
      let rows = (await this.budgets.rows()).filter((row) => full || touched.mayMatch(row.scope ?? {}));
      if (!full) rows = await this.withThresholdsLeft(rows, now);
      const due: FiringAlert[] = [];
      budgets = rows.length;
      // Thresholds of every budget in one query per rollup family.
      const measures = await this.budgets.measureMany(rows, now);
      for (const row of rows) due.push(...(await this.budgetAlerts(row, measures.get(row.id)!, now, false)));
      if (full) {
        // The rhythm forecast needs each budget's 28 days of history: measured one by one, and only where a forecast
        // alert can still fire.
        for (const row of await this.forecastCandidates(rows, measures)) {
          const alerts = await this.budgetAlerts(row, await this.budgets.measure(row, now), now, true);
          due.push(...alerts.filter((alert) => alert.type === 'budget.forecast_exceeded'));
        }
        due.push(...(await this.anomalies.dueAlerts(now)));
      }
      fired = await this.fire(due);
    })();
    try {
      await this.running[kind];
    } finally {
      this.running[kind] = null;
    }
    const took = Date.now() - started;
    if (took > PASS_SPACING_MS) this.logger.warn(`${kind} budget evaluation of ${budgets} budgets took ${took} ms`);
    if (fired > 0) this.dispatcher.wake();
    return fired;
  }

  /** The budgets with a threshold not yet fired in their current period (one query for all). */
  private async withThresholdsLeft(rows: BudgetRow[], now: Date): Promise<BudgetRow[]> {
    if (rows.length === 0) return rows;
    const keysOf = (row: BudgetRow) => {
      const period = periodBounds(row.period, row.timezone, now).start.toISOString();
      return (row.thresholds_pct as number[]).map((pct) => thresholdKey(row.id, period, pct));
    };
    const fired = await this.firedKeys(rows.flatMap(keysOf));
    return rows.filter((row) => keysOf(row).some((key) => !fired.has(key)));
  }

  /** Budgets whose forecast alert is on, not fired this period, not moot (amount spent) and not too early. */
  private async forecastCandidates(rows: BudgetRow[], measures: Map<string, BudgetMeasure>): Promise<BudgetRow[]> {
    const open = rows.filter((row) => {
      const m = measures.get(row.id)!;
      return row.forecast_alert && m.spent.compare(m.amount) < 0 && m.elapsedShare >= FORECAST_MIN_ELAPSED_SHARE;
    });
    if (open.length === 0) return open;
    const keyOf = (row: BudgetRow) => forecastKey(row.id, measures.get(row.id)!.start.toISOString());
    const fired = await this.firedKeys(open.map(keyOf));
    return open.filter((row) => !fired.has(keyOf(row)));
  }

  /** The alerts a budget's measure calls for; the forecast one only from a full measure (with history). */
  private async budgetAlerts(
    row: BudgetRow,
    m: BudgetMeasure,
    now: Date,
    withForecast: boolean,
  ): Promise<FiringAlert[]> {
    const period = m.start.toISOString();
    const overAmount = m.spent.compare(m.amount) >= 0;
    const forecastDue =
      withForecast &&
      row.forecast_alert &&
      !overAmount &&
      m.elapsedShare >= FORECAST_MIN_ELAPSED_SHARE &&
      m.forecast.compare(m.amount) > 0;
    if (m.reached.length === 0 && !forecastDue) return [];
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
      chart_url: await this.links.url('budgets.png', { budget_id: row.id }, now),
    };
    const audience: string[] | null = row.webhook_ids?.length ? row.webhook_ids : null;
    const alerts: FiringAlert[] = m.reached.map((pct) => ({
      type: 'budget.threshold_reached',
      dedupeKey: thresholdKey(row.id, period, pct),
      budgetId: row.id,
      data: { ...facts, threshold_pct: pct },
      audience,
    }));
    // Forecast: once per period, when the period is far enough along and the amount is not already spent.
    if (forecastDue) {
      alerts.push({
        type: 'budget.forecast_exceeded',
        dedupeKey: forecastKey(row.id, period),
        budgetId: row.id,
        data: facts,
        audience,
      });
    }
    return alerts;
  }

  /** Which of these alert keys have fired already. */
  private async firedKeys(keys: string[]): Promise<Set<string>> {
    return this.alerts.firedKeys(keys);
  }

  /** Inserts the alerts not yet fired; returns how many fired now. */
  private async fire(alerts: FiringAlert[]): Promise<number> {
    if (alerts.length === 0) return 0;
    const already = await this.firedKeys(alerts.map((a) => a.dedupeKey));
    let fired = 0;
    for (const alert of alerts) {
      if (already.has(alert.dedupeKey)) continue;
      const inserted = await this.alerts.fireOnce({
        type: alert.type,
        dedupeKey: alert.dedupeKey,
        budgetId: alert.budgetId,
        summary: describeEvent(alert.type, alert.data),
        data: alert.data,
        audience: alert.audience,
      });
      if (inserted) {
        fired++;
        this.logger.log(`alert ${alert.type}: ${describeEvent(alert.type, alert.data)}`);
      }
    }
    return fired;
  }
}

function forecastKey(budgetId: string, periodStart: string): string {
  return `budget:${budgetId}:${periodStart}:forecast`;
}

function thresholdKey(budgetId: string, periodStart: string, pct: number): string {
  return `budget:${budgetId}:${periodStart}:threshold:${pct}`;
}

/**
 * The values of each dimension that ingest touched since the last pass. A
 * budget may be affected when each dimension of its scope has its value
 * among them: a safe over-approximation (never misses a budget) whose size is
 * bounded by the distinct values, not by the number of events.
 */
export class TouchedValues {
  private readonly values = new Map<string, Set<string>>();
  private everything = false;

  /** Anything may have been touched (a missed signal): every budget may match. */
  addEverything(): void {
    this.everything = true;
  }

  add(scope: TouchedScope): void {
    for (const d of BUDGET_SCOPE_DIMENSIONS) this.note(d, scope[d]);
    for (const [key, value] of Object.entries(scope.tags ?? {})) this.note(`tag:${key}`, value);
  }

  mayMatch(scope: BudgetScope): boolean {
    if (this.everything) return true;
    if (this.values.size === 0) return false;
    for (const d of BUDGET_SCOPE_DIMENSIONS) {
      const value = scope[d];
      if (value !== undefined && !this.values.get(d)?.has(value)) return false;
    }
    for (const [key, value] of Object.entries(scope.tags ?? {}))
      if (!this.values.get(`tag:${key}`)?.has(value)) return false;
    return true;
  }

  private note(dimension: string, value: string): void {
    let set = this.values.get(dimension);
    if (!set) this.values.set(dimension, (set = new Set()));
    set.add(value);
  }
}

function localDay(instant: Date, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    instant,
  );
}
