import { Decimal, normalizeModelName, PriceSheet } from '@tokentally/core';

/** One price list entry as a source states it, in TokenTally's units. */
export interface PriceQuote {
  provider: string;
  model: string;
  sheet: PriceSheet;
}

export type SourceName = 'catalog' | 'litellm' | 'openrouter' | 'vercel';

/** Image models are what TokenTally prices; the sources list thousands of others. */
export function isImageModel(model: string): boolean {
  return /(image|dall-e)/.test(model);
}

/** USD per token (a decimal string, maybe in exponent notation) -> USD per 1M tokens, exactly. */
export function perMillion(perToken: string): string {
  return Decimal.parse(perToken).shiftLeft(6).normalized().toFixedString();
}

export function modelId(raw: string): string {
  return normalizeModelName(raw);
}

/** Thrown when a source answers something that is not its format. */
export class MalformedSourceError extends Error {}
