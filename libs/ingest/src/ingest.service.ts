import { Inject, Injectable } from '@nestjs/common';
import {
  billableCall,
  costOf,
  Decimal,
  formatUsd,
  normalizeModelName,
  normalizeProviderSlug,
  pricingNote,
  PricingState,
  TOKEN_KINDS,
} from '@tokentally/core';
import { EventBus, TouchedScope } from '@tokentally/db';
import { PricingService } from '@tokentally/pricing';
import { UsageEventInput } from './dto/usage-event.dto';
import { UsageEventsRepository } from './ingest.sql';
import { EventToStore, IngestWriter } from './ingest-writer';
import { RestatementService } from './restatement.service';

export interface EventResult {
  event_id: string;
  status: 'accepted' | 'duplicate';
  /** Priced and partly priced events: the cost of the units that have rates. Unpriced: null. */
  cost_usd: string | null;
  /** v1 clients: true only when `pricing` is "priced". */
  priced: boolean;
  pricing: PricingState;
  /** Units with no rate (token kinds, `per_image`), for partial and unpriced events. */
  unpriced_kinds?: string[];
  /** Why the event is not wholly priced, in words. */
  pricing_note?: string;
}

interface PricedEvent {
  input: UsageEventInput;
  provider: string;
  model: string;
  /** The exact cost as stored, and as answered (at least 6 decimals). */
  cost: string | null;
  shownCost: string | null;
  pricing: PricingState;
  missing: string[];
  priceVersionId: string | null;
}

interface StoredPricing {
  /** As answered: at least 6 decimals, no digit dropped. */
  shownCost: string | null;
  pricing: PricingState;
  missing: string[];
  hasPrice: boolean;
}

/**
 * Stores usage events and their exact cost. The whole batch is one SQL
 * statement: committed with its rollup deltas, or not at all.
 */
@Injectable()
export class IngestService {
  constructor(
    @Inject(UsageEventsRepository) private readonly repository: UsageEventsRepository,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(RestatementService) private readonly restatements: RestatementService,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(IngestWriter) private readonly writer: IngestWriter,
  ) {}

  /** Results are in the order of `events`. */
  async ingest(projectId: string, events: UsageEventInput[]): Promise<EventResult[]> {
    const priced = events.map((event) => this.price(event));

    // The first occurrence of an event_id in a batch counts; later ones are duplicates.
    const unique = new Map<string, PricedEvent>();
    for (const event of priced) if (!unique.has(event.input.eventId)) unique.set(event.input.eventId, event);
    const rows = [...unique.values()];

    // Committed, with the rollup deltas, before this answers (maybe in one statement with other requests).
    const duplicates = await this.writer.write(projectId, rows.map(toStore));
    const inserted = new Set(rows.filter((row) => !duplicates.has(row.input.eventId)).map(idOf));

    if (inserted.size > 0)
      void this.events.signal('usage.ingested', { touched: touchedScopes(projectId, rows, inserted) });

    // The first event of a model without any price is worth telling someone about.
    const withoutPrice = new Map<string, { provider: string; model: string }>();
    for (const row of rows) {
      if (row.priceVersionId === null && inserted.has(row.input.eventId))
        withoutPrice.set(`${row.provider}/${row.model}`, row);
    }
    if (withoutPrice.size > 0) await this.restatements.noteUnpricedModels([...withoutPrice.values()]);

    const storedBefore = new Map<string, StoredPricing>();
    const replayed = rows.filter((row) => !inserted.has(row.input.eventId)).map(idOf);
    if (replayed.length > 0) {
      for (const row of await this.repository.storedCosts(projectId, replayed)) {
        storedBefore.set(row.event_id, {
          shownCost: row.cost_usd && formatUsd(Decimal.parse(row.cost_usd)),
          pricing: row.pricing,
          missing: row.unpriced_kinds ?? [],
          hasPrice: row.price_version_id !== null,
        });
      }
    }

    const answered = new Set<string>();
    return priced.map((event) => {
      const id = event.input.eventId;
      const first = !answered.has(id);
      answered.add(id);
      const accepted = first && inserted.has(id);
      // A duplicate answers what was stored the first time (maybe restated since), not this copy's price.
      const original = accepted ? pricedOf(event) : (storedBefore.get(id) ?? pricedOf(unique.get(id)!));
      return resultOf(id, accepted ? 'accepted' : 'duplicate', original, event);
    });
  }

  private price(input: UsageEventInput): PricedEvent {
    const provider = normalizeProviderSlug(input.provider);
    const model = normalizeModelName(input.model);
    const { version, result } = this.pricing.quote(
      provider,
      model,
      input.occurredAt,
      billableCall({
        usage: input.usage,
        images: input.images,
        imageSize: input.imageSize,
        imageQuality: input.imageQuality,
        succeeded: input.status === 'ok',
      }),
    );
    const cost = costOf(result);
    return {
      input,
      provider,
      model,
      cost: cost && cost.toFixedString(),
      shownCost: cost && formatUsd(cost),
      pricing: result.pricing,
      missing: result.pricing === 'priced' ? [] : result.missing,
      priceVersionId: version?.id ?? null,
    };
  }
}

function pricedOf(event: PricedEvent): StoredPricing {
  return {
    shownCost: event.shownCost,
    pricing: event.pricing,
    missing: event.missing,
    hasPrice: event.priceVersionId !== null,
  };
}

function resultOf(
  eventId: string,
  status: EventResult['status'],
  stored: StoredPricing,
  event: PricedEvent,
): EventResult {
  const result: EventResult = {
    event_id: eventId,
    status,
    cost_usd: stored.shownCost,
    priced: stored.pricing === 'priced',
    pricing: stored.pricing,
  };
  if (stored.pricing !== 'priced') {
    result.unpriced_kinds = stored.missing;
    const note = pricingNote({
      pricing: stored.pricing,
      missing: stored.missing,
      hasPrice: stored.hasPrice,
      provider: event.provider,
      model: event.model,
      imageSize: event.input.imageSize,
      imageQuality: event.input.imageQuality,
    });
    if (note) result.pricing_note = note;
  }
  return result;
}

const idOf = (row: PricedEvent) => row.input.eventId;

/** An event's row, in the column order of SQL.insertEvents (ingest.sql.ts) after project_id. */
function toStore(row: PricedEvent): EventToStore {
  const e = row.input;
  const u = e.usage;
  return {
    eventId: e.eventId,
    timestamp: e.timestamp,
    values: [
      e.eventId,
      e.timestamp,
      row.provider,
      row.model,
      e.operation,
      // TOKEN_KINDS order
      ...TOKEN_KINDS.map((kind) => u[kind]),
      e.images,
      e.imageSize,
      e.imageQuality,
      e.status,
      e.latencyMs,
      e.team,
      e.user,
      e.feature,
      e.environment,
      JSON.stringify(e.tags),
      row.cost,
      row.pricing,
      row.missing.length > 0 ? row.missing.join(',') : null,
      row.priceVersionId,
      e.providerCostUsd,
    ],
  };
}

/** The dimensions of the events just stored (budget evaluation keeps their distinct values). */
function touchedScopes(projectId: string, rows: PricedEvent[], inserted: Set<string>): TouchedScope[] {
  return rows
    .filter((row) => inserted.has(row.input.eventId))
    .map(({ input, provider, model }) => ({
      provider,
      model,
      project: projectId,
      team: input.team,
      user: input.user,
      feature: input.feature,
      environment: input.environment,
      tags: input.tags,
    }));
}
