import { Decimal, PriceUnit } from '@tokentally/core';
import {
  imageSizeProblem,
  isImageModel,
  MalformedSourceError,
  MAX_PER_IMAGE,
  modelId,
  ParsedSource,
  parseExactJson,
  perMillion,
  perPixelToPerImage,
  plain,
  QuoteCollector,
  RatePer,
  readPrice,
} from './source';

/**
 * LiteLLM's model_prices_and_context_window.json: one object per key, prices
 * in USD per token (per image, per pixel) as JSON numbers. Numbers are read
 * from the text as written (never through a float), so 1.25e-06 stays
 * exactly 1.25 per 1M. See docs/pricing.md, "How each source maps to our units".
 */
const PER_TOKEN_FIELDS: Record<string, PriceUnit> = {
  input_cost_per_token: 'input_text',
  cache_read_input_token_cost: 'cached_input_text',
  output_cost_per_token: 'output_text',
  input_cost_per_image_token: 'input_image',
  cache_read_input_image_token_cost: 'cached_input_image',
  output_cost_per_image_token: 'output_image',
};

/** LiteLLM's provider names (`litellm_provider`) -> TokenTally's provider slugs. Every other provider is not tracked.
 * */
export const LITELLM_PROVIDERS: Record<string, string> = {
  openai: 'openai',
  azure: 'azure',
  openrouter: 'openrouter',
  vercel_ai_gateway: 'vercel',
  gemini: 'google', // the Gemini API (generativelanguage.googleapis.com); vertex_ai-* is Google Cloud, another price list
};

const IMAGE_MODES = new Set(['image_generation', 'image_edit']);
const QUALITIES = new Set(['low', 'medium', 'high', 'standard', 'hd', 'auto']);
const SIZE = /^(\d+)-?x-?(\d+)$/;
/** A segment that tries to be a size or a step count but is none we can price (`max-x-max`, `50-steps`). */
const ODD_SIZE = /(?:^|-)x(?:-|$)|\d+x|steps/;
const NO_FREE_MARK = 'LiteLLM has no free mark';
const TIERS_NOTE = 'tiered prices exist: base tier imported';

interface KeyShape {
  model: string;
  quality: string | null;
  size: { text: string; width: number; height: number } | null;
  odd: string | null;
  /** A size segment whose width or height is 0 or absurd: why it is no size. */
  badSize: string | null;
}

/** A key segment for a reason line: a long one is cut. */
const segmentShown = (segment: string) =>
  segment.length <= 40 ? segment : `${segment.slice(0, 16)}...${segment.slice(-12)} (${segment.length} characters)`;

/**
 * `azure/hd/1024-x-1024/dall-e-3` -> quality hd, size 1024x1024, model dall-e-3.
 * The last segment is the model; before it an optional quality and size (in
 * any order, `1024-x-1024` or `1024x1024`) and namespace segments (`azure/`,
 * `gemini/`): the provider comes from `litellm_provider`, not from the key.
 */
function shapeOf(key: string): KeyShape {
  const segments = key.split('/');
  const model = modelId(key);
  const shape: KeyShape = { model, quality: null, size: null, odd: null, badSize: null };
  for (const raw of segments.slice(0, -1)) {
    const segment = raw.trim().toLowerCase();
    const size = SIZE.exec(segment);
    if (size) {
      const [width, height] = [Number(size[1]), Number(size[2])];
      const problem = imageSizeProblem(width, height);
      if (problem) shape.badSize = `size "${segmentShown(raw)}": ${problem}`;
      else shape.size = { text: `${width}x${height}`, width, height };
    } else if (QUALITIES.has(segment)) shape.quality = segment;
    else if (ODD_SIZE.test(segment)) shape.odd = raw;
  }
  return shape;
}

type FieldRole =
  | { role: 'token'; unit: PriceUnit }
  | { role: 'output_per_image' }
  | { role: 'input_per_image' }
  | { role: 'input_per_pixel' }
  | { role: 'output_per_pixel' }
  | { role: 'skip'; reason: string; tiered?: boolean };

