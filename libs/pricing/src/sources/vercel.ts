import { PriceUnit } from '@tokentally/core';
import {
  dataArray,
  isImageModel,
  modelId,
  ParsedSource,
  perMillion,
  QuoteCollector,
  readPrice,
  SourceEntry,
} from './source';

/**
 * Vercel AI Gateway `GET /v1/models`: `{data: [{id: "openai/gpt-image-2", type, pricing: {input, output,
 * input_cache_read}}]}`,
 * decimal strings in USD per token: one input and one output rate. Vercel has
 * no free mark TokenTally trusts, so a 0 is never a price.
 */
const FIELDS: Record<string, PriceUnit> = {
  input: 'input',
  output: 'output',
  input_cache_read: 'cached_input',
  input_image: 'input_image',
  output_image: 'output_image',
};

const SKIPPED_FIELDS: Record<string, string> = {
  input_cache_write: 'cache write per token: TokenTally has no cache-write kind',
  web_search: 'per web search: TokenTally has no web-search unit',
};

const NO_FREE_MARK = 'Vercel AI Gateway has no free mark TokenTally trusts';

export function parseVercel(text: string): ParsedSource {
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
  if (!isImageModel(model) && item.type !== 'image') return; // a text model
  const pricing = item.pricing;
  if (!pricing || typeof pricing !== 'object' || Array.isArray(pricing)) {
    out.skip(id, 'no pricing object');
    return;
  }
  let imported = 0;
  let zeros = 0;
  for (const [field, raw] of Object.entries(pricing as Record<string, unknown>)) {
    const unit = FIELDS[field];
    if (!unit) {
      out.skip(
        id,
        `${field}: ${SKIPPED_FIELDS[field] ?? 'no TokenTally unit known for this Vercel pricing key (unit unconfirmed)'}`,
      );
      continue;
    }
    const rate = readPrice(field, raw, {
      free: false,
      noFreeMark: NO_FREE_MARK,
      negativeMeans: 'a negative rate is no price',
      per: 'token',
    });
    if (!rate.ok) {
      if (rate.zero) zeros++;
      out.skip(id, rate.reason);
      continue;
    }
    out.setUnit('vercel', model, unit, perMillion(rate.value), id, field);
    imported++;
  }
  if (imported === 0)
    out.skip(id, zeros > 0 ? `every rate is 0 (${NO_FREE_MARK})` : 'nothing importable: no rate TokenTally can use');
}
