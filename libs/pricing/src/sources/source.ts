import {
  Decimal,
  imagePriceKey,
  isAllZero,
  normalizeModelName,
  PriceSheet,
  PriceUnit,
  ratesOf,
} from '@tokentally/core';

/** One price list entry as a source states it, in TokenTally's units. */
export interface PriceQuote {
  provider: string;
  model: string;
  sheet: PriceSheet;
  /**
   * True only when the source itself marks the model free (OpenRouter: an id
   * ending in `:free`). Only then may a rate be 0; without it a 0 means "no
   * rate for that kind" and is never imported.
   */
  free?: boolean;
  /** What a person should know about this quote, e.g. "tiered prices exist: base tier imported". */
  notes?: string[];
}

/**
 * A source entry that looked like an image model but was not imported, or a
 * field of an imported entry that was deliberately left out. `key` is the
 * source's own name for the entry (LiteLLM key, OpenRouter / Vercel id).
 */
export interface SkippedEntry {
  key: string;
  reason: string;
}

/** What a source adapter makes of one answer. */
export interface ParsedSource {
  quotes: PriceQuote[];
  skipped: SkippedEntry[];
}

export type SourceParser = (text: string) => ParsedSource;

export type SourceName = 'catalog' | 'litellm' | 'openrouter' | 'vercel';

/**
 * The image models TokenTally prices, by model id (after the vendor prefix is
 * dropped): gpt-image*, chatgpt-image*, dall-e*, imagen*, gemini-*-image*
 * (Gemini's native image models) and gpt-<version>-image* (OpenAI's chat
 * models with image output, as OpenRouter lists them). The sources list
 * thousands of text models; none of them may produce a quote.
 */
const IMAGE_MODEL = /^(?:gpt-image|chatgpt-image|dall-e|imagen)|^gemini-.*-image|^gpt-\d[\d.]*-image/;

export function isImageModel(model: string): boolean {
  return IMAGE_MODEL.test(model);
}

/** USD per token (a decimal string, maybe in exponent notation) -> USD per 1M tokens, exactly. */
export function perMillion(perToken: string): string {
  return Decimal.parse(perToken).shiftLeft(6).normalized().toFixedString();
}

/** A decimal string (maybe in exponent notation) in plain notation, exactly: "4e-02" -> "0.04". */
export function plain(value: string): string {
  return Decimal.parse(value).normalized().toFixedString();
}

/** USD per pixel x width x height -> USD per image (LiteLLM's formula), to the precision the rate is written with. */
export function perPixelToPerImage(perPixel: string, width: number, height: number): string {
  const pixels = BigInt(width) * BigInt(height);
  const product = Decimal.parse(perPixel).times(pixels);
  // The rate is known to half a unit of its last written digit (LiteLLM wrote 7.629e-08 for $0.08 / 1,048,576 px):
  // the price per image is the shortest decimal that rate can mean, 0.08 rather than 0.07999586304.
  return product.shortestWithin(halfUnitOfLastDigit(perPixel).times(pixels)).normalized().toFixedString();
}

/** Half a unit of the last digit `text` writes: `7.629e-08` -> 0.000000000005. */
function halfUnitOfLastDigit(text: string): Decimal {
  const match = /^[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  const fractionDigits = match?.[1]?.length ?? 0;
  const exponent = Number(match?.[2] ?? 0);
  return Decimal.parse(`5e${exponent - fractionDigits - 1}`);
}

/** The longest side of an image TokenTally takes from a source (pixels); real sizes are a few thousand. */
export const MAX_IMAGE_SIDE = 100_000;

/** Why `width` x `height` (as read from a source) is no image size, or null when it is one. */
export function imageSizeProblem(width: number, height: number): string | null {
  if (
    !Number.isSafeInteger(width) ||
    !Number.isSafeInteger(height) ||
    width > MAX_IMAGE_SIDE ||
    height > MAX_IMAGE_SIDE
  ) {
    return `a side above ${MAX_IMAGE_SIDE.toLocaleString('en-US')} px is no image size`;
  }
  if (width === 0 || height === 0) return 'a side of 0 px is no image size';
  return null;
}

export function modelId(raw: string): string {
  return normalizeModelName(raw);
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Puts every bare JSON number of `text` in quotes, so that JSON.parse keeps
 * it as the text the source wrote (1.25e-06 stays "1.25e-06", never a float).
 * Strings are copied as they are (escapes included); outside a string a digit
 * or a minus sign can only start a number.
 */
export function quoteJsonNumbers(text: string): string {
  const parts: string[] = [];
  let copiedTo = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === 0x22) {
          i++;
          break;
        } else i++;
      }
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (match) {
        parts.push(text.slice(copiedTo, i), '"', match[0], '"');
        i += match[0].length;
        copiedTo = i;
        continue;
      }
    }
    i++;
  }
  parts.push(text.slice(copiedTo));
  return parts.join('');
}