/** What a price field of LiteLLM's is to TokenTally. */
function roleOf(field: string): FieldRole {
  const unit = PER_TOKEN_FIELDS[field];
  if (unit) return { role: 'token', unit };
  if (field === 'output_cost_per_image') return { role: 'output_per_image' };
  if (field === 'input_cost_per_image') return { role: 'input_per_image' };
  if (field === 'input_cost_per_pixel') return { role: 'input_per_pixel' };
  if (field === 'output_cost_per_pixel') return { role: 'output_per_pixel' };
  if (field.endsWith('_batches'))
    return { role: 'skip', reason: 'Batch API price: TokenTally prices ordinary (synchronous) calls' };
  if (field.startsWith('cache_creation'))
    return { role: 'skip', reason: 'cache write: TokenTally has no cache-write kind' };
  if (field.includes('audio')) return { role: 'skip', reason: 'audio: TokenTally has no audio token kind' };
  if (field === 'output_cost_per_reasoning_token')
    return { role: 'skip', reason: 'reasoning tokens: TokenTally has no reasoning token kind' };
  if (field === 'search_context_cost_per_query')
    return { role: 'skip', reason: 'web search (grounding) per query: TokenTally has no per-query unit' };
  if (/_(priority|flex)$/.test(field))
    return { role: 'skip', reason: 'service-tier price (priority / flex): the standard tier is imported' };
  if (/_above_/.test(field))
    return { role: 'skip', reason: 'tiered price (above a threshold): base tier imported', tiered: true };
  return { role: 'skip', reason: 'no TokenTally unit for this field' };
}

const isPriceField = (field: string) => /cost|price/.test(field);

export function parseLiteLLM(text: string): ParsedSource {
  const document = parseExactJson(text);
  if (!document || typeof document !== 'object' || Array.isArray(document))
    throw new MalformedSourceError('expected an object of models');
  const out = new QuoteCollector(NO_FREE_MARK);
  for (const [key, raw] of Object.entries(document as Record<string, unknown>)) {
    if (key === 'sample_spec' || !raw || typeof raw !== 'object' || Array.isArray(raw)) continue;
    // Each entry on its own: an exception while reading one is a skipped line, never a failed source.
    out.isolate(key, () => readEntry(out, key, raw as Record<string, unknown>));
  }
  return out.result();
}

function readEntry(out: QuoteCollector, key: string, entry: Record<string, unknown>): void {
  const shape = shapeOf(key);
  const mode = typeof entry.mode === 'string' ? entry.mode : '';
  const looksLikeImage =
    IMAGE_MODES.has(mode) || isImageModel(shape.model) || shape.size !== null || shape.badSize !== null;
  if (!looksLikeImage) return; // a text model: not ours, not worth a line
  const providerName = typeof entry.litellm_provider === 'string' ? entry.litellm_provider : '';
  const provider = LITELLM_PROVIDERS[providerName];
  if (!provider) {
    out.skip(key, `provider ${providerName || '(none)'} not tracked`);
    return;
  }
  if (!isImageModel(shape.model)) {
    out.skip(
      key,
      `mode ${mode || '(none)'} but ${shape.model} is not an image model TokenTally prices (gpt-image*, chatgpt-image*, dall-e*, gemini-*-image*, imagen*)`,
    );
    return;
  }
  if (shape.badSize !== null) {
    out.skip(key, `key shape not recognised: ${shape.badSize}`);
    return;
  }
  if (shape.odd !== null) {
    out.skip(key, `key shape not recognised: "${shape.odd}" is neither a quality nor a size`);
    return;
  }
  importEntry(out, key, entry, shape, provider);
}

/** What each LiteLLM price field is per, for its plausibility bound. */
function perOf(role: FieldRole): RatePer {
  switch (role.role) {
    case 'token':
      return 'token';
    case 'output_per_image':
    case 'input_per_image':
      return 'image';
    default:
      return 'pixel';
  }
}

interface Rate {
  field: string;
  value: string;
}

