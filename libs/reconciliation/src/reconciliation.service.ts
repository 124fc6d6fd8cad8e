import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiKeysService } from '@tokentally/auth';
import { APP_CONFIG, AppConfig, DomainError } from '@tokentally/common';
import { Decimal, formatUsd, priceOfKind, TOKEN_KINDS, TokenKind } from '@tokentally/core';
import { PricingService } from '@tokentally/pricing';
import { WebhookDispatcher } from '@tokentally/webhooks';
import { RateOf, reconcile, ReconciledRow, TrackedUsage } from './compare';
import { redactKey } from './openai/redact';
import { AdminApiError, OpenAiAdminClient } from './openai/admin-client';
import { addDays, DayRange, daysBetween, utcDay } from './reconciliation.dto';
import { MappingRow, ReconciliationRepository, ReportRow, RunRow, StoredResult } from './reconciliation.sql';

/**
 * OpenAI's figures for a day go on changing for a while after it ends
 * (late usage, adjustments): a row reconciled sooner than this after its day
 * ended is shown as not settled. An assumption, not a published figure;
 * docs/reconciliation.md says so.
 */
export const SETTLE_HOURS = 48;

export interface RunView {
  id: string;
  trigger: 'schedule' | 'manual';
  from: string;
  to: string;
  status: 'running' | 'succeeded' | 'failed';
  comparison: 'projects' | 'organization' | null;
  threshold_pct: string;
  error: string | null;
  pages_read: number;
  rows: number;
  drift_rows: number;
  alerts_fired: number;
  started_at: string;
  finished_at: string | null;
}

export interface MappingView {
  openai_project_id: string;
  project_id: string;
  project_name: string | null;
  created_at: string;
  updated_at: string;
}

export interface RowView {
  day: string;
  scope: string;
  openai_project_id: string | null;
  project_id: string | null;
  project_name: string | null;
  status: string;
  billed_usd: string | null;
  tracked_usd: string | null;
  difference_usd: string | null;
  percent: string | null;
  other_currencies: Array<{ currency: string; amount: string }>;
  billed: { requests: number | null; images: number | null; tokens: string | null };
  tracked: {
    calls: number | null;
    error_calls: number | null;
    images: number | null;
    tokens: number | null;
    unpriced_events: number | null;
    partial_events: number | null;
  };
  causes: Array<Record<string, unknown>>;
  line_items: Array<Record<string, unknown>>;
  models: Array<Record<string, unknown>>;
  settled: boolean;
  run_id: string;
  reconciled_at: string;
  alert: { event_id: string; fired_at: string } | null;
}

export interface ReportView {
  configured: boolean;
  from: string;
  to: string;
  currency: 'USD';
  threshold_pct: string;
  /** Rows a key limited to projects may read only: those of its mapped projects. */
  limited_to_projects: boolean;
  comparison: 'projects' | 'organization' | null;
  last_run: RunView | null;
  days_reconciled: string[];
  days_not_reconciled: string[];
  rows: RowView[];
  totals: { billed_usd: string; tracked_usd: string; difference_usd: string; percent: string | null };
}

const SCOPE_ORDER: Record<string, number> = {
  organization: 0,
  project: 1,
  unmapped_openai_project: 2,
  unmapped_tracked_project: 3,
};

