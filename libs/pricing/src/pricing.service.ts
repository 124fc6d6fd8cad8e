import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  ANY_MODEL,
  BillableCall,
  computeCost,
  CostResult,
  Decimal,
  diffSheets,
  PRICE_UNITS,
  PriceBook,
  PriceChange,
  PriceSheet,
  PriceVersion,
  PriceVersionKind,
  ratesOf,
} from '@tokentally/core';
import { DomainError } from '@tokentally/common';
import { EventBus } from '@tokentally/db';
import catalog from './catalog/builtin-prices.json';
import { NewVersion, PriceVersionRow, PriceVersionsRepository } from './pricing.sql';

export type { NewVersion } from './pricing.sql';

export const BUILTIN_SOURCE = 'catalog';

/** Other replicas may change prices; each process re-reads the price book this often. */
const RELOAD_EVERY_MS = 30_000;

export interface Quote {
  version: PriceVersion | null;
  result: CostResult;
}

/** A price version as stored: the price book's version and where its price comes from. */
export interface StoredPriceVersion extends PriceVersion {
  /** price_versions.source_ref: the catalog entry's source, the key a pull read; null for overrides. */
  sourceRef: string | null;
}

interface CatalogEntry {
  provider: string;
  model: string;
  effective_from: string;
  source_ref: string;
  prices: PriceSheet;
  /** Why this entry, not LiteLLM's file, speaks for its model in a pull (LiteLLM's figures are known wrong). */
  over_litellm?: string;
}

/**
 * The price book: every price version, held in memory for ingest, which
 * prices each event by the version in effect at the event's time. Versions
 * are added, never overwritten; the previous one closes where the next starts.
 */
@Injectable()
export class PricingService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PricingService.name);
  private book = new PriceBook([]);
  private versions: StoredPriceVersion[] = [];
  private reloadTimer: NodeJS.Timeout | null = null;

  constructor(
    // Transactions only: the statements are the repository's.
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(PriceVersionsRepository) private readonly repository: PriceVersionsRepository,
    @Inject(EventBus) private readonly events: EventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.loadBuiltinCatalog();
    await this.reload();
    this.reloadTimer = setInterval(() => {
      this.reload().catch((error) => this.logger.warn(`price book reload failed: ${error}`));
    }, RELOAD_EVERY_MS);
    this.reloadTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.reloadTimer) clearInterval(this.reloadTimer);
  }

  /** Prices one call with the version in effect for its provider and model at `at`. */
  quote(provider: string, model: string, at: number, call: BillableCall): Quote {
    const version = this.book.resolve(provider, model, at);
    if (!version) return { version: null, result: { pricing: 'unpriced', priced: false, missing: [] } };
    return { version, result: computeCost(call, version.sheet) };
  }

  /** The version that prices (provider, model) at `at`, discounts applied. */
  resolve(provider: string, model: string, at: number): PriceVersion | null {
    return this.book.resolve(provider, model, at);
  }

  /** Versions in effect now, one per provider, model and kind. */
  currentVersions(now = Date.now()): StoredPriceVersion[] {
    return this.versions
      .filter((v) => v.effectiveFrom <= now && (v.effectiveTo === null || now < v.effectiveTo))
      .sort(
        (a, b) =>
          a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model) || a.kind.localeCompare(b.kind),
      );
  }

  /** The list version in effect now for (provider, model), if any. */
  currentListVersion(provider: string, model: string, now = Date.now()): StoredPriceVersion | null {
    return (
      this.currentVersions(now).find((v) => v.kind === 'list' && v.provider === provider && v.model === model) ?? null
    );
  }

  /** Every instant at which some price starts or ends: between two of them, every price is constant. */
  priceChangeInstants(): Date[] {
    const instants = new Set<number>();
    for (const v of this.versions) {
      instants.add(v.effectiveFrom);
      if (v.effectiveTo !== null) instants.add(v.effectiveTo);
    }
    return [...instants].sort((a, b) => a - b).map((t) => new Date(t));
  }

  /** Overrides and discounts that apply now or will. */
  activeOverrides(now = Date.now()): StoredPriceVersion[] {
    return this.versions.filter((v) => v.kind !== 'list' && (v.effectiveTo === null || v.effectiveTo > now));
  }

  async history(provider: string | null, model: string | null): Promise<StoredPriceVersion[]> {
    return (await this.repository.history(provider, model)).map(toPriceVersion);
  }

  async reload(): Promise<void> {
    this.versions = (await this.repository.all()).map(toPriceVersion);
    this.book = new PriceBook(this.versions);
  }

  /**
   * Adds a version in the caller's transaction and closes the one before it.
   * Records `pricing.updated`. Call `pricesChanged()` after the commit.
   */
  async addVersion(manager: EntityManager, version: NewVersion, changes: PriceChange[]): Promise<string> {
    const id = await this.repository.insert(manager, version);
    await this.repository.rechain(manager, version.provider, version.model, version.kind);
    await this.events.record(manager, 'pricing.updated', {
      provider: version.provider,
      model: version.model,
      kind: version.kind,
      source: version.source,
      version_id: id,
      effective_from: version.effectiveFrom.toISOString(),
      changes,
      discount_pct: version.discountPct ?? null,
      pending: false,
    });
    return id;
  }

  /** After a committed price change: reload, and let other modules re-price unpriced events. */
  async pricesChanged(): Promise<void> {
    await this.reload();
    await this.events.signal('prices.changed');
  }

  /** A negotiated price for a provider and model, or a percentage off a whole provider, from a date. */
  async setOverride(input: {
    provider: string;
    model: string | null;
    prices?: PriceSheet;
    discountPct?: string;
    effectiveFrom: Date;
    actor: string;
  }) {
    const kind: PriceVersionKind = input.discountPct ? 'discount' : 'override';
    const model = kind === 'discount' ? ANY_MODEL : input.model!;
    const sheet = kind === 'discount' ? {} : input.prices!;
    await this.reload();
    // One version per provider, model, kind and start (price_versions_start_key): a second one is a 409, not a 500.
    const sameStart = () =>
      this.versions.find(
        (v) =>
          v.kind === kind &&
          v.provider === input.provider &&
          v.model === model &&
          v.effectiveFrom === input.effectiveFrom.getTime(),
      );
    const conflict = () => {
      const at = input.effectiveFrom.toISOString();
      const what =
        kind === 'discount' ? `A discount of provider ${input.provider}` : `An override of ${input.provider}/${model}`;
      const existing = sameStart();
      return new DomainError(
        'conflict',
        `${what} already starts at ${at}; choose another effective_from (a later one takes over from its start).`,
        [
          {
            path: 'effective_from',
            message: `${kind === 'discount' ? 'a discount of this provider' : 'an override of this provider and model'} already starts at this instant (${at})`,
          },
        ],
        existing ? { existing_id: existing.id } : {},
      );
    };
    if (sameStart()) throw conflict();
    const previous = this.versions.find(
      (v) =>
        v.kind === kind &&
        v.provider === input.provider &&
        v.model === model &&
        (v.effectiveTo === null || v.effectiveTo > input.effectiveFrom.getTime()),
    );
    let id: string;
    try {
      id = await this.db.transaction((manager) =>
        this.addVersion(
          manager,
          {
            provider: input.provider,
            model,
            kind,
            source: 'override',
            sourceRef: null,
            effectiveFrom: input.effectiveFrom,
            sheet,
            discountPct: input.discountPct ?? null,
            createdBy: input.actor,
          },
          diffSheets(previous?.sheet ?? null, sheet),
        ),
      );
    } catch (error) {
      // Another request (or replica) added the same start between the check and the insert.
      const driver = (error as { driverError?: { code?: string; constraint?: string; message?: string } }).driverError;
      if (
        driver?.code === '23505' &&
        (driver.constraint ?? driver.message ?? '').includes('price_versions_start_key')
      ) {
        await this.reload();
        throw conflict();
      }
      throw error;
    }
    await this.pricesChanged();
    return this.versions.find((v) => v.id === id)!;
  }

  /** Ends an override or discount now (or removes one that has not started). */
  async endOverride(id: string): Promise<void> {
    if (!(await this.repository.endOverride(id))) {
      if (!(await this.repository.overrideExists(id))) throw DomainError.notFound(`Override ${id}`);
    }
    await this.pricesChanged();
  }

  /** Loads the catalog shipped in the repo; running it again changes nothing. */
  async loadBuiltinCatalog(): Promise<void> {
    for (const entry of catalogEntries()) {
      await this.db.transaction(async (manager) => {
        const inserted = await this.repository.insertListIfAbsent(manager, {
          provider: entry.provider,
          model: entry.model,
          source: BUILTIN_SOURCE,
          sourceRef: entry.source_ref,
          effectiveFrom: entry.effective_from,
          sheet: entry.prices,
        });
        if (inserted) {
          await this.repository.rechain(manager, entry.provider, entry.model, 'list');
          this.logger.log(`catalog price loaded: ${entry.provider}/${entry.model} from ${entry.effective_from}`);
        }
      });
    }
  }
}

