import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig, DomainError } from '@tokentally/common';
import {
  Decimal,
  diffSheets,
  isAllZero,
  modelWithoutSnapshot,
  PriceSheet,
  PriceVersion,
  ratesOf,
  sheetOf,
  suspiciousReasons,
} from '@tokentally/core';
import { EventBus } from '@tokentally/db';
import {
  PendingPriceRow,
  PendingPricesRepository,
  PricingRunRow,
  PricingRunsRepository,
  RunStatus,
} from './pricing.sql';
import { BUILTIN_SOURCE, catalogEntries, catalogOverLiteLLM, PricingService } from './pricing.service';
import { parseLiteLLM } from './sources/litellm';
import { parseOpenRouter } from './sources/openrouter';
import { MalformedSourceError, ParsedSource, PriceQuote, SkippedEntry, SourceName } from './sources/source';
import { parseVercel } from './sources/vercel';

/** The registered name of the weekly job. */
export const PRICING_REFRESH_JOB = 'pricing-refresh';
const WEEK_MS = 7 * 24 * 3600 * 1000;

export type RunTrigger = 'schedule' | 'startup' | 'manual';

export interface SourceReport {
  source: SourceName;
  url: string | null;
  status: 'ok' | 'failed';
  models_seen: number;
  prices_changed: number;
  prices_pending: number;
  error: string | null;
  duration_ms: number;
  /** Entries the source lists that were not imported, and why (a zero rate, a provider not tracked...). */
  skipped: SkippedEntry[];
  /** What a person should know about an import (tiered prices exist: base tier imported). */
  notes: string[];
}

interface Fetched {
  report: SourceReport;
  quotes: PriceQuote[];
}

const PARSERS: Record<Exclude<SourceName, 'catalog'>, (text: string) => ParsedSource> = {
  litellm: parseLiteLLM,
  openrouter: parseOpenRouter,
  vercel: parseVercel,
};

/**
 * Which source speaks for a provider's price: a gateway's own list for its
 * own prices, then LiteLLM's file, then the built-in catalog. One source per
 * (provider, model), so two sources that disagree never flip a price back and
 * forth from one run to the next.
 */
function precedence(source: SourceName, provider: string, catalogSpeaks = false): number {
  if (source === provider) return 3; // vercel for vercel, openrouter for openrouter
  if (source === 'catalog') return catalogSpeaks ? 2.5 : 0; // over LiteLLM where its file is known wrong
  if (source === 'litellm') return 2;
  return 1;
}

/**
 * The pricing pull: weekly (PRICING_CRON), at start-up when the last
 * successful pull is more than a week old, and on demand. One run at a time
 * across every replica: the run row itself is the lock (a unique index allows
 * one `running` row); a second start joins the running run.
 */