/**
 * Reconciles TokenTally's `openai` spend with OpenAI's bill: reads the bill
 * and the image usage (OpenAiAdminClient), the tracked usage (rollups) and
 * the project mapping, compares them (compare.ts), stores the run and its
 * rows, and fires `reconciliation.drift` once per drift found.
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);

  constructor(
    @Inject(ReconciliationRepository) private readonly repository: ReconciliationRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
    @Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher,
  ) {}

  get configured(): boolean {
    return !!this.config.reconciliation.adminKey;
  }

  /**
   * One run over a range of UTC days. A failing, slow or nonsensical admin
   * API makes a failed run with the reason, never an exception. A scheduled
   * run passes its `scheduleKey`; null comes back when another replica has
   * that run already.
   */
  async run(
    range: DayRange,
    trigger: 'manual' | 'schedule',
    requestedBy: string | null,
    scheduleKey: string | null = null,
  ): Promise<RunView | null> {
    const settings = this.config.reconciliation;
    if (!settings.adminKey) {
      throw new DomainError(
        'conflict',
        'Reconciliation with OpenAI is not configured: set OPENAI_ADMIN_KEY to an organization admin key (docs/reconciliation.md).',
      );
    }
    await this.repository.failStaleRuns();
    const id = await this.repository.startRun({
      trigger,
      scheduleKey,
      from: range.from,
      to: range.to,
      thresholdPct: settings.thresholdPct,
      requestedBy,
    });
    if (!id) return null;
    let pages = 0;
    try {
      const client = new OpenAiAdminClient({
        baseUrl: settings.baseUrl,
        adminKey: settings.adminKey,
        timeoutMs: settings.timeoutMs,
      });
      const start = Date.parse(`${range.from}T00:00:00Z`) / 1000;
      const end = Date.parse(`${addDays(range.to, 1)}T00:00:00Z`) / 1000;
      const costs = await client.costs(start, end);
      pages += costs.pages;
      const images = await client.imagesUsage(start, end);
      pages += images.pages;
      await this.store(id, range, pages, {
        costs: costs.results.map((r) => ({ ...r, day: utcDay(new Date(r.dayStart * 1000)) })),
        images: images.results.map((r) => ({ ...r, day: utcDay(new Date(r.dayStart * 1000)) })),
      });
    } catch (error) {
      // Text from upstream (an error message, a redirect's Location) may quote the key: it never reaches a log, a
      // stored run or an answer.
      const message = redactKey(
        error instanceof AdminApiError
          ? `OpenAI admin API: ${error.message}`
          : `reconciliation failed: ${(error as Error)?.message ?? String(error)}`,
        settings.adminKey,
      );
      this.logger.warn(`reconciliation run ${id} (${range.from} to ${range.to}) failed: ${message}`);
      await this.repository.failRun(id, message, pages);
    }
    return runView((await this.repository.run(id))!);
  }

  /** Compares, then writes the rows, the drift alerts and the run's status in one transaction. */
  private async store(
    id: string,
    range: DayRange,
    pages: number,
    billed: Pick<Parameters<typeof reconcile>[0], 'costs' | 'images'>,
  ): Promise<void> {
    const settings = this.config.reconciliation;
    const [trackedRows, mappings, projects] = await Promise.all([
      this.repository.trackedDays(new Date(`${range.from}T00:00:00Z`), new Date(`${addDays(range.to, 1)}T00:00:00Z`)),
      this.repository.mappings(),
      this.keys.listProjects(),
    ]);
    const names = new Map(projects.map((p) => [p.id, p.name]));
    const tracked: TrackedUsage[] = trackedRows.map((r) => ({
      day: r.day,
      projectId: r.project_id,
      model: r.model,
      calls: BigInt(r.calls),
      errorCalls: BigInt(r.error_calls),
      images: BigInt(r.images),
      tokens: Object.fromEntries(TOKEN_KINDS.map((k) => [k, BigInt(r[k])])) as Record<TokenKind, bigint>,
      costUsd: Decimal.parse(r.cost_usd),
      unpricedEvents: BigInt(r.unpriced_events),
      partialEvents: BigInt(r.partial_events),
    }));
    const threshold = Decimal.parse(settings.thresholdPct);
    const result = reconcile({
      ...billed,
      tracked,
      mapping: new Map(mappings.map((m) => [m.openai_project_id, m.project_id])),
      thresholdPct: threshold,
      rateOf: this.rateOf,
    });
    const drifting = result.rows.filter(
      (row) => row.status === 'drift' && (row.scope === 'project' || row.scope === 'organization'),
    );
    let fired = 0;
    await this.repository.transaction(async (tx) => {
      await this.repository.insertResults(
        tx,
        id,
        result.rows.map((row) => stored(row)),
      );
      for (const row of drifting) {
        const inserted = await this.repository.fireDrift(tx, {
          dedupeKey: dedupeKeyOf(row),
          runId: id,
          day: row.day,
          payload: this.driftPayload(id, row, names, settings.thresholdPct),
        });
        if (inserted) fired++;
      }
      await this.repository.finishRun(tx, id, {
        comparison: result.comparison,
        pages,
        rows: result.rows.length,
        driftRows: drifting.length,
        alertsFired: fired,
      });
    });
    if (fired > 0) {
      this.logger.log(`reconciliation ${range.from} to ${range.to}: ${fired} drift alerts`);
      this.dispatcher.wake();
    }
  }

  /** TokenTally's rate for token kinds of an `openai` model, mid-day (UTC), overrides and discounts applied. */
  private readonly rateOf: RateOf = (model, kinds, day) => {
    const version = this.pricing.resolve('openai', model, Date.parse(`${day}T12:00:00Z`));
    if (!version) return null;
    const rates = kinds.map((kind) => priceOfKind(kind, version.sheet)?.perMillion ?? null);
    const first = rates[0];
    return first && rates.every((rate) => rate !== null && rate.equals(first)) ? first : null;
  };

  private driftPayload(
    runId: string,
    row: ReconciledRow,
    names: Map<string, string>,
    thresholdPct: string,
  ): Record<string, unknown> {
    const query = new URLSearchParams({ preset: 'custom', from: row.day, to: row.day, tz: 'UTC' });
    return {
      run_id: runId,
      day: row.day,
      scope: row.scope,
      openai_project_id: row.openaiProjectId,
      project_id: row.projectId,
      project_name: row.projectId ? (names.get(row.projectId) ?? null) : null,
      billed_usd: formatUsd(row.billedUsd!),
      tracked_usd: formatUsd(row.trackedUsd!),
      difference_usd: formatUsd(row.differenceUsd!),
      percent: row.percent === null ? null : row.percent.toFixedString(2),
      threshold_pct: thresholdPct,
      causes: row.causes.map((c) => c.cause),
      cause_details: row.causes.map((c) => ({ cause: c.cause, detail: c.detail })),
      billed_requests: Number(row.billedRequests ?? 0n),
      tracked_calls: Number(row.trackedCalls ?? 0n),
      dashboard_url: `${this.config.publicUrl}/?${query}#reconciliation`,
    };
  }

  /** What GET /v1/reconciliation shows; `projectIds` limits it to the rows of those mapped projects. */
  async report(range: DayRange, projectIds: string[] | null): Promise<ReportView> {
    const [rows, [last], projects] = await Promise.all([
      this.repository.report(range.from, range.to, projectIds),
      this.repository.latestRuns(1),
      this.keys.listProjects(),
    ]);
    const names = new Map(projects.map((p) => [p.id, p.name]));
    const reconciled = new Set(rows.map((r) => r.day));
    const all = Array.from({ length: daysBetween(range.from, range.to) }, (_, i) => addDays(range.from, i));
    const views = rows
      .filter((r) => r.row_key !== null)
      .map((r) => rowView(r, names))
      .sort(
        (a, b) =>
          a.day.localeCompare(b.day) ||
          SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] ||
          (a.openai_project_id ?? a.project_id ?? '').localeCompare(b.openai_project_id ?? b.project_id ?? ''),
      );
    const compared = views.filter(
      (v) => (v.scope === 'project' || v.scope === 'organization') && v.status !== 'not_comparable',
    );
    const billed = compared.reduce((sum, v) => sum.add(Decimal.parse(v.billed_usd ?? '0')), Decimal.ZERO);
    const tracked = compared.reduce((sum, v) => sum.add(Decimal.parse(v.tracked_usd ?? '0')), Decimal.ZERO);
    const difference = billed.subtract(tracked);
    const latest = rows.length ? rows[rows.length - 1] : null;
    return {
      configured: this.configured,
      from: range.from,
      to: range.to,
      currency: 'USD',
      threshold_pct: this.config.reconciliation.thresholdPct,
      limited_to_projects: projectIds !== null,
      comparison: latest?.comparison ?? null,
      last_run: last ? runView(last) : null,
      days_reconciled: all.filter((d) => reconciled.has(d)),
      days_not_reconciled: all.filter((d) => !reconciled.has(d)),
      rows: views,
      totals: {
        billed_usd: formatUsd(billed),
        tracked_usd: formatUsd(tracked),
        difference_usd: formatUsd(difference),
        percent: billed.isZero() ? null : difference.shiftLeft(2).divide(billed.abs(), 2).toFixedString(2),
      },
    };
  }

  async runs(limit: number): Promise<RunView[]> {
    return (await this.repository.latestRuns(limit)).map(runView);
  }

  async mappings(): Promise<MappingView[]> {
    const [rows, projects] = await Promise.all([this.repository.mappings(), this.keys.listProjects()]);
    const names = new Map(projects.map((p) => [p.id, p.name]));
    return rows.map((row) => mappingView(row, names));
  }

  /** Maps an OpenAI project to a TokenTally project (replacing its mapping); one OpenAI project per TokenTally one. */
  async map(openaiProjectId: string, projectId: string): Promise<MappingView> {
    if (!(await this.keys.projectExists(projectId)))
      throw DomainError.validation([{ path: 'project_id', message: 'is not a known project' }]);
    const taken = await this.repository.mappingOfProject(projectId);
    const conflict = (other: string) =>
      new DomainError('conflict', 'That TokenTally project is mapped to another OpenAI project.', [
        { path: 'project_id', message: `is already mapped to OpenAI project ${other}; remove that mapping first` },
      ]);
    if (taken && taken !== openaiProjectId) throw conflict(taken);
    let row: MappingRow;
    try {
      row = await this.repository.upsertMapping(openaiProjectId, projectId);
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw conflict((await this.repository.mappingOfProject(projectId)) ?? 'another');
      throw error;
    }
    const names = new Map((await this.keys.listProjects()).map((p) => [p.id, p.name]));
    return mappingView(row, names);
  }

  async unmap(openaiProjectId: string): Promise<void> {
    if (!(await this.repository.deleteMapping(openaiProjectId))) throw DomainError.notFound('The mapping');
  }
}