/** JSON.parse with every number kept as its source text; a MalformedSourceError when it is not JSON. */
export function parseExactJson(text: string): unknown {
  try {
    return JSON.parse(quoteJsonNumbers(text));
  } catch (error) {
    throw new MalformedSourceError(`not JSON: ${(error as Error).message}`);
  }
}

/** A rate as the source wrote it: a decimal string, or null with why it is not one. */
export function readRate(value: unknown): { value: string } | { problem: string } {
  if (typeof value !== 'string' || !Decimal.isDecimalString(value))
    return { problem: `${JSON.stringify(value)} is not a number` };
  return { value: value.trim() };
}

export type PriceReading =
  { ok: true; value: string } | { ok: false; reason: string; zero: boolean; negative: boolean };

/**
 * What a source's rate is per, and the most it may be: a price above it is
 * implausible (a typo, or a hostile file), never imported. $1 per token is
 * $1,000,000 per 1M tokens; a per-pixel rate is bounded again, per image,
 * once the size is known (MAX_PER_IMAGE).
 */
export type RatePer = 'token' | 'image' | 'request' | 'pixel';

export const MAX_PER_IMAGE = Decimal.parse('1000');
const MAX_RATE: Record<RatePer, { max: Decimal; words: string }> = {
  token: { max: Decimal.parse('1'), words: 'above $1 per token ($1,000,000 per 1M tokens)' },
  image: { max: MAX_PER_IMAGE, words: 'above $1,000 per image' },
  request: { max: Decimal.parse('1000'), words: 'above $1,000 per request' },
  pixel: { max: MAX_PER_IMAGE, words: 'above $1,000 per pixel' },
};
/** Below 1e-20 USD per unit no real price exists; such a number (1e-99999) would only cost memory and digits. */
const MIN_MAGNITUDE = -20;

/**
 * The power of ten of the leading non-zero digit of a decimal string, read
 * from its text without expanding it (`1e400` -> 400, `0.0012` -> -3), or
 * null when the number is zero. Infinity for an exponent beyond any number.
 */
export function magnitudeOf(text: string): number | null {
  const match = /^[+-]?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  const [, whole, fraction = '', exponent = '0'] = match;
  const first = (whole + fraction).search(/[1-9]/);
  if (first < 0) return null;
  return whole.length - 1 - first + Number(exponent);
}

