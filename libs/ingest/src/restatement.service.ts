import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  billableCall,
  costOf,
  Decimal,
  formatUsd,
  priceOfKind,
  PricingState,
  ratesOf,
  TOKEN_KINDS,
  TokenUsage,
} from '@tokentally/core';
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
  image_size: string | null;
  image_quality: string | null;
  cost_usd: string | null;
  pricing: PricingState;
  unpriced_kinds: string[] | null;
  [tokens: string]: unknown;
}

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
  ): Promise<Record<string, unknown>> {
    const totals = emptyTotals();
    let after: [Date, string, string] = [new Date(0), NIL_UUID, ''];
    for (;;) {
      const page: StoredEvent[] = await this.db.query(SQL.rangePage, [
        range.from,
        range.to,
        range.provider ?? null,
        range.model ?? null,
        ...after,
        PAGE,
      ]);
      if (page.length === 0) break;
      await this.restatePage(page, totals);
      const last = page[page.length - 1];
      after = [last.occurred_at, last.project_id, last.event_id];
    }
    return this.record('manual', actor, range, totals);
  }

  async list(limit = 100): Promise<Array<Record<string, unknown>>> {
    return (await this.db.query(SQL.restatements, [limit])).map((row: Record<string, any>) => toRestatementView(row));
  }

  /** Called by ingest with the events it stored unpriced: the first sighting of a model is an event. */
  async noteUnpricedModels(models: Array<{ provider: string; model: string }>): Promise<void> {
    if (models.length === 0) return;
    await this.db.transaction(async (manager: EntityManager) => {
      const fresh = await manager.query(SQL.newUnpricedModels, [
        models.map((m) => m.provider),
        models.map((m) => m.model),
      ]);
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
  fallbackKinds(rows: Array<Record<string, string>>): Array<Record<string, unknown>> {
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
  rateSources(rows: Array<Record<string, string>>) {
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

  private async restatePage(page: StoredEvent[], totals: Totals): Promise<void> {
    const changes: Array<{
      projectId: string;
      eventId: string;
      cost: string | null;
      versionId: string | null;
      pricing: PricingState;
      missing: string | null;
    }> = [];
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
      if (before) totals.before = totals.before.add(before);
      if (after) totals.after = totals.after.add(after);
      const missing = result.pricing === 'priced' ? null : result.missing.join(',') || null;
      const sameCost = before === null ? after === null : after !== null && before.equals(after);
      const same =
        sameCost && event.pricing === result.pricing && (event.unpriced_kinds?.join(',') || null) === missing;
      if (!same) {
        changes.push({
          projectId: event.project_id,
          eventId: event.event_id,
          cost: after && after.toFixedString(),
          versionId: version?.id ?? null,
          pricing: result.pricing,
          missing,
        });
        const at = new Date(event.occurred_at).getTime();
        totals.firstChanged = Math.min(totals.firstChanged ?? at, at);
        totals.lastChanged = Math.max(totals.lastChanged ?? at, at);
        (totals.providers ??= new Set()).add(event.provider);
        (totals.models ??= new Set()).add(event.model);
      }
    }
    if (changes.length === 0) return;
    totals.changed += await this.db.transaction(async (manager) => {
      await manager.query(SQL.restatementLock);
      const [{ changed }] = await manager.query(SQL.applyCosts, [
        changes.map((c) => c.projectId),
        changes.map((c) => c.eventId),
        changes.map((c) => c.cost),
        changes.map((c) => c.versionId),
        changes.map((c) => c.pricing),
        changes.map((c) => c.missing),
      ]);
      return changed as number;
    });
  }

  private async record(
    reason: 'new_price' | 'manual',
    actor: string | null,
    range: { from?: Date; to?: Date; provider?: string; model?: string },
    totals: Totals,
  ) {
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

/**
 * A restatement as the API shows it. Its counts and totals are of every
 * project it re-priced: `withTotals` false (a key limited to some projects)
 * gives them as null.
 */
export function toRestatementView(row: Record<string, any>, withTotals = true): Record<string, unknown> {
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
