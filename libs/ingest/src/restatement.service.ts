import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  billableCall,
  costOf,
  Decimal,
  formatUsd,
  priceOfKind,
  ratesOf,
  TOKEN_KINDS,
  TokenUsage,
} from '@tokentally/core';
import { DomainError } from '@tokentally/common';
import { EventBus } from '@tokentally/db';
import { PricingService } from '@tokentally/pricing';
import {
  CostChange,
  NotPricedRow,
  RestatementRow,
  RestatementsRepository,
  StoredEvent,
  UsageByKindRow,
} from './restatement.sql';
import { PeriodsService } from './periods.service';

const PAGE = 1000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const HOUR_MS = 3_600_000;

/** A part of a whole as a fraction to 4 decimals (1 when the whole is 0): a ratio for people, not money. */
const share = (part: bigint, whole: bigint) =>
  whole === 0n ? '1.0000' : (Number((part * 1_000_000n) / whole) / 1_000_000).toFixed(4);

interface Totals {
  examined: number;
  changed: number;
  before: Decimal;
  after: Decimal;
  /** What the changed events span: the range, provider and model a restatement records when it was given none. */
  firstChanged?: number;
  lastChanged?: number;
  providers?: Set<string>;
  models?: Set<string>;
  /** Events left as they were because their month was closed while this ran. */
  skippedClosed?: number;
}

/**
 * Re-pricing stored events is a restatement, never a silent rewrite: the
 * as-ingested cost stays beside the restated one, the rollup moves by the
 * difference, and each run is recorded (who, when, range, totals before and after).
 */
@Injectable()
export class RestatementService implements OnModuleInit {
  private readonly logger = new Logger(RestatementService.name);
  private unpricedRun: Promise<unknown> | null = null;

  constructor(
    // Transactions only: the statements are the repository's.
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(RestatementsRepository) private readonly repository: RestatementsRepository,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(PeriodsService) private readonly periods: PeriodsService,
  ) {}

  onModuleInit(): void {
    // As soon as a price exists for events stored unpriced, they are priced.
    this.events.on('prices.changed', () => this.repriceUnpriced().then(() => undefined));
  }