/** A value for a reason line: long digit strings are cut. */
function shown(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 20)}...${text.slice(-8)} (${text.length} characters)`;
}

/**
 * A source's rate for `field`, or why it is no price: not a number, negative
 * (`negativeMeans` says what the source means by it), zero and the model is
 * not marked free (`noFreeMark` says which mark the source would use), or
 * implausible for what it is `per` (above the bound of MAX_RATE, or below
 * 1e-20). The number is sized from its text before it is expanded, so no
 * exponent can exhaust the process.
 */
export function readPrice(
  field: string,
  raw: unknown,
  rules: { free: boolean; noFreeMark: string; negativeMeans: string; per: RatePer },
): PriceReading {
  const rate = readRate(raw);
  if ('problem' in rate) return { ok: false, reason: `${field}: ${shown(rate.problem)}`, zero: false, negative: false };
  const magnitude = magnitudeOf(rate.value);
  if (magnitude !== null && rate.value.startsWith('-'))
    return { ok: false, reason: `${field} ${shown(rate.value)}: ${rules.negativeMeans}`, zero: false, negative: true };
  if (magnitude === null) {
    if (!rules.free)
      return { ok: false, reason: `${field} 0 is no price (${rules.noFreeMark})`, zero: true, negative: false };
    return { ok: true, value: '0' };
  }
  const bound = MAX_RATE[rules.per];
  const implausible = (words: string) => ({
    ok: false as const,
    reason: `${field} ${shown(rate.value)}: implausible, ${words}; not imported`,
    zero: false,
    negative: false,
  });
  if (magnitude < MIN_MAGNITUDE) return implausible(`below 1e${MIN_MAGNITUDE} USD per ${rules.per}`);
  // Above 10^4 it is above every bound without expanding it; at or below, the exact comparison decides.
  if (magnitude > 4 || Decimal.parse(rate.value).compare(bound.max) > 0) return implausible(bound.words);
  return { ok: true, value: rate.value };
}

interface Building {
  quote: PriceQuote;
  /** Which source key set each rate, to name it when another key disagrees. */
  from: Map<string, string>;
}

/**
 * Collects the rates of one source answer into one quote per provider and
 * model (LiteLLM spreads one model over many keys), and the skipped list.
 * A rate stated twice with different values keeps the first and records the
 * second as skipped; no quote leaves with an all-zero sheet unless free.
 */
export class QuoteCollector {
  readonly skipped: SkippedEntry[] = [];
  private readonly quotes = new Map<string, Building>();
  /** While an entry is read in isolation: how to take back each change it made. */
  private journal: Array<() => void> | null = null;

  constructor(private readonly noFreeMark: string) {}

  skip(key: string, reason: string): void {
    this.skipped.push({ key, reason });
  }

  /**
   * Reads one source entry in isolation: when `read` throws, every change it
   * made (rates, notes, marks, skipped lines) is taken back and the entry is
   * one skipped line with the error. One hostile entry never fails the source.
   */
  isolate(key: string, read: () => void): void {
    const skippedBefore = this.skipped.length;
    const journal: Array<() => void> = [];
    this.journal = journal;
    try {
      read();
    } catch (error) {
      for (const undo of journal.reverse()) undo();
      this.skipped.length = skippedBefore;
      const message = error instanceof Error ? error.message : String(error);
      this.skip(key, `could not be read, nothing of it imported: ${shown(message)}`);
    } finally {
      this.journal = null;
    }
  }

  private undoable(undo: () => void): void {
    this.journal?.push(undo);
  }

  private building(provider: string, model: string): Building {
    const id = `${provider}\u0000${model}`;
    let entry = this.quotes.get(id);
    if (!entry) {
      entry = { quote: { provider, model, sheet: {} }, from: new Map() };
      this.quotes.set(id, entry);
      this.undoable(() => this.quotes.delete(id));
    }
    return entry;
  }

  /** Marks the quote free (the source says so). */
  markFree(provider: string, model: string): void {
    const { quote } = this.building(provider, model);
    const before = quote.free;
    quote.free = true;
    this.undoable(() => (before === undefined ? delete quote.free : (quote.free = before)));
  }

  note(provider: string, model: string, note: string): void {
    const { quote } = this.building(provider, model);
    const before = quote.notes;
    if ((quote.notes ?? []).includes(note)) return;
    quote.notes = [...(quote.notes ?? []), note];
    this.undoable(() => (before === undefined ? delete quote.notes : (quote.notes = before)));
  }

  /** Sets a unit of the sheet. `value` is already in TokenTally's unit. */
  setUnit(provider: string, model: string, unit: PriceUnit, value: string, sourceKey: string, field: string): void {
    const entry = this.building(provider, model);
    const before = entry.quote.sheet[unit];
    if (before !== undefined) {
      if (!Decimal.parse(before).equals(Decimal.parse(value))) {
        this.skip(
          sourceKey,
          `${field} gives ${unit} ${value}, but ${entry.from.get(unit)} already gave ${before}: the first is kept`,
        );
      }
      return;
    }
    entry.quote.sheet[unit] = value;
    entry.from.set(unit, sourceKey);
    this.undoable(() => {
      delete entry.quote.sheet[unit];
      entry.from.delete(unit);
    });
  }

  /** Sets one per-image price for a quality and size (either may be null for any). */
  setImagePrice(
    provider: string,
    model: string,
    quality: string | null,
    size: string | null,
    value: string,
    sourceKey: string,
    field: string,
  ): void {
    const entry = this.building(provider, model);
    const key = imagePriceKey(quality, size);
    if (!entry.quote.sheet.image_prices) {
      entry.quote.sheet.image_prices = {};
      this.undoable(() => delete entry.quote.sheet.image_prices);
    }
    const prices = entry.quote.sheet.image_prices;
    const before = prices[key];
    if (before !== undefined) {
      if (!Decimal.parse(before).equals(Decimal.parse(value))) {
        this.skip(
          sourceKey,
          `${field} gives image_prices ${key} ${value}, but ${entry.from.get(`image_prices.${key}`)} already gave ${before}: the first is kept`,
        );
      }
      return;
    }
    prices[key] = value;
    entry.from.set(`image_prices.${key}`, sourceKey);
    this.undoable(() => {
      delete prices[key];
      entry.from.delete(`image_prices.${key}`);
    });
  }

  /** The quotes that have rates, in the order first seen. */
  result(): ParsedSource {
    const quotes: PriceQuote[] = [];
    for (const { quote, from } of this.quotes.values()) {
      const rates = ratesOf(quote.sheet);
      if (rates.length === 0) {
        if (quote.free) this.skip([...from.values()][0] ?? quote.model, 'marked free but lists no rate');
        continue;
      }
      if (!quote.free && isAllZero(quote.sheet)) {
        this.skip([...from.values()][0] ?? quote.model, `every rate is 0 (${this.noFreeMark})`);
        continue;
      }
      quotes.push(quote);
    }
    return { quotes, skipped: this.skipped };
  }
}

/** Thrown when a source answers something that is not its format. */
export class MalformedSourceError extends Error {}

/**
 * An entry of a source's list, read field by field: each value is checked
 * where it is used (an entry that is not an object has no fields).
 */
export type SourceEntry = Readonly<Record<string, unknown>> | null | undefined;

/** `{"data": [...]}` (OpenRouter, Vercel AI Gateway), numbers kept as their text. */
export function dataArray(text: string): SourceEntry[] {
  const document = parseExactJson(text) as { data?: unknown } | null;
  if (!document || typeof document !== 'object' || !Array.isArray(document.data))
    throw new MalformedSourceError('expected {"data": [...]}');
  return document.data as SourceEntry[];
}
