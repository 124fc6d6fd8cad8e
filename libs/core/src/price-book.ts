import { Decimal } from './decimal';
import { overlaySheet, PriceSheet, ratesOf, sheetOf } from './price-sheet';
import { modelWithoutSnapshot } from './model-names';

export type PriceVersionKind = 'list' | 'override' | 'discount';

/** Provider-wide discounts apply to every model of the provider: their model is '*'. */
export const ANY_MODEL = '*';

export interface PriceVersion {
  id: string;
  provider: string;
  model: string;
  kind: PriceVersionKind;
  source: string;
  /** Epoch milliseconds; a version applies from `effectiveFrom` up to, not including, `effectiveTo`. */
  effectiveFrom: number;
  effectiveTo: number | null;
  sheet: PriceSheet;
  /** Which source gave each rate (named as `ratesOf` names them), when the version merges several. */
  rateSources?: Record<string, string> | null;
  /** For kind 'discount': percent off every list price of the provider. */
  discountPct?: string | null;
  /** Set on a resolved version when a provider discount was applied to it. */
  appliedDiscountPct?: string;
}

/**
 * All price versions, indexed for resolution by provider, model and time.
 * An override in effect beats the list price for the units it prices (the
 * list prices the others); an event older than the first list version of its
 * model is priced with that first version. A unit that a list version lacks
 * is priced as the next version that has it prices it: a rate that arrives
 * late (a text-output rate, a per-image price) prices the calls made before
 * it too, exactly as an event older than the first version is priced.
 */
export class PriceBook {
  private readonly byModel = new Map<
    string,
    { list: PriceVersion[]; override: PriceVersion[]; discount: PriceVersion[] }
  >();

  constructor(versions: Iterable<PriceVersion>) {
    for (const version of versions) {
      const key = PriceBook.key(version.provider, version.kind === 'discount' ? ANY_MODEL : version.model);
      let entry = this.byModel.get(key);
      if (!entry) this.byModel.set(key, (entry = { list: [], override: [], discount: [] }));
      entry[version.kind].push(version);
    }
    for (const entry of this.byModel.values()) {
      for (const list of [entry.list, entry.override, entry.discount])
        list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
      entry.list = withLaterRates(entry.list);
    }
  }

  /**
   * The version that prices (provider, model) at `at`. A dated snapshot
   * (`gpt-image-2-2026-04-21`) is priced by its own versions where one is in
   * effect, otherwise by its base model's version in effect then; only an
   * event older than every version falls back to the earliest one.
   */
  resolve(provider: string, model: string, at: number): PriceVersion | null {
    const base = modelWithoutSnapshot(model);
    return (
      this.resolveModel(provider, model, at, false) ??
      (base ? this.resolveModel(provider, base, at, false) : null) ??
      this.resolveModel(provider, model, at, true) ??
      (base ? this.resolveModel(provider, base, at, true) : null)
    );
  }

  private resolveModel(provider: string, model: string, at: number, earliestIfBefore: boolean): PriceVersion | null {
    const entry = this.byModel.get(PriceBook.key(provider, model));
    if (!entry) return null;
    const override = findInEffect(entry.override, at);
    // Under an override, a time before the first list version takes that first version, as an event does:
    // an override backdated before the model's first list price still prices only the units it names.
    const beforeFirst =
      (earliestIfBefore || override !== null) && entry.list.length > 0 && at < entry.list[0].effectiveFrom;
    const listInEffect =
      entry.list.length === 0 ? null : (findInEffect(entry.list, at) ?? (beforeFirst ? entry.list[0] : null));
    const discount = findInEffect(this.byModel.get(PriceBook.key(provider, ANY_MODEL))?.discount ?? [], at);
    const list =
      listInEffect && discount?.discountPct ? applyDiscount(listInEffect, discount.discountPct) : listInEffect;
    if (override) return list ? overOwnList(override, list) : override;
    return list;
  }

  has(provider: string, model: string): boolean {
    return this.resolve(provider, model, Date.now()) !== null;
  }

  private static key(provider: string, model: string): string {
    return `${provider}\u0000${model}`;
  }
}

/** The list version with every price reduced by `pct` percent, exactly. */
export function applyDiscount(version: PriceVersion, pct: string): PriceVersion {
  const factor = Decimal.parse('100').subtract(Decimal.parse(pct)).shiftRight(2);
  const discounted = (price: string) => Decimal.parse(price).multiply(factor).normalized().toFixedString();
  const sheet = sheetOf(ratesOf(version.sheet).map(([name, price]) => [name, discounted(price)]));
  return { ...version, sheet, appliedDiscountPct: pct };
}

/** An override in effect with the list prices of the units it does not price, and where each rate came from. */
function overOwnList(override: PriceVersion, list: PriceVersion): PriceVersion {
  const sheet = overlaySheet(list.sheet, override.sheet);
  const own = new Set(ratesOf(override.sheet).map(([name]) => name));
  const rateSources: Record<string, string> = {};
  for (const [name] of ratesOf(sheet))
    rateSources[name] = own.has(name) ? 'override' : (list.rateSources?.[name] ?? list.source);
  return {
    ...override,
    sheet,
    rateSources,
    ...(list.appliedDiscountPct ? { appliedDiscountPct: list.appliedDiscountPct } : {}),
  };
}

/**
 * The list chain with each version's missing units taken from the earliest
 * later version that has them (its own rates always win).
 */
function withLaterRates(chain: PriceVersion[]): PriceVersion[] {
  let later: PriceSheet = {};
  let laterSources: Record<string, string> = {};
  const filled: PriceVersion[] = new Array(chain.length);
  for (let i = chain.length - 1; i >= 0; i--) {
    const version = chain[i];
    const sheet = overlaySheet(later, version.sheet);
    const own = new Set(ratesOf(version.sheet).map(([name]) => name));
    const rates = ratesOf(sheet);
    const rateSources: Record<string, string> = {};
    for (const [name] of rates)
      rateSources[name] = own.has(name) ? (version.rateSources?.[name] ?? version.source) : laterSources[name];
    filled[i] = rates.length === own.size ? version : { ...version, sheet, rateSources };
    later = sheet;
    laterSources = { ...rateSources };
    for (const name of own)
      laterSources[name] =
        `${version.rateSources?.[name] ?? version.source} (priced from ${new Date(version.effectiveFrom).toISOString().slice(0, 10)})`;
  }
  return filled;
}

function findInEffect(sorted: PriceVersion[], at: number): PriceVersion | null {
  for (let i = sorted.length - 1; i >= 0; i--) {
    const version = sorted[i];
    if (version.effectiveFrom <= at) {
      return version.effectiveTo === null || at < version.effectiveTo ? version : null;
    }
  }
  return null;
}