  /** Prices every unpriced event that the price book can now price. */
  repriceUnpriced(): Promise<RestatementView | null> {
    const run = (this.unpricedRun ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        const totals = emptyTotals();
        let after: [string, string] = [NIL_UUID, ''];
        for (;;) {
          const page = await this.repository.unpricedPage(after, PAGE);
          if (page.length === 0) break;
          await this.restatePage(page, totals);
          const last = page[page.length - 1];
          after = [last.project_id, last.event_id];
        }
        if (totals.changed === 0) return null;
        this.logger.log(`priced ${totals.changed} events stored unpriced`);
        // A new price re-prices calls of any time: the record names what it changed (the span of
        // those calls, and their provider and model when there is one), so a month close lists it
        // in every month whose figures it moved.
        return this.record('new_price', null, changedSpan(totals), totals);
      });
    this.unpricedRun = run;
    return run;
  }

  /** POST /v1/pricing/reprice: every event of the range, with the versions in effect at its time. */
  async repriceRange(
    range: { from: Date; to: Date; provider?: string; model?: string },
    actor: string,
  ): Promise<RestatementView> {
    // A closed month's figures are locked: refused before anything is read (and checked again as each page is written).
    await this.periods.assertNoClosedMonthIn(range.from, range.to);
    const totals = emptyTotals();
    // Before every event of the range: no event has the nil project and an empty id.
    let after: [Date | string, string, string] = [range.from, NIL_UUID, ''];
    for (;;) {
      const page = await this.repository.rangePage(range, after, PAGE);
      if (page.length === 0) break;
      await this.restatePage(page, totals);
      // Some events were left as they were: a month was closed while this ran. If it is a month of the range, what
      // was re-priced before is recorded and the rest is left (409); a late call counted in a month outside the range
      // stays as it is and the range goes on.
      if (totals.skippedClosed) await this.stopIfRangeClosed(range, actor, totals);
      const last = page[page.length - 1];
      after = [last.occurred_at_cursor, last.project_id, last.event_id];
    }
    return this.record('manual', actor, range, totals);
  }

  private async stopIfRangeClosed(range: { from: Date; to: Date }, actor: string, totals: Totals): Promise<void> {
    try {
      await this.periods.assertNoClosedMonthIn(range.from, range.to);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const recorded = await this.record('manual', actor, range, totals);
      throw new DomainError(
        'conflict',
        `${error.message} The month was closed while this re-pricing ran: the ${totals.changed} events re-priced ` +
          `before were recorded as restatement ${recorded.id}; the rest of the range was left as it was.`,
        error.errors,
        { ...error.extensions, restatement: recorded },
      );
    }
  }

  async list(limit = 100): Promise<RestatementView[]> {
    return (await this.repository.list(limit)).map((row) => toRestatementView(row));
  }

  /**
   * How much of a period's usage was fully priced, what was not, and what was
   * priced by fallback (GET /v1/pricing/coverage). `to` defaults to now and
   * `from` to 30 days before it.
   */
  async coverage(range: { from?: Date; to?: Date }) {
    const to = range.to ?? new Date();
    // From the start of its hour: the rollups are hourly, and the raw events are read over the same span.
    const from = new Date(
      Math.floor((range.from ?? new Date(to.getTime() - 30 * 24 * HOUR_MS)).getTime() / HOUR_MS) * HOUR_MS,
    );
    const totals = await this.repository.coverageTotals(from, to);
    const notPriced = await this.repository.coverageNotPriced(from, to);
    const kinds = await this.repository.coverageKinds(from, to);
    const events = BigInt(totals.events);
    const unpricedEvents = BigInt(totals.unpriced_events);
    const partialEvents = BigInt(totals.partial_events);
    const pricedEvents = events - unpricedEvents - partialEvents;
    const tokens = BigInt(totals.tokens);
    const unpriced = notPriced.filter((row) => row.pricing === 'unpriced');
    // Tokens of events that are not fully priced (unpriced and partly priced): the priced share is of fully priced
    // events.
    const notPricedTokens = notPriced.reduce((sum, row) => sum + BigInt(row.tokens ?? 0), 0n);
    const models = (rows: NotPricedRow[]) =>
      rows.map((row) => ({
        provider: row.provider,
        model: row.model,
        events: Number(row.events),
        tokens: Number(row.tokens),
        ...(row.pricing === 'partial' ? { cost_usd: formatUsd(Decimal.parse(row.cost_usd)) } : {}),
        unpriced_kinds: [
          ...new Set(
            String(row.missing ?? '')
              .split(',')
              .filter(Boolean),
          ),
        ].sort(),
        first_seen_at: row.first_seen_at && new Date(row.first_seen_at).toISOString(),
      }));
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      events: {
        total: Number(events),
        priced: Number(pricedEvents),
        partial: Number(partialEvents),
        unpriced: Number(unpricedEvents),
        priced_share: share(pricedEvents, events),
      },
      cost_usd: formatUsd(Decimal.parse(totals.cost_usd)),
      partial_cost_usd: formatUsd(Decimal.parse(totals.partial_cost_usd)),
      tokens: {
        total: Number(tokens),
        in_priced_events: Number(tokens - notPricedTokens),
        priced_share: share(tokens - notPricedTokens, tokens),
      },
      unpriced_models: models(unpriced),
      partial_models: models(notPriced.filter((row) => row.pricing === 'partial')),
      rate_sources: this.rateSources(kinds),
      fallback_kinds: this.fallbackKinds(kinds),
    };
  }

  /** Called by ingest with the events it stored unpriced: the first sighting of a model is an event. */
  async noteUnpricedModels(models: Array<{ provider: string; model: string }>): Promise<void> {
    if (models.length === 0) return;
    await this.db.transaction(async (manager: EntityManager) => {
      const fresh = await this.repository.newUnpricedModels(manager, models);
      for (const row of fresh) {
        await this.events.record(manager, 'model.unpriced', {
          provider: row.provider,
          model: row.model,
          first_seen_at: new Date(row.first_seen_at).toISOString(),
        });
      }
    });
  }

  /** Token kinds used in a period that have no price of their own for their provider and model now. */
  fallbackKinds(rows: UsageByKindRow[]): Array<Record<string, unknown>> {
    return this.rateSources(rows).flatMap((model) =>
      model.kinds
        .filter((k) => k.basis !== 'own' && k.basis !== null)
        .map((k) => ({
          provider: model.provider,
          model: model.model,
          kind: k.kind,
          tokens: k.quantity,
          priced_with: k.priced_with,
          basis: k.basis,
        })),
    );
  }

  /**
   * For each provider and model used in a period: every unit it used, the
   * rate that prices it now, how (its own rate or a fallback) and which
   * source gave that rate (a pulled version may keep rates of the version
   * before it, or of the base model of a snapshot).
   */
  rateSources(rows: UsageByKindRow[]) {
    return rows.map((row) => {
      const version = this.pricing.resolve(row.provider, row.model, Date.now());
      const kinds: Array<{
        kind: string;
        quantity: number;
        priced_with: string | null;
        basis: string | null;
        rate_usd: string | null;
        source: string | null;
      }> = [];
      const sourceOf = (unit: string) => (version ? (version.rateSources?.[unit] ?? version.source) : null);
      for (const kind of TOKEN_KINDS) {
        if (BigInt(row[kind] ?? 0) === 0n) continue;
        const price = version ? priceOfKind(kind, version.sheet) : null;
        kinds.push({
          kind,
          quantity: Number(row[kind]),
          priced_with: price?.unit ?? null,
          basis: price?.basis ?? null,
          rate_usd: price ? formatUsd(price.perMillion) : null,
          source: price ? sourceOf(price.unit) : null,
        });
      }
      if (BigInt(row.per_image_images ?? 0) > 0n) {
        const units = version
          ? ratesOf(version.sheet).filter(([name]) => name === 'per_image' || name.startsWith('image_prices.'))
          : [];
        kinds.push({
          kind: 'per_image',
          quantity: Number(row.per_image_images),
          priced_with: units.length > 0 ? units.map(([name]) => name).join(', ') : null,
          basis: units.length > 0 ? 'own' : null,
          rate_usd: null,
          source: units.length > 0 ? [...new Set(units.map(([name]) => sourceOf(name)))].join(', ') : null,
        });
      }
      return {
        provider: row.provider,
        model: row.model,
        version_id: version?.id ?? null,
        version_source: version?.source ?? null,
        kinds,
      };
    });
  }

  /**
   * Re-prices one page. The totals are of what this page really changed: an event counted in a month that was
   * closed after the page was read is left as it is by the statement that writes, counted in `skippedClosed`, and
   * its cost stays in both totals as it was.
   */
  private async restatePage(page: StoredEvent[], totals: Totals): Promise<void> {
    const changes: Array<CostChange & { before: Decimal | null; after: Decimal | null; event: StoredEvent }> = [];
    for (const event of page) {
      totals.examined++;
      const usage = {} as TokenUsage;
      for (const kind of TOKEN_KINDS) usage[kind] = Number(event[`${kind}_tokens`]);
      const { version, result } = this.pricing.quote(
        event.provider,
        event.model,
        new Date(event.occurred_at).getTime(),
        billableCall({
          usage,
          images: event.images,
          imageSize: event.image_size,
          imageQuality: event.image_quality,
          succeeded: event.status === 'ok',
        }),
      );
      const before = event.cost_usd === null ? null : Decimal.parse(event.cost_usd);
      const after = costOf(result);
      const missing = result.pricing === 'priced' ? null : result.missing.join(',') || null;
      const sameCost = before === null ? after === null : after !== null && before.equals(after);
      const same =
        sameCost && event.pricing === result.pricing && (event.unpriced_kinds?.join(',') || null) === missing;
      if (same) {
        if (before) totals.before = totals.before.add(before);
        if (before) totals.after = totals.after.add(before);
        continue;
      }
      changes.push({
        projectId: event.project_id,
        eventId: event.event_id,
        cost: after && after.toFixedString(),
        versionId: version?.id ?? null,
        pricing: result.pricing,
        missing,
        before,
        after,
        event,
      });
    }
    if (changes.length === 0) return;
    const applied = await this.repository.applyCosts(changes);
    for (const change of changes) {
      const done = applied.has(`${change.projectId}\u0000${change.eventId}`);
      if (change.before) totals.before = totals.before.add(change.before);
      const now = done ? change.after : change.before;
      if (now) totals.after = totals.after.add(now);
      if (!done) {
        totals.skippedClosed = (totals.skippedClosed ?? 0) + 1;
        continue;
      }
      totals.changed++;
      const at = new Date(change.event.occurred_at).getTime();
      totals.firstChanged = Math.min(totals.firstChanged ?? at, at);
      totals.lastChanged = Math.max(totals.lastChanged ?? at, at);
      (totals.providers ??= new Set()).add(change.event.provider);
      (totals.models ??= new Set()).add(change.event.model);
    }
  }

  private async record(
    reason: 'new_price' | 'manual',
    actor: string | null,
    range: { from?: Date; to?: Date; provider?: string; model?: string },
    totals: Totals,
  ) {
    const row = await this.repository.insert({
      reason,
      requestedBy: actor,
      range,
      examined: totals.examined,
      changed: totals.changed,
      totalBefore: totals.before.toFixedString(),
      totalAfter: totals.after.toFixedString(),
    });
    return toRestatementView(row);
  }
}

