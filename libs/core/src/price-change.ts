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
  const order = (name: string) =>
    (PRICE_UNITS as readonly string[]).includes(name)
      ? (PRICE_UNITS as readonly string[]).indexOf(name)
      : PRICE_UNITS.length;
  const names = [...new Set([...before.keys(), ...after.keys()])].sort(
    (a, b) => order(a) - order(b) || a.localeCompare(b),
  );
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

/** Rates compare within a family: per-token rates, per-image prices, the per-request price. */
function familyOf(unit: string): 'token' | 'image' | 'request' {
  if (unit === 'per_request') return 'request';
  return unit === 'per_image' || unit.startsWith('image_prices.') ? 'image' : 'token';
}

/**
 * Why a change looks like a mistake of the source rather than a price change:
 * a price multiplied or divided by more than 5, set to zero, or removed; or a
 * newly priced unit more than 5 times the highest rate of its family (per
 * token, per image) that the model had (`current`): a new text-output rate of
 * 1e400 is not welcome just because it is new. Empty when the change can be
 * applied as is.
 */
export function suspiciousReasons(changes: PriceChange[], current: PriceSheet | null = null): string[] {
  const reasons: string[] = [];
  const highest = new Map<string, Decimal>();
  for (const [unit, value] of current ? ratesOf(current) : []) {
    const family = familyOf(unit);
    const rate = Decimal.parse(value);
    if (!highest.has(family) || rate.compare(highest.get(family)!) > 0) highest.set(family, rate);
  }
  for (const { unit, from, to } of changes) {
    if (from === null) {
      const top = highest.get(familyOf(unit));
      if (to !== null && top && !top.isZero() && Decimal.parse(to).compare(top.times(SUSPICIOUS_FACTOR)) > 0) {
        reasons.push(`${unit} new at ${to}, more than x5 the highest rate the model had (${top.toFixedString()})`);
      }
      continue;
    }
    const before = Decimal.parse(from);
    if (to === null) {
      reasons.push(`${unit} ${from} removed`);
      continue;
    }
    const after = Decimal.parse(to);
    if (after.isZero() && !before.isZero()) reasons.push(`${unit} ${from} -> 0`);
    else if (before.isZero()) continue;
    else if (after.compare(before.times(SUSPICIOUS_FACTOR)) > 0)
      reasons.push(`${unit} ${from} -> ${to} (more than x5)`);
    else if (after.times(SUSPICIOUS_FACTOR).compare(before) < 0)
      reasons.push(`${unit} ${from} -> ${to} (less than /5)`);
  }
  return reasons;
}
