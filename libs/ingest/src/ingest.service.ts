import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Decimal, formatUsd, normalizeModelName, normalizeProviderSlug, TOKEN_KINDS } from '@tokentally/core';
import { Database, EventBus, TouchedScope } from '@tokentally/db';
import { PricingService } from '@tokentally/pricing';
import { UsageEventInput } from './dto/usage-event.dto';
import { SQL } from './ingest.sql';
import { RestatementService } from './restatement.service';

export interface EventResult {
  event_id: string;
  status: 'accepted' | 'duplicate';
  cost_usd: string | null;
  priced: boolean;
}

interface PricedEvent {
  input: UsageEventInput;
  provider: string;
  model: string;
  cost: string | null;
  priceVersionId: string | null;
}

/**
 * Stores usage events and their exact cost. The whole batch is one SQL
 * statement: committed with its rollup deltas, or not at all.
 */
@Injectable()
export class IngestService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(Database) private readonly database: Database,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(RestatementService) private readonly restatements: RestatementService,
    @Inject(EventBus) private readonly events: EventBus,
  ) {}

  /** Results are in the order of `events`. */
  async ingest(projectId: string, events: UsageEventInput[]): Promise<EventResult[]> {
    const priced = events.map((event) => this.price(event));

    // The first occurrence of an event_id in a batch counts; later ones are duplicates.
    const unique = new Map<string, PricedEvent>();
    for (const event of priced) if (!unique.has(event.input.eventId)) unique.set(event.input.eventId, event);
    // Rows are inserted in event_id order so that two batches sharing ids wait
    // on each other in the same order and never deadlock.
    const rows = [...unique.values()].sort((a, b) => (a.input.eventId < b.input.eventId ? -1 : a.input.eventId > b.input.eventId ? 1 : 0));

    const inserted = new Set<string>(
      (await this.database.queryPrepared<{ event_id: string }>('tt_insert_events', SQL.insertEvents, [projectId, ...columnsOf(rows)])).map(
        (row) => row.event_id,
      ),
    );

    if (inserted.size > 0) void this.events.signal('usage.ingested', { touched: touchedScopes(projectId, rows, inserted) });

    // The first event of a model without any price is worth telling someone about.
    const withoutPrice = new Map<string, { provider: string; model: string }>();
    for (const row of rows) {
      if (row.priceVersionId === null && inserted.has(row.input.eventId)) withoutPrice.set(`${row.provider}/${row.model}`, row);
    }
    if (withoutPrice.size > 0) await this.restatements.noteUnpricedModels([...withoutPrice.values()]);

    const stored = new Map<string, { cost: string | null; priced: boolean }>();
    const replayed = rows.filter((row) => !inserted.has(row.input.eventId)).map((row) => row.input.eventId);
    if (replayed.length > 0) {
      for (const row of await this.db.query(SQL.storedCosts, [projectId, replayed])) {
        stored.set(row.event_id, { cost: row.cost_usd, priced: row.priced });
      }
    }

    const answered = new Set<string>();
    return priced.map((event) => {
      const id = event.input.eventId;
      const first = !answered.has(id);
      answered.add(id);
      if (first && inserted.has(id)) {
        return { event_id: id, status: 'accepted', cost_usd: event.cost && formatMoney(event.cost), priced: event.cost !== null };
      }
      const original = stored.get(id) ?? { cost: unique.get(id)!.cost, priced: unique.get(id)!.cost !== null };
      return { event_id: id, status: 'duplicate', cost_usd: original.cost && formatMoney(original.cost), priced: original.priced };
    });
  }

  private price(input: UsageEventInput): PricedEvent {
    const provider = normalizeProviderSlug(input.provider);
    const model = normalizeModelName(input.model);
    const { version, result } = this.pricing.quote(provider, model, input.occurredAt, {
      usage: input.usage,
      images: input.images,
      succeeded: input.status === 'ok',
    });
    return {
      input,
      provider,
      model,
      cost: result.priced ? result.cost.toFixedString() : null,
      priceVersionId: version?.id ?? null,
    };
  }
}

/** Stored numerics come back as strings; show at least 6 decimals and drop no digit. */
function formatMoney(value: string): string {
  return formatUsd(Decimal.parse(value));
}

/** The batch as one array per column, in the order of SQL.insertEvents. */
function columnsOf(rows: PricedEvent[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 24 }, () => new Array(rows.length));
  rows.forEach((row, i) => {
    const e = row.input;
    let c = 0;
    columns[c++][i] = e.eventId;
    columns[c++][i] = e.timestamp;
    columns[c++][i] = row.provider;
    columns[c++][i] = row.model;
    columns[c++][i] = e.operation;
    for (const kind of TOKEN_KINDS) columns[c++][i] = e.usage[kind];
    columns[c++][i] = e.images;
    columns[c++][i] = e.imageSize;
    columns[c++][i] = e.imageQuality;
    columns[c++][i] = e.status;
    columns[c++][i] = e.latencyMs;
    columns[c++][i] = e.team;
    columns[c++][i] = e.user;
    columns[c++][i] = e.feature;
    columns[c++][i] = e.environment;
    columns[c++][i] = JSON.stringify(e.tags);
    columns[c++][i] = row.cost;
    columns[c++][i] = row.cost !== null;
    columns[c++][i] = row.priceVersionId;
  });
  return columns;
}

/** The dimensions of the events just stored (budget evaluation keeps their distinct values). */
function touchedScopes(projectId: string, rows: PricedEvent[], inserted: Set<string>): TouchedScope[] {
  return rows
    .filter((row) => inserted.has(row.input.eventId))
    .map(({ input, provider, model }) => ({ provider, model, project: projectId, team: input.team, user: input.user, feature: input.feature, environment: input.environment, tags: input.tags }));
}