function importEntry(
  out: QuoteCollector,
  key: string,
  entry: Record<string, unknown>,
  shape: KeyShape,
  provider: string,
): void {
  const { model } = shape;
  const sized = shape.quality !== null || shape.size !== null;
  const tokens: Array<Rate & { unit: PriceUnit }> = [];
  let outputPerImage: Rate | null = null;
  let inputPerImage: Rate | null = null;
  let inputPerPixel: Rate | null = null;
  let zeros = 0;
  let positives = 0;
  let imported = 0;

  for (const [field, raw] of Object.entries(entry)) {
    if (!isPriceField(field)) continue;
    const role = roleOf(field);
    if (role.role === 'skip') {
      out.skip(key, `${field}: ${role.reason}`);
      if (role.tiered) out.note(provider, model, TIERS_NOTE);
      continue;
    }
    const rate = readPrice(field, raw, {
      free: false,
      noFreeMark: NO_FREE_MARK,
      negativeMeans: 'a negative rate is no price',
      per: perOf(role),
    });
    if (!rate.ok) {
      if (rate.zero) zeros++;
      out.skip(key, rate.reason);
      continue;
    }
    positives++;
    const found = { field, value: rate.value };
    if (role.role === 'token') tokens.push({ ...found, unit: role.unit });
    else if (role.role === 'output_per_image') outputPerImage = found;
    else if (role.role === 'input_per_image') inputPerImage = found;
    else if (role.role === 'input_per_pixel') inputPerPixel = found;
    else
      out.skip(
        key,
        `${field}: LiteLLM's image cost reads input_cost_per_pixel only; an output per-pixel rate is not imported`,
      );
  }

  if (sized) {
    for (const token of tokens)
      out.skip(
        key,
        `${token.field}: a per-token rate on a size/quality key is not imported (token rates come from the model's own key)`,
      );
    // One price per image of this quality and size: an explicit per-image price beats per-pixel.
    let pixelPrice =
      inputPerPixel && shape.size ? perPixelToPerImage(inputPerPixel.value, shape.size.width, shape.size.height) : null;
    if (inputPerPixel && !shape.size)
      out.skip(key, `${inputPerPixel.field}: a per-pixel rate but the key names no size`);
    // Judged on the exact product, before it is shortened to the precision of the rate.
    const exactPixelPrice =
      inputPerPixel && shape.size
        ? Decimal.parse(inputPerPixel.value).times(BigInt(shape.size.width) * BigInt(shape.size.height))
        : null;
    if (inputPerPixel && shape.size && exactPixelPrice && exactPixelPrice.compare(MAX_PER_IMAGE) > 0) {
      out.skip(
        key,
        `${inputPerPixel.field} ${inputPerPixel.value} x ${shape.size.width} x ${shape.size.height} = ${exactPixelPrice.toFixedString()} per image: implausible, above $1,000 per image; not imported`,
      );
      pixelPrice = null;
    }
    const candidates: Array<Rate & { perImage: string }> = [];
    if (outputPerImage) candidates.push({ ...outputPerImage, perImage: plain(outputPerImage.value) });
    if (inputPerImage) candidates.push({ ...inputPerImage, perImage: plain(inputPerImage.value) });
    if (inputPerPixel && pixelPrice) candidates.push({ ...inputPerPixel, perImage: pixelPrice });
    const [chosen, ...others] = candidates;
    if (chosen) {
      out.setImagePrice(provider, model, shape.quality, shape.size?.text ?? null, chosen.perImage, key, chosen.field);
      imported++;
      for (const other of others) {
        const what =
          other.field === 'input_cost_per_pixel'
            ? `${other.value} x ${shape.size!.width} x ${shape.size!.height} = ${other.perImage} per image`
            : other.perImage;
        out.skip(
          key,
          `${other.field} (${what}): the explicit per-image price ${chosen.field} ${chosen.perImage} is preferred`,
        );
      }
    }
  } else {
    for (const token of tokens) {
      out.setUnit(provider, model, token.unit, perMillion(token.value), key, token.field);
      imported++;
    }
    const tokenPriced = tokens.length > 0;
    if (outputPerImage) {
      out.setUnit(provider, model, 'per_image', plain(outputPerImage.value), key, outputPerImage.field);
      imported++;
    }
    if (inputPerImage) {
      if (tokenPriced) {
        out.skip(
          key,
          'input_cost_per_image on a token-priced model is per INPUT image; input images arrive as input_image tokens',
        );
      } else if (outputPerImage) {
        out.skip(
          key,
          'input_cost_per_image is per INPUT image here: output_cost_per_image is the generated-image price',
        );
      } else {
        // dall-e-2 / dall-e-3: LiteLLM bills the generated image with it, despite the name.
        out.setUnit(provider, model, 'per_image', plain(inputPerImage.value), key, inputPerImage.field);
        imported++;
      }
    }
    if (inputPerPixel) out.skip(key, `${inputPerPixel.field}: a per-pixel rate but the key names no size`);
  }

  if (imported === 0) {
    out.skip(
      key,
      positives === 0 && zeros > 0
        ? `every rate is 0 (${NO_FREE_MARK})`
        : 'nothing importable: no rate TokenTally can use',
    );
  }
}