@Injectable()
export class PricingRefreshService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PricingRefreshService.name);
  private inProcess: Promise<RunView> | null = null;
  private stopped = false;

  constructor(
    // Transactions only: the statements are the repositories'.
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(PricingRunsRepository) private readonly runRows: PricingRunsRepository,
    @Inject(PendingPricesRepository) private readonly pending: PendingPricesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(SchedulerRegistry) private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runJobs) return;
    const job = CronJob.from({
      cronTime: this.config.pricingCron,
      onTick: () => this.refreshOnSchedule(),
      start: true,
      timeZone: 'UTC',
    });
    this.scheduler.addCronJob(PRICING_REFRESH_JOB, job);
    if (this.config.pricingRefreshOnStart) {
      void this.refreshIfStale().catch((error) => this.logger.error(`start-up pricing pull failed: ${error}`));
    }
  }

  onModuleDestroy(): void {
    this.stopped = true;
  }

  /** The weekly job. Idempotent: a second call while a run is going joins it. */
  async refreshOnSchedule(): Promise<void> {
    await this.refresh('schedule').catch((error) => this.logger.error(`scheduled pricing pull failed: ${error}`));
  }

  nextScheduledRun(): Date | null {
    try {
      return this.scheduler.getCronJob(PRICING_REFRESH_JOB).nextDate().toJSDate();
    } catch {
      return null;
    }
  }

  async refreshIfStale(): Promise<void> {
    const last = await this.runRows.lastSuccessful();
    if (!last || Date.now() - new Date(last.finished_at!).getTime() > WEEK_MS) await this.refresh('startup');
  }

  async lastSuccessfulRun(): Promise<RunView | null> {
    const last = await this.runRows.lastSuccessful();
    return last ? toRunView(last) : null;
  }

  /**
   * What the prices on show were refreshed from (GET /v1/pricing): which
   * remote sources are configured, what the last successful refresh read,
   * and the last refresh that read a remote source. A refresh with no source
   * configured reads the built-in catalog only: it is a refresh, not fresh
   * prices, and this says so.
   */
  async sourcesState(): Promise<SourcesState> {
    const [last, reads] = await Promise.all([this.runRows.lastSuccessful(), this.runRows.lastReadPerSource()]);
    const readOf = new Map(
      reads.map((r) => [r.source, { run_id: r.run_id, finished_at: new Date(r.finished_at).toISOString() }]),
    );
    const sources: SourceState[] = [
      {
        name: BUILTIN_SOURCE,
        kind: 'builtin',
        setting: null,
        url_configured: false,
        last_read: readOf.get(BUILTIN_SOURCE) ?? null,
      },
      ...(Object.keys(PARSERS) as Array<keyof typeof PARSERS>).map((name) => ({
        name,
        kind: 'remote' as const,
        setting: SOURCE_SETTINGS[name],
        url_configured: !!this.config.pricingSources[name],
        last_read: readOf.get(name) ?? null,
      })),
    ];
    const sourcesRead = last
      ? ((Array.isArray(last.sources) ? last.sources : []) as SourceReport[])
          .filter((s) => s.status === 'ok')
          .map((s) => s.source)
      : [];
    const remoteReads = reads.filter((r) => r.source !== BUILTIN_SOURCE);
    const latest = remoteReads.reduce<(typeof remoteReads)[number] | null>(
      (a, b) => (!a || new Date(b.finished_at) > new Date(a.finished_at) ? b : a),
      null,
    );
    const catalogOnly = !sourcesRead.some((s) => s !== BUILTIN_SOURCE);
    const configured = sources.filter((s) => s.url_configured).map((s) => s.name);
    return {
      last_refresh: last
        ? {
            run_id: last.id,
            finished_at: new Date(last.finished_at!).toISOString(),
            status: last.status,
            sources_read: sourcesRead,
          }
        : null,
      catalog_only: catalogOnly,
      last_remote_refresh: latest
        ? {
            run_id: latest.run_id,
            finished_at: new Date(latest.finished_at).toISOString(),
            sources: remoteReads
              .filter((r) => r.run_id === latest.run_id)
              .map((r) => r.source)
              .sort(),
          }
        : null,
      sources,
      note: freshnessNote(
        configured,
        sourcesRead.filter((s) => s !== BUILTIN_SOURCE),
        !!last,
      ),
    };
  }

  async runs(limit = 50): Promise<RunView[]> {
    return (await this.runRows.recent(limit)).map(toRunView);
  }

  /** Pulls every configured source now; returns the run's summary. */
  refresh(trigger: RunTrigger, actor: string | null = null): Promise<RunView> {
    this.inProcess ??= this.run(trigger, actor).finally(() => {
      this.inProcess = null;
    });
    return this.inProcess;
  }

  private async run(trigger: RunTrigger, actor: string | null): Promise<RunView> {
    await this.runRows.abandonStale();
    let runId: string;
    try {
      runId = await this.runRows.start(trigger, actor);
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      return this.joinRunningRun();
    }
    try {
      return await this.execute(runId);
    } catch (error) {
      await this.runRows.finish(runId, {
        status: 'failed',
        sources: [{ source: 'run', status: 'failed', error: String(error) }],
        changed: 0,
        pending: 0,
      });
      throw error;
    }
  }

  /** Another replica is running a pull: wait for it and answer with its result. */
  private async joinRunningRun(): Promise<RunView> {
    for (let waited = 0; waited < 10 * 60_000 && !this.stopped; waited += 200) {
      const running = await this.runRows.runningId();
      if (!running) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
      const row = (await this.runRows.byId(running))!;
      if (row.status !== 'running') return toRunView(row);
    }
    const [latest] = await this.runRows.recent(1);
    return toRunView(latest);
  }

  private async execute(runId: string): Promise<RunView> {
    const started = Date.now();
    await this.pricing.reload(); // another replica may have changed prices
    const remote = (Object.keys(PARSERS) as Array<keyof typeof PARSERS>).filter(
      (name) => this.config.pricingSources[name],
    );
    const fetched: Fetched[] = [
      this.catalogSource(),
      ...(await Promise.all(remote.map((name) => this.fetchSource(name, this.config.pricingSources[name]!)))),
    ];

    // The quote that speaks for each (provider, model).
    const chosen = new Map<string, { quote: PriceQuote; source: Fetched }>();
    const catalogSpeaks = catalogOverLiteLLM();
    const rank = (source: Fetched, quote: PriceQuote) =>
      precedence(source.report.source, quote.provider, catalogSpeaks.has(`${quote.provider}\u0000${quote.model}`));
    for (const source of fetched) {
      for (const quote of source.quotes) {
        const key = `${quote.provider}\u0000${quote.model}`;
        const held = chosen.get(key);
        if (!held || rank(source, quote) > rank(held.source, held.quote)) {
          chosen.set(key, { quote, source });
        } else if (held.source.report.source === BUILTIN_SOURCE && catalogSpeaks.has(key)) {
          source.report.skipped.push({
            key: `${quote.provider}/${quote.model}`,
            reason: `the built-in catalog speaks for it: ${catalogSpeaks.get(key)}`,
          });
        }
      }
    }

    const effectiveFrom = new Date(started);
    let changed = 0;
    let pending = 0;
    // Base models before their dated snapshots, so a snapshot fills its missing kinds from its base as this run leaves
    // it.
    const ordered = [...chosen.values()].sort(
      (a, b) => Number(!!modelWithoutSnapshot(a.quote.model)) - Number(!!modelWithoutSnapshot(b.quote.model)),
    );
    const mergedThisRun = new Map<string, { sheet: PriceSheet; rateSources: Record<string, string> }>();
    await this.db.transaction(async (manager) => {
      for (const { quote, source } of ordered) {
        // The catalog only fills in models no source has priced yet (start-up loads it).
        if (source.report.source === BUILTIN_SOURCE) continue;
        const current = this.pricing.currentListVersion(quote.provider, quote.model, started);
        const base = modelWithoutSnapshot(quote.model);
        const baseVersion = base
          ? (mergedThisRun.get(`${quote.provider}\u0000${base}`) ??
            this.pricing.currentListVersion(quote.provider, base, started))
          : null;
        const merged = mergeRates(source.report.source, quote, current, baseVersion);
        if (!merged) {
          source.report.skipped.push({
            key: `${quote.provider}/${quote.model}`,
            reason: 'every rate is 0 and the source does not mark the model free: not a price',
          });
          continue;
        }
        mergedThisRun.set(`${quote.provider}\u0000${quote.model}`, merged);
        const outcome = await this.applyOrHold(
          manager,
          { provider: quote.provider, model: quote.model, ...merged },
          current,
          source.report,
          runId,
          effectiveFrom,
          [],
        );
        if (outcome === 'applied') changed++;
        if (outcome === 'held') pending++;
      }
      // A model a source priced and no longer prices (left out of its answer, or every rate now 0) loses
      // that source's rates: a removal, held for an admin like any other, never kept or dropped in silence.
      for (const current of this.pricing.currentVersions(started)) {
        const key = `${current.provider}\u0000${current.model}`;
        const report = fetched.find((f) => f.report.source === current.source && f.report.status === 'ok')?.report;
        if (current.kind !== 'list' || !report || report.source === BUILTIN_SOURCE || mergedThisRun.has(key)) continue;
        const kept = ratesOf(current.sheet).filter(
          ([unit]) => (current.rateSources?.[unit] ?? current.source) !== report.source,
        );
        const rateSources = Object.fromEntries(
          kept.map(([unit]) => [unit, current.rateSources?.[unit] ?? current.source]),
        );
        const note = `${current.provider}/${current.model} is no longer priced by ${report.source}`;
        const outcome = await this.applyOrHold(
          manager,
          { provider: current.provider, model: current.model, sheet: sheetOf(kept), rateSources },
          current,
          report,
          runId,
          effectiveFrom,
          [note],
        );
        if (outcome === 'held') pending++;
      }
      for (const { report } of fetched.filter((f) => f.report.status === 'failed')) {
        await this.events.record(manager, 'pricing.refresh_failed', {
          run_id: runId,
          source: report.source,
          url: report.url,
          error: report.error,
        });
      }
      const failures = fetched.filter((f) => f.report.status === 'failed').length;
      const status: RunStatus = failures === 0 ? 'succeeded' : failures === remote.length ? 'failed' : 'partial';
      await this.runRows.finish(runId, { status, sources: fetched.map((f) => f.report), changed, pending }, manager);
    });
    if (changed > 0) await this.pricing.pricesChanged();
    this.logger.log(`pricing pull ${runId}: ${changed} prices changed, ${pending} held for approval`);
    const row = (await this.runRows.byId(runId))!;
    return toRunView(row);
  }

  /**
   * A new version for (provider, model) from a source, applied now, or held
   * for an admin when it looks like a mistake of the source (or `reasons`
   * says so). Returns what was done.
   */
  private async applyOrHold(
    manager: EntityManager,
    next: { provider: string; model: string; sheet: PriceSheet; rateSources: Record<string, string> },
    current: PriceVersion | null,
    report: SourceReport,
    runId: string,
    effectiveFrom: Date,
    reasonsGiven: string[],
  ): Promise<'unchanged' | 'applied' | 'held'> {
    const changes = diffSheets(current?.sheet ?? null, next.sheet);
    if (changes.length === 0) return 'unchanged';
    const sourceRef = `${report.url} (run ${runId})`;
    const reasons = [...reasonsGiven, ...(current ? suspiciousReasons(changes, current.sheet) : [])];
    if (reasons.length === 0) {
      await this.pricing.addVersion(
        manager,
        {
          provider: next.provider,
          model: next.model,
          kind: 'list',
          source: report.source,
          sourceRef,
          effectiveFrom,
          sheet: next.sheet,
          runId,
          rateSources: next.rateSources,
        },
        changes,
      );
      report.prices_changed++;
      return 'applied';
    }
    const pendingId = await this.pending.insert(manager, {
      provider: next.provider,
      model: next.model,
      source: report.source,
      sourceRef,
      runId,
      currentVersionId: current?.id ?? null,
      sheet: next.sheet,
      reasons,
      rateSources: next.rateSources,
    });
    if (pendingId === null) return 'unchanged'; // the same change is already waiting, or was rejected
    await this.pending.supersede(manager, next.provider, next.model, report.source, pendingId);
    await this.events.record(manager, 'pricing.updated', {
      provider: next.provider,
      model: next.model,
      source: report.source,
      pending: true,
      pending_id: pendingId,
      reasons,
      changes,
    });
    report.prices_pending++;
    return 'held';
  }

  private catalogSource(): Fetched {
    const quotes = catalogEntries().map((e) => ({ provider: e.provider, model: e.model, sheet: e.prices }));
    return { quotes, report: report('catalog', null, quotes.length, null, 0) };
  }

  /** One source, fetched and parsed; its failure is its own and stops nothing else. */
  private async fetchSource(source: Exclude<SourceName, 'catalog'>, url: string): Promise<Fetched> {
    const started = Date.now();
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(this.config.pricingTimeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { quotes, skipped } = PARSERS[source](await response.text());
      const fetched = report(source, url, quotes.length, null, Date.now() - started);
      fetched.skipped = skipped;
      fetched.notes = quotes.flatMap((q) => (q.notes ?? []).map((note) => `${q.provider}/${q.model}: ${note}`));
      return { quotes, report: fetched };
    } catch (error) {
      const message =
        error instanceof MalformedSourceError
          ? `malformed answer: ${error.message}`
          : (error as Error)?.name === 'TimeoutError'
            ? `no answer within ${this.config.pricingTimeoutMs} ms`
            : String((error as Error)?.message ?? error);
      this.logger.warn(`price source ${source} failed: ${message}`);
      return { quotes: [], report: report(source, url, 0, message, Date.now() - started) };
    }
  }

  /** Applies a held change: a new version from now. */
  async approvePending(id: string, actor: string): Promise<Record<string, unknown>> {
    const decided = await this.db.transaction(async (manager) => {
      const row = await this.lockPending(manager, id);
      const current = this.pricing.currentListVersion(row.provider, row.model);
      const sheet = row.prices;
      const versionId = await this.pricing.addVersion(
        manager,
        {
          provider: row.provider,
          model: row.model,
          kind: 'list',
          source: row.source,
          sourceRef: `${row.source_ref}; approved`,
          effectiveFrom: new Date(),
          sheet,
          createdBy: actor,
          runId: row.run_id,
          rateSources: row.rate_sources ?? null,
        },
        diffSheets(current?.sheet ?? null, sheet),
      );
      await this.pending.decide(manager, id, 'approved', actor, versionId);
      return versionId;
    });
    await this.pricing.pricesChanged();
    return { id, status: 'approved', version_id: decided };
  }

  async rejectPending(id: string, actor: string): Promise<Record<string, unknown>> {
    await this.db.transaction(async (manager) => {
      await this.lockPending(manager, id);
      await this.pending.decide(manager, id, 'rejected', actor, null);
    });
    return { id, status: 'rejected' };
  }

  /** The held change, locked for a decision; only a pending one can be decided. */
  private async lockPending(manager: EntityManager, id: string): Promise<PendingPriceRow> {
    const row = await this.pending.lockForDecision(manager, id);
    if (!row) throw DomainError.notFound(`Pending price ${id}`);
    if (row.status !== 'pending') throw new DomainError('conflict', `This price change is already ${row.status}.`);
    return row;
  }

  async pendingList(status: string | null): Promise<Array<Record<string, unknown>>> {
    return (await this.pending.list(status)).map((row) => ({
      id: row.id,
      provider: row.provider,
      model: row.model,
      source: row.source,
      source_ref: row.source_ref,
      run_id: row.run_id,
      current_version_id: row.current_version_id,
      prices: row.prices,
      reasons: row.reasons,
      status: row.status,
      created_at: new Date(row.created_at).toISOString(),
      decided_at: row.decided_at && new Date(row.decided_at).toISOString(),
      version_id: row.version_id,
    }));
  }
}