/**
 * A drift's key: its day, its row and both figures. A run that finds the
 * same difference again fires nothing; one that finds other figures (the bill
 * settled, events arrived) fires again, once.
 */
function dedupeKeyOf(row: ReconciledRow): string {
  return `reconciliation:${row.day}:${row.rowKey}:${row.billedUsd!.toFixedString()}:${row.trackedUsd!.toFixedString()}`;
}

const text = (n: bigint | null) => (n === null ? null : n.toString());

function stored(row: ReconciledRow): StoredResult {
  const drift = row.status === 'drift' && (row.scope === 'project' || row.scope === 'organization');
  return {
    day: row.day,
    row_key: row.rowKey,
    scope: row.scope,
    openai_project_id: row.openaiProjectId,
    project_id: row.projectId,
    status: row.status,
    billed_usd: row.billedUsd?.toFixedString() ?? null,
    other_currencies: row.otherCurrencies,
    billed_requests: text(row.billedRequests),
    billed_images: text(row.billedImages),
    billed_tokens: row.billedTokens?.toFixedString() ?? null,
    tracked_usd: row.trackedUsd?.toFixedString() ?? null,
    tracked_calls: text(row.trackedCalls),
    tracked_error_calls: text(row.trackedErrorCalls),
    tracked_images: text(row.trackedImages),
    tracked_tokens: text(row.trackedTokens),
    unpriced_events: text(row.unpricedEvents),
    partial_events: text(row.partialEvents),
    difference_usd: row.differenceUsd?.toFixedString() ?? null,
    percent: row.percent?.toFixedString() ?? null,
    causes: row.causes,
    line_items: row.lineItems as unknown as Array<Record<string, unknown>>,
    models: row.models as unknown as Array<Record<string, unknown>>,
    dedupe_key: drift ? dedupeKeyOf(row) : null,
  };
}

