import { Decimal, PriceSheet } from '@tokentally/core';
import { isImageModel, MalformedSourceError, modelId, perMillion, PriceQuote } from './source';

/**
 * OpenRouter `GET /api/v1/models?output_modalities=all`: `{data: [{id, pricing}]}`
 * with decimal strings in USD per token (`image`: per input image, `request`: per call).
 * `prompt`/`completion` are OpenRouter's one input and one output rate.
 */
export function parseOpenRouter(text: string): PriceQuote[] {
  const models = dataArray(text);
  const quotes: PriceQuote[] = [];
  for (const item of models) {
    const id = typeof item?.id === 'string' ? item.id : null;
    const pricing = item?.pricing;
    if (!id || !pricing || typeof pricing !== 'object') continue;
    const model = modelId(id);
    const modalities: unknown = item.architecture?.output_modalities;
    if (!isImageModel(model) && !(Array.isArray(modalities) && modalities.includes('image'))) continue;
    const sheet: PriceSheet = {};
    const set = (field: string, unit: keyof PriceSheet, perToken = true) => {
      const value = pricing[field];
      if (typeof value !== 'string' || !Decimal.isDecimalString(value)) return;
      if (Decimal.parse(value).isNegative()) return; // -1 marks a variable price
      if (!perToken && Decimal.parse(value).isZero()) return; // "0" per request/image means none
      sheet[unit] = perToken ? perMillion(value) : value;
    };
    set('prompt', 'input');
    set('completion', 'output');
    set('input_cache_read', 'cached_input');
    set('image_token', 'input_image');
    set('image_output', 'output_image');
    set('request', 'per_request', false);
    if (Object.keys(sheet).length > 0) quotes.push({ provider: 'openrouter', model, sheet });
  }
  return quotes;
}

export function dataArray(text: string): any[] {
  let document: any;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new MalformedSourceError(`not JSON: ${(error as Error).message}`);
  }
  if (!document || !Array.isArray(document.data)) throw new MalformedSourceError('expected {"data": [...]}');
  return document.data;
}