/** The catalog entries that speak for their model over LiteLLM's file in a pull, with the reason. */
export function catalogOverLiteLLM(): Map<string, string> {
  return new Map(
    catalogEntries()
      .filter((entry) => typeof entry.over_litellm === 'string' && entry.over_litellm.length > 0)
      .map((entry) => [`${entry.provider}\u0000${entry.model}`, entry.over_litellm!]),
  );
}

/** The built-in catalog's entries, checked. */
export function catalogEntries(): CatalogEntry[] {
  const entries = (catalog as { entries: CatalogEntry[] }).entries;
  for (const entry of entries) {
    for (const [unit, value] of ratesOf(entry.prices)) {
      const known = (PRICE_UNITS as readonly string[]).includes(unit) || unit.startsWith('image_prices.');
      if (!known || !Decimal.isDecimalString(String(value))) {
        throw new Error(`built-in catalog: bad price ${unit}=${value} for ${entry.provider}/${entry.model}`);
      }
    }
  }
  return entries;
}

export function toPriceVersion(row: PriceVersionRow): StoredPriceVersion {
  const sheet: PriceSheet = {};
  for (const unit of PRICE_UNITS) {
    if (row[unit] !== null && row[unit] !== undefined) sheet[unit] = String(row[unit]);
  }
  if (row.image_prices && typeof row.image_prices === 'object') sheet.image_prices = { ...row.image_prices };
  return {
    id: String(row.id),
    provider: String(row.provider),
    model: String(row.model),
    kind: row.kind,
    source: String(row.source),
    sourceRef: row.source_ref === null || row.source_ref === undefined ? null : String(row.source_ref),
    effectiveFrom: new Date(row.effective_from).getTime(),
    effectiveTo: row.effective_to ? new Date(row.effective_to).getTime() : null,
    sheet,
    rateSources: row.rate_sources ?? null,
    discountPct: row.discount_pct === null || row.discount_pct === undefined ? null : String(row.discount_pct),
  };
}
