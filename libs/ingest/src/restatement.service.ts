import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Decimal, formatUsd, priceOfKind, TOKEN_KINDS, TokenUsage } from '@tokentally/core';
import { EventBus } from '@tokentally/db';
import { PricingService } from '@tokentally/pricing';
import { RESTATEMENT_SQL as SQL } from './restatement.sql';

const PAGE = 1000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

interface StoredEvent {
  project_id: string;
  event_id: string;
  occurred_at: Date;
  provider: string;
  model: string;
  status: string;
  images: number;
  cost_usd: string | null;
  priced: boolean;
  [tokens: string]: unknown;
}

interface Totals {
  examined: number;
  changed: number;
  before: Decimal;
  after: Decimal;
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
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(EventBus) private readonly events: EventBus,
  ) {}

  onModuleInit(): void {
    // As soon as a price exists for events stored unpriced, they are priced.
    this.events.on('prices.changed', () => this.repriceUnpriced().then(() => undefined));
  }

  /** Prices every unpriced event that the price book can now price. */
  repriceUnpriced(): Promise<Record<string, unknown> | null> {
    const run = (this.unpricedRun ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        const totals = emptyTotals();
        let after: [string, string] = [NIL_UUID, ''];
        for (;;) {
          const page: StoredEvent[] = await this.db.query(SQL.unpricedPage, [after[0], after[1], PAGE]);
          if (page.length === 0) break;
          await this.restatePage(page, totals);
          const last = page[page.length - 1];
          after = [last.project_id, last.event_id];
        }
        if (totals.changed === 0) return null;
        this.logger.log(`priced ${totals.changed} events stored unpriced`);
        return this.record('new_price', null, {}, totals);
      });
    this.unpricedRun = run;
    return run;
  }

  /** POST /v1/pricing/reprice: every event of the range, with the versions in effect at its time. */
  async repriceRange(range: { from: Date; to: Date; provider?: string; model?: string }, actor: string): Promise<Record<string, unknown>> {
    const totals = emptyTotals();
    let after: [Date, string, string] = [new Date(0), NIL_UUID, ''];
    for (;;) {
      const page: StoredEvent[] = await this.db.query(SQL.rangePage, [range.from, range.to, range.provider ?? null, range.model ?? null, ...after, PAGE]);
      if (page.length === 0) break;
      await this.restatePage(page, totals);
      const last = page[page.length - 1];
      after = [last.occurred_at, last.project_id, last.event_id];
    }
    return this.record('manual', actor, range, totals);
  }

  async list(limit = 100): Promise<Array<Record<string, unknown>>> {
    return (await this.db.query(SQL.restatements, [limit])).map(toRestatementView);
  }

  /** Called by ingest with the events it stored unpriced: the first sighting of a model is an event. */
  async noteUnpricedModels(models: Array<{ provider: string; model: string }>): Promise<void> {
    if (models.length === 0) return;
    await this.db.transaction(async (manager: EntityManager) => {
      const fresh = await manager.query(SQL.newUnpricedModels, [models.map((m) => m.provider), models.map((m) => m.model)]);
      for (const row of fresh) {
        await this.events.record(manager, 'model.unpriced', { provider: row.provider, model: row.model, first_seen_at: new Date(row.first_seen_at).toISOString() });
      }
    });
  }

  /** Token kinds used in a period that have no price of their own for their provider and model now. */
  fallbackKinds(rows: Array<Record<string, string>>): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const row of rows) {
      const version = this.pricing.resolve(row.provider, row.model, Date.now());
      if (!version) continue;
      for (const kind of TOKEN_KINDS) {
        if (BigInt(row[kind] ?? 0) === 0n) continue;
        const price = priceOfKind(kind, version.sheet);
        if (price && price.basis !== 'own') {
          out.push({ provider: row.provider, model: row.model, kind, tokens: Number(row[kind]), priced_with: price.unit, basis: price.basis });
        }
      }
    }
    return out;
  }

  private async restatePage(page: StoredEvent[], totals: Totals): Promise<void> {
    const changes: Array<[string, string, string | null, string | null]> = [];
    for (const event of page) {
      totals.examined++;
      const usage = {} as TokenUsage;
      for (const kind of TOKEN_KINDS) usage[kind] = Number(event[`${kind}_tokens`]);
      const { version, result } = this.pricing.quote(event.provider, event.model, new Date(event.occurred_at).getTime(), {
        usage,
        images: event.images,
        succeeded: event.status === 'ok',
      });
      const before = event.cost_usd === null ? null : Decimal.parse(event.cost_usd);
      const after = result.priced ? result.cost : null;
      if (before) totals.before = totals.before.add(before);
      if (after) totals.after = totals.after.add(after);
      const same = before === null ? after === null : after !== null && before.equals(after);
      if (!same) changes.push([event.project_id, event.event_id, after && after.toFixedString(), version?.id ?? null]);
    }
    if (changes.length === 0) return;
    totals.changed += await this.db.transaction(async (manager) => {
      await manager.query(SQL.restatementLock);
      const [{ changed }] = await manager.query(SQL.applyCosts, [
        changes.map((c) => c[0]),
        changes.map((c) => c[1]),
        changes.map((c) => c[2]),
        changes.map((c) => c[3]),
      ]);
      return changed as number;
    });
  }

  private async record(reason: 'new_price' | 'manual', actor: string | null, range: { from?: Date; to?: Date; provider?: string; model?: string }, totals: Totals) {
    const [row] = await this.db.query(SQL.insertRestatement, [
      reason,
      actor,
      range.from ?? null,
      range.to ?? null,
      range.provider ?? null,
      range.model ?? null,
      totals.examined,
      totals.changed,
      totals.before.toFixedString(),
      totals.after.toFixedString(),
    ]);
    return toRestatementView(row);
  }
}

function emptyTotals(): Totals {
  return { examined: 0, changed: 0, before: Decimal.ZERO, after: Decimal.ZERO };
}

function toRestatementView(row: Record<string, any>): Record<string, unknown> {
  return {
    id: row.id,
    reason: row.reason,
    requested_by: row.requested_by,
    created_at: new Date(row.created_at).toISOString(),
    from: row.range_from && new Date(row.range_from).toISOString(),
    to: row.range_to && new Date(row.range_to).toISOString(),
    provider: row.provider,
    model: row.model,
    events_examined: row.events_examined,
    events_changed: row.events_changed,
    total_before_usd: formatUsd(Decimal.parse(row.total_before_usd)),
    total_after_usd: formatUsd(Decimal.parse(row.total_after_usd)),
  };
}
