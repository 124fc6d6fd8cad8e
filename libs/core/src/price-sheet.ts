import { Decimal } from './decimal';
import { TOKEN_KINDS, TokenKind, UNCACHED_KIND, isInputKind } from './token-kinds';

/**
 * The prices of one price version. Token prices are USD per 1M tokens,
 * `per_image` USD per image, `per_request` USD per call; all decimal strings.
 * A list may price each token kind on its own, or give one rate per direction
 * (`input`, `cached_input`, `output`) as Vercel does for gpt-image-2.
 */
export const PRICE_UNITS = [...TOKEN_KINDS, 'input', 'cached_input', 'output', 'per_image', 'per_request'] as const;

export type PriceUnit = (typeof PRICE_UNITS)[number];
export type PriceSheet = Partial<Record<PriceUnit, string>>;

/** How a token kind got its price: its own, or which fallback. */
export type PriceBasis = 'own' | 'generic_cached' | 'uncached' | 'generic';

export interface KindPrice {
  perMillion: Decimal;
  basis: PriceBasis;
  unit: PriceUnit;
}

/**
 * The price of one token kind under a sheet, or null when nothing prices it.
 * Order: the kind's own price; for a cached kind the direction's cached rate,
 * then the uncached kind's own price; then the direction's single rate.
 */
export function priceOfKind(kind: TokenKind, sheet: PriceSheet): KindPrice | null {
  const candidates: Array<[PriceUnit, PriceBasis]> = [[kind, 'own']];
  const uncached = UNCACHED_KIND[kind];
  if (uncached) {
    candidates.push(['cached_input', 'generic_cached'], [uncached, 'uncached']);
  }
  candidates.push([isInputKind(kind) ? 'input' : 'output', 'generic']);
  for (const [unit, basis] of candidates) {
    const text = sheet[unit];
    if (text !== undefined && text !== null) {
      return { perMillion: Decimal.parse(text), basis, unit };
    }
  }
  return null;
}