const usd = (value: string | null) => (value === null ? null : formatUsd(Decimal.parse(value)));
const count = (value: string | null) => (value === null ? null : Number(value));

function rowView(r: ReportRow, names: Map<string, string>): RowView {
  const dayEnd = Date.parse(`${addDays(r.day, 1)}T00:00:00Z`);
  return {
    day: r.day,
    scope: r.scope!,
    openai_project_id: r.openai_project_id,
    project_id: r.project_id,
    project_name: r.project_id ? (names.get(r.project_id) ?? null) : null,
    status: r.status!,
    billed_usd: usd(r.billed_usd),
    tracked_usd: usd(r.tracked_usd),
    difference_usd: usd(r.difference_usd),
    percent: r.percent === null ? null : Decimal.parse(r.percent).toFixedString(2),
    other_currencies: r.other_currencies ?? [],
    billed: { requests: count(r.billed_requests), images: count(r.billed_images), tokens: r.billed_tokens },
    tracked: {
      calls: count(r.tracked_calls),
      error_calls: count(r.tracked_error_calls),
      images: count(r.tracked_images),
      tokens: count(r.tracked_tokens),
      unpriced_events: count(r.unpriced_events),
      partial_events: count(r.partial_events),
    },
    causes: r.causes ?? [],
    line_items: r.line_items ?? [],
    models: r.models ?? [],
    settled: new Date(r.run_started_at).getTime() >= dayEnd + SETTLE_HOURS * 3_600_000,
    run_id: r.run_id,
    reconciled_at: new Date(r.reconciled_at).toISOString(),
    alert:
      r.alert_event_id && r.alert_created_at
        ? { event_id: r.alert_event_id, fired_at: new Date(r.alert_created_at).toISOString() }
        : null,
  };
}

function runView(row: RunRow): RunView {
  return {
    id: row.id,
    trigger: row.trigger,
    from: row.from_day,
    to: row.to_day,
    status: row.status,
    comparison: row.comparison,
    threshold_pct: Decimal.parse(row.threshold_pct).toFixedString(),
    error: row.error,
    pages_read: row.pages_read,
    rows: row.result_rows,
    drift_rows: row.drift_rows,
    alerts_fired: row.alerts_fired,
    started_at: new Date(row.started_at).toISOString(),
    finished_at: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  };
}

function mappingView(row: MappingRow, names: Map<string, string>): MappingView {
  return {
    openai_project_id: row.openai_project_id,
    project_id: row.project_id,
    project_name: names.get(row.project_id) ?? null,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