function emptyTotals(): Totals {
  return { examined: 0, changed: 0, before: Decimal.ZERO, after: Decimal.ZERO };
}

/** A restatement as the API shows it (counts and totals null for a key limited to some projects). */
export interface RestatementView {
  id: string;
  reason: RestatementRow['reason'];
  requested_by: string | null;
  created_at: string;
  from: string | null;
  to: string | null;
  provider: string | null;
  model: string | null;
  events_examined: number | null;
  events_changed: number | null;
  total_before_usd: string | null;
  total_after_usd: string | null;
}

/**
 * A restatement as the API shows it. Its counts and totals are of every
 * project it re-priced: `withTotals` false (a key limited to some projects)
 * gives them as null.
 */
export function toRestatementView(row: RestatementRow, withTotals = true): RestatementView {
  return {
    id: row.id,
    reason: row.reason,
    requested_by: row.requested_by,
    created_at: new Date(row.created_at).toISOString(),
    from: row.range_from && new Date(row.range_from).toISOString(),
    to: row.range_to && new Date(row.range_to).toISOString(),
    provider: row.provider,
    model: row.model,
    events_examined: withTotals ? row.events_examined : null,
    events_changed: withTotals ? row.events_changed : null,
    total_before_usd: withTotals ? formatUsd(Decimal.parse(row.total_before_usd)) : null,
    total_after_usd: withTotals ? formatUsd(Decimal.parse(row.total_after_usd)) : null,
  };
}

/** The span of the events a restatement changed: from the first to just after the last, and the one provider and model
 * if they share one. */
function changedSpan(totals: Totals): { from?: Date; to?: Date; provider?: string; model?: string } {
  if (totals.firstChanged === undefined || totals.lastChanged === undefined) return {};
  const one = (set: Set<string> | undefined) => (set && set.size === 1 ? [...set][0] : undefined);
  // occurred_at keeps microseconds; the next millisecond is after the last one.
  return {
    from: new Date(totals.firstChanged),
    to: new Date(totals.lastChanged + 1),
    provider: one(totals.providers),
    model: one(totals.models),
  };
}
