import { Decimal, PriceSheet } from '@tokentally/core';
import { dataArray } from './openrouter';
import { isImageModel, modelId, perMillion, PriceQuote } from './source';

/**
 * Vercel AI Gateway `GET /v1/models`: `{data: [{id: "openai/gpt-image-2", type, pricing: {input, output, input_cache_read}}]}`,
 * decimal strings in USD per token: one input and one output rate.
 */
export function parseVercel(text: string): PriceQuote[] {
  const quotes: PriceQuote[] = [];
  for (const item of dataArray(text)) {
    const id = typeof item?.id === 'string' ? item.id : null;
    const pricing = item?.pricing;
    if (!id || !pricing || typeof pricing !== 'object') continue;
    const model = modelId(id);
    if (!isImageModel(model) && item.type !== 'image') continue;
    const sheet: PriceSheet = {};
    for (const [field, unit] of [
      ['input', 'input'],
      ['output', 'output'],
      ['input_cache_read', 'cached_input'],
      ['input_image', 'input_image'],
      ['output_image', 'output_image'],
    ] as const) {
      const value = pricing[field];
      if (typeof value === 'string' && Decimal.isDecimalString(value) && !Decimal.parse(value).isNegative()) sheet[unit] = perMillion(value);
    }
    if (Object.keys(sheet).length > 0) quotes.push({ provider: 'vercel', model, sheet });
  }
  return quotes;
}