/** The environment variable holding each remote source's URL. */
const SOURCE_SETTINGS: Record<Exclude<SourceName, 'catalog'>, string> = {
  litellm: 'PRICING_LITELLM_URL',
  openrouter: 'PRICING_OPENROUTER_URL',
  vercel: 'PRICING_VERCEL_URL',
};

export interface SourceState {
  name: SourceName;
  /** `builtin`: the catalog shipped in the repository, always on, no URL. `remote`: a URL in config. */
  kind: 'builtin' | 'remote';
  setting: string | null;
  url_configured: boolean;
  /** The last successful refresh in which this source answered. */
  last_read: { run_id: string; finished_at: string } | null;
}

export interface SourcesState {
  last_refresh: { run_id: string; finished_at: string; status: string; sources_read: string[] } | null;
  /** True when the last successful refresh read no remote source (or there was none): the prices are the catalog's (and
   * overrides). */
  catalog_only: boolean;
  last_remote_refresh: { run_id: string; finished_at: string; sources: string[] } | null;
  sources: SourceState[];
  note: string;
}

/** One sentence for people: where the prices come from now. */
function freshnessNote(configured: string[], remoteRead: string[], refreshed: boolean): string {
  const settings = Object.values(SOURCE_SETTINGS).join(', ');
  if (configured.length === 0)
    return `No price source is configured (${settings}): prices are the built-in catalog's and any overrides; a refresh reads nothing remote.`;
  if (!refreshed)
    return `Configured sources (${configured.join(', ')}) have not been read yet: prices are the built-in catalog's and any overrides until a refresh.`;
  if (remoteRead.length === 0)
    return `The last successful refresh read only the built-in catalog; the configured sources (${configured.join(', ')}) were not read in it.`;
  const missed = configured.filter((name) => !remoteRead.includes(name));
  return `The last successful refresh read ${remoteRead.join(', ')}${missed.length ? ` (not ${missed.join(', ')}; see GET /v1/pricing/runs)` : ''} on top of the built-in catalog.`;
}

