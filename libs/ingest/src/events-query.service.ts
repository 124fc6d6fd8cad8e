import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@tokentally/common';
import {
  billableCall,
  BillableCall,
  computeCost,
  costOf,
  Decimal,
  EMPTY_USAGE,
  formatUsd,
  PriceSheet,
  priceOfImage,
  priceOfKind,
  PriceVersion,
  pricingNote,
  TOKEN_KINDS,
  TokenUsage,
} from '@tokentally/core';
import { PricingService, versionView } from '@tokentally/pricing';
import { encodeCursor } from './dto/list-events.dto';
import { EventFilters, EventListQuery, EventRow, UsageEventsRepository } from './ingest.sql';
import { RestatementsRepository } from './restatement.sql';
import { toRestatementView } from './restatement.service';

const usd = (text: string | null) => (text === null ? null : formatUsd(Decimal.parse(text)));

/**
 * Reads stored events back (the raw record, not the rollups): pages of them
 * in four orders, the totals of a selection, and one event with how its cost
 * was made.
 */
@Injectable()
export class EventsQueryService {
  constructor(
    @Inject(UsageEventsRepository) private readonly events: UsageEventsRepository,
    @Inject(RestatementsRepository) private readonly restatements: RestatementsRepository,
    @Inject(PricingService) private readonly pricing: PricingService,
  ) {}

  async list(q: EventListQuery) {
    const rows = await this.events.list(q);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      sort: q.sort,
      data: page.map(toEventView),
      next_cursor:
        rows.length > q.limit && last
          ? encodeCursor({
              sort: q.sort,
              occurredAt: last.occurred_at_iso,
              projectId: last.project_id,
              eventId: last.event_id,
              cost: q.sort.endsWith('cost') ? last.cost_text : null,
            })
          : null,
    };
  }

  /** Totals of every selected event, measured as the reports measure them. */
  async totals(filters: EventFilters) {
    const row = await this.events.totals(filters);
    return {
      currency: 'USD',
      from: filters.from?.toISOString() ?? null,
      to: filters.to?.toISOString() ?? null,
      events: Number(row.events),
      cost_usd: usd(row.cost_usd),
      cost_ingested_usd: usd(row.cost_ingested_usd),
      partial_events: Number(row.partial_events),
      partial_cost_usd: usd(row.partial_cost_usd),
      unpriced_events: Number(row.unpriced_events),
      error_events: Number(row.error_events),
      images: Number(row.images),
      tokens: Object.fromEntries(TOKEN_KINDS.map((kind) => [kind, Number(row[`${kind}_tokens`])])),
    };
  }

  /**
   * One event, with the price version that priced it, the cost of each
   * billable unit (computed by libs/core's computeCost, as ingest and
   * restatements price), and the restatements that covered it.
   */
  /**
   * `withRestatementTotals`: a restatement's counts and totals are of every
   * project it re-priced, so a key limited to some projects gets them as null
   * (as month close under a project filter).
   */
  async detail(projectId: string, eventId: string, withRestatementTotals = true) {
    const row = await this.events.byKey(projectId, eventId);
    if (!row) throw DomainError.notFound(`Event ${JSON.stringify(eventId)} of project ${projectId}`);
    const stored = row.price_version_id ? await this.storedVersion(row.provider, row.price_version_id) : null;
    const breakdown = this.costBreakdown(row, stored);
    const notWhollyPriced = row.cost_ingested_usd === null || row.pricing !== 'priced' || row.restated;
    const restatements = await this.restatements.coveringEvent(row, notWhollyPriced);
    return {
      ...toEventView(row),
      price_version: stored ? versionView(stored) : null,
      ...(breakdown.discountPct ? { discount_pct_applied: breakdown.discountPct } : {}),
      cost_by_kind: breakdown.kinds,
      cost_per_image: breakdown.perImage,
      cost_per_request: breakdown.perRequest,
      cost_breakdown: breakdown.summary,
      restatements: restatements.map((r) => toRestatementView(r, withRestatementTotals)),
    };
  }

  /** The stored price version by id, through the pricing service (its table is pricing's). */
  private async storedVersion(provider: string, id: string): Promise<PriceVersion | null> {
    return (await this.pricing.history(provider, null)).find((v) => v.id === id) ?? null;
  }

  /**
   * Each unit's share of the event's cost. The sheet is the one that priced
   * it: the price book's version at the event's time when it is still the
   * version the event records (overrides laid over the list, later rates
   * filled in, a provider discount applied, as ingest priced), otherwise the
   * stored version's own prices. Each share is computeCost of that unit
   * alone; computeCost adds exact decimals with no rounding, so the shares
   * add up to the cost of the whole call. `exact` says whether that sum is
   * the stored cost to the digit (it is not when prices changed after the
   * event was priced and no restatement followed).
   */
  private costBreakdown(row: EventRow, stored: PriceVersion | null) {
    const usage = {} as TokenUsage;
    for (const kind of TOKEN_KINDS) usage[kind] = Number(row[`${kind}_tokens`]);
    const call = billableCall({
      usage,
      images: row.images,
      imageSize: row.image_size,
      imageQuality: row.image_quality,
      succeeded: row.status === 'ok',
    });
    const storedCost = row.cost_text === null ? null : Decimal.parse(row.cost_text);
    const inBook = row.price_version_id
      ? this.pricing.resolve(row.provider, row.model, Date.parse(row.occurred_at_iso))
      : null;
    const candidates = [inBook && inBook.id === row.price_version_id ? inBook : null, stored].filter(
      (v): v is PriceVersion => v !== null,
    );
    const reproduces = (sheet: PriceSheet) => {
      const result = computeCost(call, sheet);
      const cost = costOf(result);
      return (
        result.pricing === row.pricing &&
        (cost === null ? storedCost === null : storedCost !== null && cost.equals(storedCost))
      );
    };
    const version = candidates.find((v) => reproduces(v.sheet)) ?? candidates[0] ?? null;
    const sheet: PriceSheet | null = version?.sheet ?? null;
    const alone = (part: BillableCall): Decimal | null => (sheet ? costOf(computeCost(part, sheet)) : null);

    let total = Decimal.ZERO;
    const kinds = TOKEN_KINDS.map((kind) => {
      const tokens = usage[kind];
      const price = sheet ? priceOfKind(kind, sheet) : null;
      // computeCost bills nothing for a kind without tokens (and calls a call of nothing unpriced).
      const cost =
        tokens === 0 ? Decimal.ZERO : alone({ usage: { ...EMPTY_USAGE, [kind]: tokens }, images: 0, succeeded: false });
      if (cost) total = total.add(cost);
      return {
        kind,
        tokens,
        rate_per_million_usd: price ? price.perMillion.toFixedString(2) : null,
        priced_with: price?.unit ?? null,
        basis: price?.basis ?? null,
        cost_usd: cost === null ? null : formatUsd(cost),
      };
    });

    let perImage: {
      images: number;
      rate_usd: string | null;
      price_key: string | null;
      cost_usd: string | null;
    } | null = null;
    if (call.images > 0) {
      const price = sheet ? priceOfImage(sheet, call.imageQuality ?? null, call.imageSize ?? null) : null;
      const cost = alone({
        usage: EMPTY_USAGE,
        images: call.images,
        imageSize: call.imageSize,
        imageQuality: call.imageQuality,
        succeeded: false,
      });
      if (cost) total = total.add(cost);
      perImage = {
        images: call.images,
        rate_usd: price ? price.price.toFixedString(2) : null,
        price_key: price?.key ?? null,
        cost_usd: cost === null ? null : formatUsd(cost),
      };
    }
    let perRequest: { requests: number; rate_usd: string; cost_usd: string | null } | null = null;
    if (sheet?.per_request !== undefined && call.succeeded) {
      const cost = alone({ usage: EMPTY_USAGE, images: 0, succeeded: true });
      if (cost) total = total.add(cost);
      perRequest = {
        requests: 1,
        rate_usd: Decimal.parse(sheet.per_request).toFixedString(2),
        cost_usd: cost === null ? null : formatUsd(cost),
      };
    }

    // Unpriced: no unit with a quantity has a cost, as none had when it was priced.
    const nothingPriced =
      kinds.every((k) => k.tokens === 0 || k.cost_usd === null) && !perImage?.cost_usd && !perRequest?.cost_usd;
    const exact = storedCost === null ? nothingPriced : total.equals(storedCost);
    return {
      kinds,
      perImage,
      perRequest,
      discountPct: version?.appliedDiscountPct ?? null,
      summary: {
        total_usd: formatUsd(total),
        exact,
        prices_from: version === null ? null : version === inBook ? 'price_book' : 'stored_version',
        note: exact
          ? null
          : version === null
            ? 'No price version priced this event.'
            : 'Prices changed after this event was priced and it was not restated since: these shares use the prices of its version now, and do not add up to its cost.',
      },
    };
  }
}

