import { PriceSheet } from './price-sheet';
import { modelWithoutSnapshot } from './model-names';

export type PriceVersionKind = 'list' | 'override';

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
}

/**
 * All price versions, indexed for resolution by provider, model and time.
 * An override in effect beats the list price; an event older than the first
 * list version of its model is priced with that first version.
 */
export class PriceBook {
  private readonly byModel = new Map<string, { list: PriceVersion[]; override: PriceVersion[] }>();

  constructor(versions: Iterable<PriceVersion>) {
    for (const version of versions) {
      const key = PriceBook.key(version.provider, version.model);
      let entry = this.byModel.get(key);
      if (!entry) this.byModel.set(key, (entry = { list: [], override: [] }));
      entry[version.kind].push(version);
    }
    for (const entry of this.byModel.values()) {
      entry.list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
      entry.override.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
    }
  }

  resolve(provider: string, model: string, at: number): PriceVersion | null {
    const entry =
      this.byModel.get(PriceBook.key(provider, model)) ??
      this.byModel.get(PriceBook.key(provider, modelWithoutSnapshot(model) ?? ''));
    if (!entry) return null;
    const override = findInEffect(entry.override, at);
    if (override) return override;
    if (entry.list.length === 0) return null;
    return findInEffect(entry.list, at) ?? (at < entry.list[0].effectiveFrom ? entry.list[0] : null);
  }

  has(provider: string, model: string): boolean {
    return this.resolve(provider, model, Date.now()) !== null;
  }

  private static key(provider: string, model: string): string {
    return `${provider}\u0000${model}`;
  }
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
