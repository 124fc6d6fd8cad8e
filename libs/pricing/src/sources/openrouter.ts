import { PriceUnit } from '@tokentally/core';
import {
  dataArray,
  isImageModel,
  modelId,
  ParsedSource,
  perMillion,
  plain,
  QuoteCollector,
  readPrice,
  SourceEntry,
} from './source';

export { dataArray } from './source';

/**
 * OpenRouter `GET /api/v1/models` (`?output_modalities=all` to list the
 * image-only models too): `{data: [{id, architecture: {output_modalities},
 * pricing}]}`, decimal strings in USD. What each pricing key is, per
 * OpenRouter's API reference (the `Pricing` / `PublicPricing` component), and
 * what TokenTally makes of it: docs/pricing.md, "How each source maps to our units".
 */
type FieldMap = { unit: PriceUnit; per: 'token' | 'request' } | { skip: string };

const FIELDS: Record<string, FieldMap> = {
  prompt: { unit: 'input', per: 'token' }, // one rate for every input kind
  completion: { unit: 'output', per: 'token' }, // one rate for every output kind
  input_cache_read: { unit: 'cached_input', per: 'token' },
  image_token: { unit: 'input_image', per: 'token' }, // "per image token"; not in the 2026-08-01 answer
  // The reference says "per output image", but every real value is a per-token rate
  // (google/gemini-2.5-flash-image "0.00003" = Google's $30 per 1M image output tokens;
  // per image it would be 1/1300 of Google's $0.039 per image).
  image_output: { unit: 'output_image', per: 'token' },
  request: { unit: 'per_request', per: 'request' },
  image: {
    skip: 'per INPUT image (OpenRouter reference: "Price in USD per input image"); TokenTally counts input images as input_image tokens, priced by prompt, and has no per-input-image unit',
  },
  input_cache_write: { skip: 'cache write per token: TokenTally has no cache-write kind' },
  input_cache_write_1h: { skip: '1-hour cache write per token: TokenTally has no cache-write kind' },
  web_search: { skip: 'per web search: TokenTally has no web-search unit' },
  internal_reasoning: { skip: 'per internal reasoning token: TokenTally has no reasoning token kind' },
  audio: { skip: 'per audio input token: TokenTally has no audio kind' },
  input_audio_cache: { skip: 'per cached audio input token: TokenTally has no audio kind' },
  audio_output: { skip: 'per audio output token: TokenTally has no audio kind' },
  discount: { skip: 'a fractional discount of this endpoint: list prices are imported, the discount is not applied' },
};

const NO_FREE_MARK = 'not marked free: OpenRouter marks a free model with an id ending in :free';
const TIERS_NOTE = 'tiered prices exist: base tier imported';

export function parseOpenRouter(text: string): ParsedSource {
  const out = new QuoteCollector(NO_FREE_MARK);
  for (const item of dataArray(text)) {
    const id = typeof item?.id === 'string' ? item.id : null;
    if (!id || !item) continue;
    // Each model on its own: an exception while reading one is a skipped line, never a failed source.
    out.isolate(id, () => readModel(out, id, item));
  }
  return out.result();
}

function readModel(out: QuoteCollector, id: string, item: NonNullable<SourceEntry>): void {
  const model = modelId(id);
  // An architecture that is not an object has no output_modalities.
  const modalities: unknown = (item.architecture as SourceEntry)?.output_modalities;
  const outputsImages = Array.isArray(modalities) && modalities.includes('image');
  if (!outputsImages && !isImageModel(model)) return; // a text model
  const pricing = item.pricing;
  if (!pricing || typeof pricing !== 'object' || Array.isArray(pricing)) {
    out.skip(id, 'no pricing object');
    return;
  }
  const provider = 'openrouter';
  const free = id.endsWith(':free');
  if (free) out.markFree(provider, model);
  let imported = 0;
  let variable = 0;
  let zeros = 0;
  for (const [field, raw] of Object.entries(pricing as Record<string, unknown>)) {
    if (field === 'overrides') {
      if (Array.isArray(raw) && raw.length > 0) {
        out.note(provider, model, TIERS_NOTE);
        out.skip(id, `overrides: tiered prices (${raw.map(conditionOf).join('; ')}), base tier imported`);
      }
      continue;
    }
    const map = FIELDS[field];
    if (!map) {
      out.skip(id, `${field}: unknown OpenRouter pricing key, not imported`);
      continue;
    }
    if ('skip' in map) {
      out.skip(id, `${field}: ${map.skip}`);
      continue;
    }
    const rate = readPrice(field, raw, {
      free,
      noFreeMark: NO_FREE_MARK,
      negativeMeans: 'OpenRouter -1 means variable price (no price)',
      per: map.per,
    });
    if (!rate.ok) {
      if (rate.negative) variable++;
      if (rate.zero) zeros++;
      out.skip(id, rate.reason);
      continue;
    }
    out.setUnit(provider, model, map.unit, map.per === 'token' ? perMillion(rate.value) : plain(rate.value), id, field);
    imported++;
  }
  if (imported === 0) {
    out.skip(
      id,
      variable > 0
        ? 'OpenRouter -1 means variable price: nothing to import'
        : zeros > 0
          ? `every rate is 0 (${NO_FREE_MARK})`
          : 'nothing importable: no rate TokenTally can use',
    );
  }
}

/** An override's conditions in words: `min_prompt_tokens 32000`. */
function conditionOf(override: unknown): string {
  if (!override || typeof override !== 'object') return 'an override';
  const conditions = Object.entries(override as Record<string, unknown>)
    .filter(([key]) => !(key in FIELDS))
    .map(([key, value]) => `${key} ${String(value)}`);
  return conditions.length > 0 ? conditions.join(', ') : 'an override';
}