/** A stored event as the list and the detail show it. */
function toEventView(row: EventRow) {
  const usage: Record<string, number> = {};
  for (const kind of TOKEN_KINDS) usage[`${kind}_tokens`] = Number(row[`${kind}_tokens`]);
  const dimensions: Record<string, string> = {};
  for (const [name, column] of [
    ['team', 'team'],
    ['user', 'user_id'],
    ['feature', 'feature'],
    ['environment', 'environment'],
  ] as const) {
    if (row[column]) dimensions[name] = row[column];
  }
  return {
    event_id: row.event_id,
    project_id: row.project_id,
    timestamp: row.occurred_at_iso,
    provider: row.provider,
    model: row.model,
    operation: row.operation,
    usage,
    images: row.images,
    image_size: row.image_size,
    image_quality: row.image_quality,
    status: row.status,
    latency_ms: row.latency_ms,
    dimensions,
    tags: row.tags,
    cost_usd: usd(row.cost_text),
    cost_ingested_usd: usd(row.cost_ingested_usd),
    provider_cost_usd: usd(row.provider_cost_usd),
    restated: row.restated,
    priced: row.priced,
    pricing: row.pricing,
    ...(row.pricing === 'priced'
      ? {}
      : {
          unpriced_kinds: row.unpriced_kinds ?? [],
          pricing_note: pricingNote({
            pricing: row.pricing,
            missing: row.unpriced_kinds,
            hasPrice: row.price_version_id !== null,
            provider: row.provider,
            model: row.model,
            imageSize: row.image_size,
            imageQuality: row.image_quality,
          }),
        }),
    price_version_id: row.price_version_id,
    received_at: new Date(row.received_at).toISOString(),
    // Set when the event arrived for a closed month: it is counted then, in the first open month (docs/finance.md).
    counted_at: row.booked_at ? new Date(row.booked_at).toISOString() : null,
  };
}
