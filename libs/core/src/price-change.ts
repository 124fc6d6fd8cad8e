import { Decimal } from './decimal';
import { PRICE_UNITS, PriceSheet, ratesOf } from './price-sheet';

export interface PriceChange {
  /** A unit (`output_image`) or a per-image price (`image_prices.hd/1024x1024`). */
  unit: string;
  from: string | null;
  to: string | null;
}

/** The units whose price differs between two sheets (by value, not by spelling: 5 = 5.00). */
export function diffSheets(current: PriceSheet | null, next: PriceSheet): PriceChange[] {
  const before = new Map(current ? ratesOf(current) : []);
  const after = new Map(ratesOf(next));
  const changes: PriceChange[] = [];
  const order = (name: string) => ((PRICE_UNITS as readonly string[]).includes(name) ? (PRICE_UNITS as readonly string[]).indexOf(name) : PRICE_UNITS.length);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  for (const unit of names) {
    const from = before.get(unit) ?? null;
    const to = after.get(unit) ?? null;
    if (from !== null && to !== null && Decimal.parse(from).equals(Decimal.parse(to))) continue;
    changes.push({ unit, from, to });
  }
  return changes;
}

/** A change bigger than this factor, either way, waits for an admin. */
export const SUSPICIOUS_FACTOR = 5n;

/**
 * Why a change looks like a mistake of the source rather than a price change:
 * a price multiplied or divided by more than 5, set to zero, or removed.
 * Empty when the change can be applied as is.
 */
export function suspiciousReasons(changes: PriceChange[]): string[] {
  const reasons: string[] = [];
  for (const { unit, from, to } of changes) {
    if (from === null) continue; // a newly priced kind is welcome
    const before = Decimal.parse(from);
    if (to === null) {
      reasons.push(`${unit} ${from} removed`);
      continue;
    }
    const after = Decimal.parse(to);
    if (after.isZero() && !before.isZero()) reasons.push(`${unit} ${from} -> 0`);
    else if (before.isZero()) continue;
    else if (after.compare(before.times(SUSPICIOUS_FACTOR)) > 0) reasons.push(`${unit} ${from} -> ${to} (more than x5)`);
    else if (after.times(SUSPICIOUS_FACTOR).compare(before) < 0) reasons.push(`${unit} ${from} -> ${to} (less than /5)`);
  }
  return reasons;
}
