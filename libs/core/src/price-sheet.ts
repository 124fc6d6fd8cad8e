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

/**
 * Per-image prices by quality and size, USD per image: the key is
 * `<quality>/<size>` (`hd/1024x1024`), either part `*` for any. `per_image`
 * is the price for any quality and size (`* / *`).
 */
export type ImagePrices = Record<string, string>;

export type PriceSheet = Partial<Record<PriceUnit, string>> & { image_prices?: ImagePrices };

/** How a token kind got its price: its own, or which fallback. */
export type PriceBasis = 'own' | 'generic_cached' | 'uncached' | 'generic';

export interface KindPrice {
  perMillion: Decimal;
  basis: PriceBasis;
  unit: PriceUnit;
}

/** Parsed price texts: a price book holds a few hundred distinct ones, and ingest prices every event with them. */
const parsedPrices = new Map<string, Decimal>();

/** Decimal.parse of a price text, parsed once (Decimal is immutable); the cache is emptied if it ever grows large. */
export function parsePrice(text: string): Decimal {
  let parsed = parsedPrices.get(text);
  if (parsed === undefined) {
    parsed = Decimal.parse(text);
    if (parsedPrices.size >= 10_000) parsedPrices.clear();
    parsedPrices.set(text, parsed);
  }
  return parsed;
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
      return { perMillion: parsePrice(text), basis, unit };
    }
  }
  return null;
}

/** `1024-x-1024`, `1024X1024`, ` 1024x1024 ` -> `1024x1024`; anything else as written, lower case. */
export function normalizeImageSize(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const text = raw.trim().toLowerCase();
  const match = /^(\d+)\s*-?\s*x\s*-?\s*(\d+)$/.exec(text);
  return match ? `${Number(match[1])}x${Number(match[2])}` : text || null;
}

export function normalizeImageQuality(raw: string | null | undefined): string | null {
  const text = raw?.trim().toLowerCase();
  return text ? text : null;
}

export const ANY = '*';

export function imagePriceKey(quality: string | null, size: string | null): string {
  return `${normalizeImageQuality(quality) ?? ANY}/${normalizeImageSize(size) ?? ANY}`;
}

/**
 * The per-image price of an image of `quality` and `size`: the exact entry,
 * then any quality at this size, then this quality at any size, then
 * `per_image`. Null when none applies: a size with no price is never $0.
 */
export function priceOfImage(
  sheet: PriceSheet,
  quality: string | null,
  size: string | null,
): { price: Decimal; key: string } | null {
  const q = normalizeImageQuality(quality);
  const s = normalizeImageSize(size);
  const keys: string[] = [];
  if (q && s) keys.push(`${q}/${s}`);
  if (s) keys.push(`${ANY}/${s}`);
  if (q) keys.push(`${q}/${ANY}`);
  for (const key of keys) {
    const text = sheet.image_prices?.[key];
    if (text !== undefined && text !== null) return { price: parsePrice(text), key };
  }
  if (sheet.per_image !== undefined && sheet.per_image !== null)
    return { price: parsePrice(sheet.per_image), key: `${ANY}/${ANY}` };
  return null;
}

/** Every rate of a sheet as (name, decimal string): units, then `image_prices.<key>`. */
export function ratesOf(sheet: PriceSheet): Array<[string, string]> {
  const rates: Array<[string, string]> = [];
  for (const unit of PRICE_UNITS) {
    const value = sheet[unit];
    if (value !== undefined && value !== null) rates.push([unit, value]);
  }
  for (const [key, value] of Object.entries(sheet.image_prices ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    rates.push([`image_prices.${key}`, value]);
  }
  return rates;
}

/** A sheet from (name, value) rates as `ratesOf` names them. */
export function sheetOf(rates: Iterable<[string, string]>): PriceSheet {
  const sheet: PriceSheet = {};
  for (const [name, value] of rates) {
    if (name.startsWith('image_prices.')) (sheet.image_prices ??= {})[name.slice('image_prices.'.length)] = value;
    else sheet[name as PriceUnit] = value;
  }
  return sheet;
}

/** True when the sheet has at least one rate and every rate is zero (a source's "no price", unless it marks the model
 * free). */
export function isAllZero(sheet: PriceSheet): boolean {
  const rates = ratesOf(sheet);
  return rates.length > 0 && rates.every(([, value]) => Decimal.parse(value).isZero());
}

/** The token kinds and units a direction-wide unit stands for when a sheet has no rate of their own. */
const COVERED_BY: Partial<Record<PriceUnit, readonly PriceUnit[]>> = {
  input: ['input_text', 'cached_input_text', 'input_image', 'cached_input_image', 'cached_input'],
  cached_input: ['cached_input_text', 'cached_input_image'],
  output: ['output_text', 'output_image'],
};

/**
 * `top` laid over `base`: every rate of `top` wins, and a rate of `base` stays
 * only where `top` says nothing about it. A direction-wide rate of `top`
 * (`input`, `cached_input`, `output`) also covers the kinds of its direction,
 * so a base rate of such a kind does not shadow it; a `per_image` of `top`
 * covers every per-image price of `base`. So a negotiated price for one unit
 * keeps the list price of the others.
 */
export function overlaySheet(base: PriceSheet, top: PriceSheet): PriceSheet {
  const covered = new Set<string>();
  for (const [unit] of ratesOf(top)) {
    covered.add(unit);
    for (const kind of COVERED_BY[unit as PriceUnit] ?? []) covered.add(kind);
    if (unit === 'per_image')
      for (const [name] of ratesOf(base)) if (name.startsWith('image_prices.')) covered.add(name);
  }
  return sheetOf([...ratesOf(base).filter(([name]) => !covered.has(name)), ...ratesOf(top)]);
}