function report(
  source: SourceName,
  url: string | null,
  models: number,
  error: string | null,
  durationMs: number,
): SourceReport {
  return {
    source,
    url,
    status: error ? 'failed' : 'ok',
    models_seen: models,
    prices_changed: 0,
    prices_pending: 0,
    error,
    duration_ms: durationMs,
    skipped: [],
    notes: [],
  };
}

/**
 * The sheet a pulled quote makes, and the source of each of its rates. A
 * source speaks for the rates it gives; a zero is no rate unless the source
 * marks the model free. A rate it does not give is never dropped: it is kept
 * from the version in force for the same provider and model, else (for a
 * dated snapshot) taken from the base model, with the source that gave it.
 * Null when the quote has no rate at all, or only zeros, for a model that is
 * not free: that is no price, and storing it would price calls at $0.
 */
export function mergeRates(
  sourceName: string,
  quote: PriceQuote,
  current: PriceVersion | null,
  base: { sheet: PriceSheet; rateSources?: Record<string, string> | null; source?: string } | null,
): { sheet: PriceSheet; rateSources: Record<string, string> } | null {
  const given = ratesOf(quote.sheet).filter(([, value]) => quote.free || !Decimal.parse(value).isZero());
  if (given.length === 0) return null;
  const rates = new Map<string, string>();
  const rateSources: Record<string, string> = {};
  const baseModel = modelWithoutSnapshot(quote.model);
  for (const [unit, value] of base ? ratesOf(base.sheet) : []) {
    rates.set(unit, value);
    rateSources[unit] = `${base!.rateSources?.[unit] ?? base!.source ?? 'unknown'} (base model ${baseModel})`;
  }
  const givenUnits = new Set(given.map(([unit]) => unit));
  for (const [unit, value] of current ? ratesOf(current.sheet) : []) {
    // A rate this source itself gave before and no longer gives is a removal by the source: it is
    // left out, so the change shows it removed and waits for an admin (never dropped in silence,
    // never kept for ever). Rates that came from elsewhere (the catalog, a base model) stay.
    if (current!.rateSources?.[unit] === sourceName && !givenUnits.has(unit)) continue;
    rates.set(unit, value);
    rateSources[unit] = current!.rateSources?.[unit] ?? current!.source;
  }
  for (const [unit, value] of given) {
    rates.set(unit, value);
    rateSources[unit] = sourceName;
  }
  const sheet = sheetOf(rates);
  if (isAllZero(sheet) && !quote.free) return null;
  return { sheet, rateSources };
}

/** A pricing run as the API shows it. */
export interface RunView {
  id: string;
  trigger: string;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  prices_changed: number;
  prices_pending: number;
  sources: unknown;
}

function toRunView(row: PricingRunRow): RunView {
  return {
    id: row.id,
    trigger: row.trigger,
    status: row.status,
    started_at: new Date(row.started_at).toISOString(),
    finished_at: row.finished_at && new Date(row.finished_at).toISOString(),
    prices_changed: row.prices_changed,
    prices_pending: row.prices_pending,
    sources: row.sources,
  };
}
