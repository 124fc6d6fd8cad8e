import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  BillableCall,
  computeCost,
  CostResult,
  Decimal,
  PRICE_UNITS,
  PriceBook,
  PriceSheet,
  PriceVersion,
  PriceVersionKind,
} from '@tokentally/core';
import catalog from './catalog/builtin-prices.json';
import { SQL } from './pricing.sql';

export const BUILTIN_SOURCE = 'catalog';

/** Other replicas may change prices; each process re-reads the price book this often. */
const RELOAD_EVERY_MS = 30_000;

export interface Quote {
  version: PriceVersion | null;
  result: CostResult;
}

interface CatalogEntry {
  provider: string;
  model: string;
  effective_from: string;
  source_ref: string;
  prices: PriceSheet;
}

/**
 * The price book: every price version, held in memory for ingest, which
 * prices each event by the version in effect at the event's time.
 */
@Injectable()
export class PricingService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PricingService.name);
  private book = new PriceBook([]);
  private versions: PriceVersion[] = [];
  private reloadTimer: NodeJS.Timeout | null = null;

  constructor(@Inject(DataSource) private readonly db: DataSource) {}

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
    if (!version) return { version: null, result: { priced: false, missing: [] } };
    return { version, result: computeCost(call, version.sheet) };
  }

  /** The versions in effect now, one per provider, model and kind. */
  currentVersions(now = Date.now()): PriceVersion[] {
    return this.versions
      .filter((v) => v.effectiveFrom <= now && (v.effectiveTo === null || now < v.effectiveTo))
      .sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model) || a.kind.localeCompare(b.kind));
  }

  async reload(): Promise<void> {
    const rows: Array<Record<string, unknown>> = await this.db.query(SQL.allVersions);
    this.versions = rows.map(toPriceVersion);
    this.book = new PriceBook(this.versions);
  }

  /** Loads the catalog shipped in the repo; running it again changes nothing. */
  async loadBuiltinCatalog(): Promise<void> {
    const entries = (catalog as { entries: CatalogEntry[] }).entries;
    for (const entry of entries) {
      for (const [unit, value] of Object.entries(entry.prices)) {
        if (!(PRICE_UNITS as readonly string[]).includes(unit) || !Decimal.isDecimalString(String(value))) {
          throw new Error(`built-in catalog: bad price ${unit}=${value} for ${entry.provider}/${entry.model}`);
        }
      }
      await this.db.transaction(async (manager) => {
        const inserted = await manager.query(SQL.insertVersionIfAbsent, [
          entry.provider,
          entry.model,
          'list',
          BUILTIN_SOURCE,
          entry.source_ref,
          entry.effective_from,
          ...PRICE_UNITS.map((unit) => entry.prices[unit] ?? null),
        ]);
        if (inserted.length > 0) {
          await manager.query(SQL.rechainVersions, [entry.provider, entry.model, 'list']);
          this.logger.log(`catalog price loaded: ${entry.provider}/${entry.model} from ${entry.effective_from}`);
        }
      });
    }
  }
}

function toPriceVersion(row: Record<string, unknown>): PriceVersion {
  const sheet: PriceSheet = {};
  for (const unit of PRICE_UNITS) {
    if (row[unit] !== null && row[unit] !== undefined) sheet[unit] = String(row[unit]);
  }
  return {
    id: String(row.id),
    provider: String(row.provider),
    model: String(row.model),
    kind: row.kind as PriceVersionKind,
    source: String(row.source),
    effectiveFrom: new Date(row.effective_from as Date).getTime(),
    effectiveTo: row.effective_to ? new Date(row.effective_to as Date).getTime() : null,
    sheet,
  };
}
