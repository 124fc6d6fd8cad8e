import { Decimal } from './decimal';
import { PriceSheet, priceOfKind, PriceBasis } from './price-sheet';
import { TOKEN_KINDS, TokenKind, TokenUsage } from './token-kinds';

export interface BillableCall {
  usage: TokenUsage;
  /** Images produced; billed only when the sheet has a per-image price. */
  images: number;
  /** Per-request prices apply to successful calls only. */
  succeeded: boolean;
}

export type CostResult =
  | { priced: true; cost: Decimal; fallbacks: Partial<Record<TokenKind, PriceBasis>> }
  | { priced: false; missing: TokenKind[] };

const TOKENS_PER_PRICE_UNIT_DIGITS = 6; // prices are per 1,000,000 tokens

/**
 * Exact cost of one call: the sum over token kinds of tokens x price per 1M
 * / 10^6, plus per-image and per-request prices. A kind that has tokens and no
 * price at all makes the call unpriced: an unknown price is never $0.
 */
export function computeCost(call: BillableCall, sheet: PriceSheet): CostResult {
  let perMillionTotal = Decimal.ZERO;
  const missing: TokenKind[] = [];
  const fallbacks: Partial<Record<TokenKind, PriceBasis>> = {};
  for (const kind of TOKEN_KINDS) {
    const tokens = call.usage[kind];
    if (!tokens) continue;
    const price = priceOfKind(kind, sheet);
    if (!price) {
      missing.push(kind);
      continue;
    }
    if (price.basis !== 'own') fallbacks[kind] = price.basis;
    perMillionTotal = perMillionTotal.add(price.perMillion.times(tokens));
  }
  if (missing.length > 0) return { priced: false, missing };

  let cost = perMillionTotal.shiftRight(TOKENS_PER_PRICE_UNIT_DIGITS);
  if (sheet.per_image !== undefined && call.images > 0) {
    cost = cost.add(Decimal.parse(sheet.per_image).times(call.images));
  }
  if (sheet.per_request !== undefined && call.succeeded) {
    cost = cost.add(Decimal.parse(sheet.per_request));
  }
  return { priced: true, cost: cost.normalized(), fallbacks };
}
