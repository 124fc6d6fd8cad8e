import { Decimal } from './decimal';
import { parsePrice, PriceSheet, priceOfKind, priceOfImage, PriceBasis } from './price-sheet';
import { TOKEN_KINDS, TokenKind, TokenUsage } from './token-kinds';

export interface BillableCall {
  usage: TokenUsage;
  /**
   * Images priced per image: those whose output is not counted in tokens
   * (see `imagesPricedPerImage`). An image is billed by its tokens or per
   * image, never both.
   */
  images: number;
  imageSize?: string | null;
  imageQuality?: string | null;
  /** Per-request prices apply to successful calls only. */
  succeeded: boolean;
}

/**
 * What a call needs a price for: a token kind, or images priced per image;
 * `usage` when a successful call reported nothing to price it by.
 */
export type BillableUnit = TokenKind | 'per_image' | 'usage';

export type PricingState = 'priced' | 'partial' | 'unpriced';

export type CostResult =
  | {
      pricing: 'priced';
      priced: true;
      cost: Decimal;
      fallbacks: Partial<Record<TokenKind, PriceBasis>>;
      imagePriceKey?: string;
    }
  /** Some billable units have no rate: `cost` is the cost of those that do. */
  | {
      pricing: 'partial';
      priced: false;
      cost: Decimal;
      missing: BillableUnit[];
      fallbacks: Partial<Record<TokenKind, PriceBasis>>;
      imagePriceKey?: string;
    }
  | { pricing: 'unpriced'; priced: false; missing: BillableUnit[] };

const TOKENS_PER_PRICE_UNIT_DIGITS = 6; // prices are per 1,000,000 tokens

/**
 * The images of a call that are priced per image: all of them when the
 * call's usage counts no image output tokens (DALL-E, a Responses image tool
 * call without usage, a proxy that strips usage), none otherwise (the tokens
 * already price them). Decided per event, so sums of events stay linear.
 */
export function imagesPricedPerImage(usage: TokenUsage, images: number): number {
  return usage.output_image > 0 ? 0 : images;
}

/**
 * Exact cost of one call: the sum over token kinds of tokens x price per 1M
 * / 10^6, plus per-image and per-request prices. A unit with a quantity and
 * no price at all is missing: the call is `partial` when something else was
 * priced (its cost is what was priced), `unpriced` when nothing was. An
 * unknown price is never $0.
 */
export function computeCost(call: BillableCall, sheet: PriceSheet): CostResult {
  let perMillionTotal = Decimal.ZERO;
  let pricedSomething = false;
  const missing: BillableUnit[] = [];
  const fallbacks: Partial<Record<TokenKind, PriceBasis>> = {};
  for (const kind of TOKEN_KINDS) {
    const tokens = call.usage[kind];
    if (!tokens) continue;
    const price = priceOfKind(kind, sheet);
    if (!price) {
      missing.push(kind);
      continue;
    }
    pricedSomething = true;
    if (price.basis !== 'own') fallbacks[kind] = price.basis;
    perMillionTotal = perMillionTotal.add(price.perMillion.times(tokens));
  }

  let cost = perMillionTotal.shiftRight(TOKENS_PER_PRICE_UNIT_DIGITS);
  let imagePriceKey: string | undefined;
  if (call.images > 0) {
    const image = priceOfImage(sheet, call.imageQuality ?? null, call.imageSize ?? null);
    if (image) {
      cost = cost.add(image.price.times(call.images));
      imagePriceKey = image.key;
      pricedSomething = true;
    } else {
      missing.push('per_image');
    }
  }
  if (sheet.per_request !== undefined && call.succeeded) {
    cost = cost.add(parsePrice(sheet.per_request));
    pricedSomething = true;
  }
  cost = cost.normalized();
  // A successful call that counts no token, no image and no request price made something nobody measured
  // (an answer never read, a proxy that stripped usage): its cost is unknown, never a priced $0.
  if (call.succeeded && !pricedSomething && missing.length === 0 && call.images === 0) {
    return { pricing: 'unpriced', priced: false, missing: ['usage'] };
  }
  if (missing.length === 0)
    return { pricing: 'priced', priced: true, cost, fallbacks, ...(imagePriceKey ? { imagePriceKey } : {}) };
  if (!pricedSomething) return { pricing: 'unpriced', priced: false, missing };
  return { pricing: 'partial', priced: false, cost, missing, fallbacks, ...(imagePriceKey ? { imagePriceKey } : {}) };
}

/** The cost a result adds to totals: priced and partial costs count, unpriced adds nothing (and is counted apart). */
export function costOf(result: CostResult): Decimal | null {
  return result.pricing === 'unpriced' ? null : result.cost;
}

/**
 * The call a stored or incoming event bills: its images priced per image only
 * when no output tokens count them, and only when the call succeeded (a failed
 * call delivered no image; its tokens, if any, are still billed).
 */
export function billableCall(event: {
  usage: TokenUsage;
  images: number;
  imageSize: string | null;
  imageQuality: string | null;
  succeeded: boolean;
}): BillableCall {
  return {
    usage: event.usage,
    images: event.succeeded ? imagesPricedPerImage(event.usage, event.images) : 0,
    imageSize: event.imageSize,
    imageQuality: event.imageQuality,
    succeeded: event.succeeded,
  };
}

/**
 * Why an event is not (wholly) priced, in words, or null when it is: no price
 * at all for its provider and model, or the units that have no rate.
 */
export function pricingNote(event: {
  pricing: PricingState;
  missing: readonly string[] | null;
  hasPrice: boolean;
  provider: string;
  model: string;
  imageSize: string | null;
  imageQuality: string | null;
}): string | null {
  if (event.pricing === 'priced') return null;
  if (!event.hasPrice) return `no price for ${event.provider}/${event.model}`;
  const parts = (event.missing ?? []).map((unit) =>
    unit === 'per_image'
      ? `no per-image price for ${[event.imageQuality, event.imageSize].filter(Boolean).join(' ') || 'an image of unknown size'} and no image output tokens`
      : unit === 'usage'
        ? 'a successful call that reported no tokens and no images: nothing to price it by'
        : `no rate for ${unit}`,
  );
  const what = parts.length > 0 ? parts.join('; ') : 'no rate for its units';
  return event.pricing === 'partial' ? `partly priced: ${what}` : what;
}
