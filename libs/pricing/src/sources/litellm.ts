import { PriceSheet, PriceUnit } from '@tokentally/core';
import { isImageModel, MalformedSourceError, modelId, perMillion, PriceQuote } from './source';

/**
 * LiteLLM's model_prices_and_context_window.json: one object per model key,
 * prices in USD per token as JSON numbers. Numbers are read from the text as
 * written (never through a float), so 1.25e-06 stays exactly 1.25 per 1M.
 */
const PER_TOKEN_FIELDS: Record<string, PriceUnit> = {
  input_cost_per_token: 'input_text',
  cache_read_input_token_cost: 'cached_input_text',
  output_cost_per_token: 'output_text',
  input_cost_per_image_token: 'input_image',
  cache_read_input_image_token_cost: 'cached_input_image',
  output_cost_per_image_token: 'output_image',
};
const PER_IMAGE_FIELDS: Record<string, PriceUnit> = { output_cost_per_image: 'per_image' };

/** LiteLLM's provider names -> TokenTally's provider slugs. */
const PROVIDERS: Record<string, string> = {
  openai: 'openai',
  azure: 'azure',
  openrouter: 'openrouter',
  vercel_ai_gateway: 'vercel',
};

/** Keys such as "high/1024-x-1024/gpt-image-1" price one size and quality: not a token price list. */
const SIZE_QUALITY_KEY = /^(low|medium|high|standard|hd|auto)\//;

export function parseLiteLLM(text: string): PriceQuote[] {
  // Quote every number that follows a key containing "cost", so JSON.parse keeps it as text.
  const exact = text.replace(/("[^"]*cost[^"]*"\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g, '$1"$2"');
  let document: unknown;
  try {
    document = JSON.parse(exact);
  } catch (error) {
    throw new MalformedSourceError(`not JSON: ${(error as Error).message}`);
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) throw new MalformedSourceError('expected an object of models');
  const quotes: PriceQuote[] = [];
  for (const [key, raw] of Object.entries(document as Record<string, unknown>)) {
    if (key === 'sample_spec' || SIZE_QUALITY_KEY.test(key) || !raw || typeof raw !== 'object') continue;
    const entry = raw as Record<string, unknown>;
    const provider = PROVIDERS[String(entry.litellm_provider ?? '')];
    const model = modelId(key);
    if (!provider || !isImageModel(model)) continue;
    const sheet: PriceSheet = {};
    for (const [field, unit] of Object.entries(PER_TOKEN_FIELDS)) {
      if (typeof entry[field] === 'string') sheet[unit] = perMillion(entry[field] as string);
    }
    for (const [field, unit] of Object.entries(PER_IMAGE_FIELDS)) {
      if (typeof entry[field] === 'string') sheet[unit] = entry[field] as string;
    }
    if (Object.keys(sheet).length > 0) quotes.push({ provider, model, sheet });
  }
  return quotes;
}
