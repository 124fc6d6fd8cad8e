import * as fs from 'node:fs';
import * as path from 'node:path';
import { Decimal, isAllZero, ratesOf } from '@tokentally/core';
import { parseLiteLLM } from './litellm';
import { parseOpenRouter } from './openrouter';
import { ParsedSource, PriceQuote, SkippedEntry } from './source';

/**
 * The adapters against REAL source answers (test/fixtures/real, copied
 * unedited, provenance in its PROVENANCE.md). Every expected figure below was
 * written by hand from the file's own text (per token x 10^6 for token rates,
 * per pixel x width x height for per-pixel rates), never computed by the code
 * under test.
 */
const REAL = path.join(__dirname, '../../../../test/fixtures/real');
const real = (name: string) => fs.readFileSync(path.join(REAL, name), 'utf8');

const litellm: ParsedSource = parseLiteLLM(real('litellm-model-prices.json'));
const openrouter: ParsedSource = parseOpenRouter(real('openrouter-models.json'));

const quote = (result: ParsedSource, provider: string, model: string): PriceQuote | undefined =>
  result.quotes.find((q) => q.provider === provider && q.model === model);
const reasons = (skipped: SkippedEntry[], key: string): string[] =>
  skipped.filter((s) => s.key === key).map((s) => s.reason);
const ids = (result: ParsedSource) => result.quotes.map((q) => `${q.provider}/${q.model}`).sort();

// gpt-image-1 per-image prices, OpenAI's: the `input_cost_per_image` of the size/quality keys.
const GPT_IMAGE_1_PER_IMAGE = {
  'low/1024x1024': '0.011',
  'low/1024x1536': '0.016',
  'low/1536x1024': '0.016',
  'medium/1024x1024': '0.042',
  'medium/1024x1536': '0.063',
  'medium/1536x1024': '0.063',
  'high/1024x1024': '0.167',
  'high/1024x1536': '0.25',
  'high/1536x1024': '0.25',
};

// gpt-image-1.5 (and its 2025-12-16 snapshot): low/medium/high/standard and quality-less keys.
const GPT_IMAGE_1_5_PER_IMAGE = {
  'low/1024x1024': '0.009',
  'low/1024x1536': '0.013',
  'low/1536x1024': '0.013',
  'medium/1024x1024': '0.034',
  'medium/1024x1536': '0.05',
  'medium/1536x1024': '0.05',
  'high/1024x1024': '0.133',
  'high/1024x1536': '0.2',
  'high/1536x1024': '0.2',
  'standard/1024x1024': '0.009',
  'standard/1024x1536': '0.013',
  'standard/1536x1024': '0.013',
  '*/1024x1024': '0.009', // key "1024-x-1024/gpt-image-1.5": no quality
  '*/1024x1536': '0.013',
  '*/1536x1024': '0.013',
};

// dall-e-3 per pixel (same rates for openai and azure keys), x width x height:
const DALL_E_3_PER_IMAGE = {
  'hd/1024x1024': '0.08', // 7.629e-08 x 1,048,576 = 0.07999586304 +- 0.0000052 (half a unit of the rate's last digit x pixels)
  'hd/1024x1792': '0.12', // 6.539e-08 x 1,835,008 = 0.11999117312 +- 0.0000092
  'hd/1792x1024': '0.12', // 6.539e-08 x 1,835,008 = 0.11999117312 +- 0.0000092
  'standard/1024x1024': '0.0399999', // 3.81469e-08 x 1,048,576 = 0.0399999238144 +- 0.000000052: 0.04 is outside
  'standard/1024x1792': '0.07999', // 4.359e-08 x 1,835,008 = 0.07998799872 +- 0.0000092: 0.08 is outside
  'standard/1792x1024': '0.07999', // 4.359e-08 x 1,835,008 = 0.07998799872 +- 0.0000092: 0.08 is outside
};

const GPT_IMAGE_1_5_TOKENS = {
  input_text: '5',
  cached_input_text: '1.25',
  output_text: '10',
  input_image: '8',
  output_image: '32',
};
const GPT_IMAGE_2_TOKENS = {
  input_text: '5',
  cached_input_text: '1.25',
  output_text: '10',
  input_image: '8',
  output_image: '30',
};

const LITELLM_EXPECTED: PriceQuote[] = [
  // ---- openai
  {
    provider: 'openai',
    model: 'gpt-image-1',
    sheet: {
      input_text: '5',
      cached_input_text: '1.25',
      input_image: '10',
      output_image: '40',
      image_prices: GPT_IMAGE_1_PER_IMAGE,
    },
  },
  {
    provider: 'openai',
    model: 'gpt-image-1-mini',
    sheet: {
      input_text: '2', // 2e-06
      cached_input_text: '0.2', // 2e-07
      input_image: '2.5', // 2.5e-06
      output_image: '8', // 8e-06
      image_prices: {
        'low/1024x1024': '0.005',
        'low/1024x1536': '0.006',
        'low/1536x1024': '0.006',
        'medium/1024x1024': '0.011',
        'medium/1024x1536': '0.015',
        'medium/1536x1024': '0.015',
      },
    },
  },
  {
    provider: 'openai',
    model: 'gpt-image-1.5',
    sheet: { ...GPT_IMAGE_1_5_TOKENS, image_prices: GPT_IMAGE_1_5_PER_IMAGE },
  },
  {
    provider: 'openai',
    model: 'gpt-image-1.5-2025-12-16',
    sheet: { ...GPT_IMAGE_1_5_TOKENS, image_prices: GPT_IMAGE_1_5_PER_IMAGE },
  },
  { provider: 'openai', model: 'gpt-image-2', sheet: GPT_IMAGE_2_TOKENS },
  { provider: 'openai', model: 'gpt-image-2-2026-04-21', sheet: GPT_IMAGE_2_TOKENS },
  {
    provider: 'openai',
    model: 'chatgpt-image-latest',
    sheet: { input_text: '5', cached_input_text: '1.25', input_image: '10', output_image: '40' },
  },
  {
    provider: 'openai',
    model: 'dall-e-2',
    sheet: {
      per_image: '0.02', // "dall-e-2": input_cost_per_image 0.02, the generated image's price in LiteLLM
      image_prices: {
        '*/256x256': '0.016', // 2.4414e-07 x 65,536 = 0.01599995904 +- 0.00000033
        '*/512x512': '0.01798', // 6.86e-08 x 262,144 = 0.0179830784 +- 0.000013: 0.018 is outside
        '*/1024x1024': '0.02', // 1.9e-08 x 1,048,576 = 0.019922944 +- 0.00052
      },
    },
  },
  { provider: 'openai', model: 'dall-e-3', sheet: { per_image: '0.04', image_prices: DALL_E_3_PER_IMAGE } },
  // ---- azure
  {
    provider: 'azure',
    model: 'gpt-image-1',
    sheet: {
      input_text: '5',
      cached_input_text: '1.25',
      input_image: '10',
      output_image: '40',
      // only input_cost_per_pixel on the azure/ size keys: rate x width x height
      image_prices: {
        'low/1024x1024': '0.011', // 1.0490417e-08 x 1,048,576 = 0.010999999496192 +- 0.00000000052
        'low/1024x1536': '0.016', // 1.0172526e-08 x 1,572,864 = 0.015999999934464 +- 0.00000000079
        'low/1536x1024': '0.016',
        'medium/1024x1024': '0.042', // 4.0054321e-08 x 1,048,576 = 0.041999999696896 +- 0.00000000052
        'medium/1024x1536': '0.063', // 4.0054321e-08 x 1,572,864 = 0.062999999545344 +- 0.00000000079
        'medium/1536x1024': '0.063',
        'high/1024x1024': '0.167', // 1.59263611e-07 x 1,048,576 = 0.167000000167936 +- 0.00000000052
        'high/1024x1536': '0.25', // 1.58945719e-07 x 1,572,864 = 0.249999999369216 +- 0.00000000079
        'high/1536x1024': '0.25',
      },
    },
  },
  {
    provider: 'azure',
    model: 'gpt-image-1-mini',
    sheet: {
      input_text: '2',
      cached_input_text: '0.2',
      input_image: '2.5',
      output_image: '8',
      image_prices: {
        'low/1024x1024': '0.002176', // 2.0751953125e-09 x 1,048,576
        'low/1024x1536': '0.003264', // 2.0751953125e-09 x 1,572,864
        'low/1536x1024': '0.0032', // 2.0345052083e-09 x 1,572,864 = 0.0031999999999475712 +- 0.000000000000079
        'medium/1024x1024': '0.008448', // 8.056640625e-09 x 1,048,576
        'medium/1024x1536': '0.012672', // 8.056640625e-09 x 1,572,864
        'medium/1536x1024': '0.012544', // 7.9752604167e-09 x 1,572,864 = 0.0125440000000524288 +- 0.000000000000079
        'high/1024x1024': '0.03328', // 3.173828125e-08 x 1,048,576
        'high/1024x1536': '0.04992', // 3.173828125e-08 x 1,572,864
        'high/1536x1024': '0.049664', // 3.1575520833e-08 x 1,572,864 = 0.049663999999475712 +- 0.00000000000079
      },
    },
  },
  // azure/gpt-image-1.5 has no output_cost_per_token: no text output rate
  {
    provider: 'azure',
    model: 'gpt-image-1.5',
    sheet: { input_text: '5', cached_input_text: '1.25', input_image: '8', output_image: '32' },
  },
  {
    provider: 'azure',
    model: 'gpt-image-1.5-2025-12-16',
    sheet: { input_text: '5', cached_input_text: '1.25', input_image: '8', output_image: '32' },
  },
  { provider: 'azure', model: 'gpt-image-2', sheet: GPT_IMAGE_2_TOKENS },
  { provider: 'azure', model: 'gpt-image-2-2026-04-21', sheet: GPT_IMAGE_2_TOKENS },
  // only size/quality keys: no per_image, no token rate (their output_cost_per_token is 0.0)
  { provider: 'azure', model: 'dall-e-3', sheet: { image_prices: DALL_E_3_PER_IMAGE } },
  // ---- google (LiteLLM provider "gemini", the Gemini API)
  {
    provider: 'google',
    model: 'gemini-2.5-flash-image',
    sheet: { input_text: '0.3', cached_input_text: '0.03', output_text: '2.5', output_image: '30', per_image: '0.039' },
  },
  {
    provider: 'google',
    model: 'gemini-3-pro-image',
    sheet: { input_text: '2', output_text: '12', output_image: '120', per_image: '0.134' },
  },
  {
    provider: 'google',
    model: 'gemini-3-pro-image-preview',
    sheet: { input_text: '2', output_text: '12', output_image: '120', per_image: '0.134' },
  },
  {
    provider: 'google',
    model: 'gemini-3.1-flash-image',
    sheet: { input_text: '0.25', output_text: '1.5', output_image: '60', per_image: '0.045' },
  },
  {
    provider: 'google',
    model: 'gemini-3.1-flash-image-preview',
    sheet: { input_text: '0.25', output_text: '1.5', output_image: '60', per_image: '0.045' },
  },
  // input_cost_per_token 0.0 and output_cost_per_token 0.0 are no price: only the per-image price stays
  { provider: 'google', model: 'gemini-2.0-flash-exp-image-generation', sheet: { per_image: '0.039' } },
  { provider: 'google', model: 'imagen-3.0-fast-generate-001', sheet: { per_image: '0.02' } },
  { provider: 'google', model: 'imagen-3.0-generate-001', sheet: { per_image: '0.04' } },
  { provider: 'google', model: 'imagen-3.0-generate-002', sheet: { per_image: '0.04' } },
  { provider: 'google', model: 'imagen-4.0-fast-generate-001', sheet: { per_image: '0.02' } },
  { provider: 'google', model: 'imagen-4.0-generate-001', sheet: { per_image: '0.04' } },
  { provider: 'google', model: 'imagen-4.0-ultra-generate-001', sheet: { per_image: '0.06' } },
];

const GEMINI_3_PRO_IMAGE_OR = { input: '2', output: '12', cached_input: '0.2', output_image: '120' };
const GEMINI_3_1_FLASH_IMAGE_OR = { input: '0.5', output: '3', output_image: '60' };

const OPENROUTER_EXPECTED: PriceQuote[] = [
  {
    provider: 'openrouter',
    model: 'gemini-2.5-flash-image',
    sheet: { input: '0.3', output: '2.5', cached_input: '0.03', output_image: '30' },
  },
  { provider: 'openrouter', model: 'gemini-3-pro-image', sheet: GEMINI_3_PRO_IMAGE_OR },
  { provider: 'openrouter', model: 'gemini-3-pro-image-preview', sheet: GEMINI_3_PRO_IMAGE_OR },
  { provider: 'openrouter', model: 'gemini-3.1-flash-image', sheet: GEMINI_3_1_FLASH_IMAGE_OR },
  { provider: 'openrouter', model: 'gemini-3.1-flash-image-preview', sheet: GEMINI_3_1_FLASH_IMAGE_OR },
  {
    provider: 'openrouter',
    model: 'gemini-3.1-flash-lite-image',
    sheet: { input: '0.25', output: '1.5', output_image: '30' },
  },
  // image models by architecture.output_modalities (["image", "text"]), not by name
  {
    provider: 'openrouter',
    model: 'gpt-5-image',
    sheet: { input: '10', output: '10', cached_input: '1.25', output_image: '40' },
  },
  {
    provider: 'openrouter',
    model: 'gpt-5-image-mini',
    sheet: { input: '2.5', output: '2', cached_input: '0.25', output_image: '8' },
  },
  {
    provider: 'openrouter',
    model: 'gpt-5.4-image-2',
    sheet: { input: '8', output: '15', cached_input: '2', output_image: '30' },
  },
];

describe('LiteLLM adapter on the real model_prices_and_context_window.json', () => {
  it('imports exactly the image models of tracked providers, one quote per provider and model', () => {
    expect(ids(litellm)).toEqual(LITELLM_EXPECTED.map((q) => `${q.provider}/${q.model}`).sort());
  });

  it.each(LITELLM_EXPECTED.map((q) => [`${q.provider}/${q.model}`, q] as const))(
    'imports %s exactly',
    (_, expected) => {
      expect(quote(litellm, expected.provider, expected.model)).toEqual(expected);
    },
  );

  it('azure/hd/1024-x-1024/dall-e-3: output_cost_per_token 0.0 is no price, the per-pixel rate is (was: model dall-e-3 priced $0)', () => {
    expect(reasons(litellm.skipped, 'azure/hd/1024-x-1024/dall-e-3')).toEqual([
      'output_cost_per_token 0 is no price (LiteLLM has no free mark)',
    ]);
    const azure = quote(litellm, 'azure', 'dall-e-3')!;
    expect(azure.sheet.output_text).toBeUndefined();
    expect(azure.sheet.image_prices?.['hd/1024x1024']).toBe('0.08');
  });

  it('azure/standard/1024-x-1024/dall-e-2: every rate 0, skipped, no azure dall-e-2 quote', () => {
    expect(reasons(litellm.skipped, 'azure/standard/1024-x-1024/dall-e-2')).toEqual([
      'input_cost_per_pixel 0 is no price (LiteLLM has no free mark)',
      'output_cost_per_token 0 is no price (LiteLLM has no free mark)',
      'every rate is 0 (LiteLLM has no free mark)',
    ]);
    expect(quote(litellm, 'azure', 'dall-e-2')).toBeUndefined();
  });

  it('an explicit per-image price beats the per-pixel rate of the same key', () => {
    expect(reasons(litellm.skipped, 'high/1024-x-1024/gpt-image-1')).toEqual([
      'output_cost_per_pixel 0 is no price (LiteLLM has no free mark)',
      'input_cost_per_pixel (1.59263611e-07 x 1024 x 1024 = 0.167 per image): the explicit per-image price input_cost_per_image 0.167 is preferred',
    ]);
  });

  it('Gemini image models: input_cost_per_image is per INPUT image, output_cost_per_image is per_image; reasoning, audio, batches and search are skipped', () => {
    expect(reasons(litellm.skipped, 'gemini/gemini-3-pro-image')).toEqual([
      'input_cost_per_token_batches: Batch API price: TokenTally prices ordinary (synchronous) calls',
      'output_cost_per_token_batches: Batch API price: TokenTally prices ordinary (synchronous) calls',
      'search_context_cost_per_query: web search (grounding) per query: TokenTally has no per-query unit',
      'input_cost_per_image on a token-priced model is per INPUT image; input images arrive as input_image tokens',
    ]);
    expect(reasons(litellm.skipped, 'gemini/gemini-2.5-flash-image')).toEqual([
      'input_cost_per_audio_token: audio: TokenTally has no audio token kind',
      'output_cost_per_reasoning_token: reasoning tokens: TokenTally has no reasoning token kind',
      'search_context_cost_per_query: web search (grounding) per query: TokenTally has no per-query unit',
    ]);
  });

  it('gemini-2.0-flash-exp-image-generation: its 0.0 token rates are skipped under both keys', () => {
    for (const key of ['gemini-2.0-flash-exp-image-generation', 'gemini/gemini-2.0-flash-exp-image-generation']) {
      expect(reasons(litellm.skipped, key)).toEqual([
        'input_cost_per_token 0 is no price (LiteLLM has no free mark)',
        'output_cost_per_token 0 is no price (LiteLLM has no free mark)',
      ]);
    }
  });

  it('says which providers are not tracked, one line per image entry', () => {
    expect(reasons(litellm.skipped, 'vertex_ai/gemini-3-pro-image')).toEqual([
      'provider vertex_ai-language-models not tracked',
    ]);
    expect(reasons(litellm.skipped, 'gemini-3-pro-image')).toEqual(['provider vertex_ai-language-models not tracked']);
    expect(reasons(litellm.skipped, 'vertex_ai/imagen-4.0-generate-001')).toEqual([
      'provider vertex_ai-image-models not tracked',
    ]);
    expect(reasons(litellm.skipped, 'aiml/openai/gpt-image-2')).toEqual(['provider aiml not tracked']);
    expect(reasons(litellm.skipped, 'aiml/dall-e-3')).toEqual(['provider aiml not tracked']);
    expect(reasons(litellm.skipped, 'fal_ai/fal-ai/imagen4/preview')).toEqual(['provider fal_ai not tracked']);
    expect(reasons(litellm.skipped, '1024-x-1024/50-steps/bedrock/amazon.nova-canvas-v1:0')).toEqual([
      'provider bedrock not tracked',
    ]);
    expect(reasons(litellm.skipped, 'azure_ai/MAI-Image-2.5')).toEqual(['provider azure_ai not tracked']);
    const untracked = new Set(
      litellm.skipped.map((s) => /^provider (\S+) not tracked$/.exec(s.reason)?.[1]).filter(Boolean),
    );
    expect([...untracked].sort()).toEqual([
      'aiml',
      'azure_ai',
      'bedrock',
      'black_forest_labs',
      'dashscope',
      'fal_ai',
      'fireworks_ai',
      'nscale',
      'recraft',
      'runwayml',
      'stability',
      'vertex_ai-image-models',
      'vertex_ai-language-models',
    ]);
  });

  it('a model LiteLLM lists as image_generation that is no image model is skipped with its reason', () => {
    expect(reasons(litellm.skipped, 'gemini/deep-research-pro-preview-12-2025')).toEqual([
      'mode image_generation but deep-research-pro-preview-12-2025 is not an image model TokenTally prices (gpt-image*, chatgpt-image*, dall-e*, gemini-*-image*, imagen*)',
    ]);
  });

  it('text models make neither a quote nor a skipped line', () => {
    const document = JSON.parse(real('litellm-model-prices.json'));
    for (const key of ['gpt-4o', 'gpt-5', 'gemini/gemini-2.5-flash', 'azure/gpt-4o', 'claude-sonnet-4-20250514']) {
      expect(document[key]).toBeDefined(); // the file has them
      expect(reasons(litellm.skipped, key)).toEqual([]);
    }
    expect(litellm.quotes.some((q) => /^(gpt-4|gpt-5|claude|o\d)/.test(q.model))).toBe(false);
  });
});

describe('OpenRouter adapter on a real GET /api/v1/models answer', () => {
  it('imports the models whose output modalities include image (gpt-image-2 is absent: fetched without output_modalities=all)', () => {
    expect(ids(openrouter)).toEqual(OPENROUTER_EXPECTED.map((q) => `${q.provider}/${q.model}`).sort());
    expect(quote(openrouter, 'openrouter', 'gpt-image-2')).toBeUndefined();
  });

  it.each(OPENROUTER_EXPECTED.map((q) => [q.model, q] as const))('imports openrouter/%s exactly', (_, expected) => {
    expect(quote(openrouter, expected.provider, expected.model)).toEqual(expected);
  });

  it('maps or skips every pricing key of google/gemini-2.5-flash-image with its reason', () => {
    expect(reasons(openrouter.skipped, 'google/gemini-2.5-flash-image')).toEqual([
      'image: per INPUT image (OpenRouter reference: "Price in USD per input image"); TokenTally counts input images as input_image tokens, priced by prompt, and has no per-input-image unit',
      'audio: per audio input token: TokenTally has no audio kind',
      'input_audio_cache: per cached audio input token: TokenTally has no audio kind',
      'web_search: per web search: TokenTally has no web-search unit',
      'internal_reasoning: per internal reasoning token: TokenTally has no reasoning token kind',
      'input_cache_write: cache write per token: TokenTally has no cache-write kind',
    ]);
  });

  it('-1 means a variable price: the routers are skipped, never priced', () => {
    for (const id of ['openrouter/auto', 'openrouter/auto-beta']) {
      expect(reasons(openrouter.skipped, id)).toEqual([
        'prompt -1: OpenRouter -1 means variable price (no price)',
        'completion -1: OpenRouter -1 means variable price (no price)',
        'OpenRouter -1 means variable price: nothing to import',
      ]);
    }
    expect(quote(openrouter, 'openrouter', 'auto')).toBeUndefined();
  });

  it('text models (tiered ones included) make neither a quote nor a skipped line', () => {
    const listed = JSON.parse(real('openrouter-models.json')).data.map((m: { id: string }) => m.id);
    for (const id of ['qwen/qwen3.7-flash', 'deepseek/deepseek-v4-flash-0731']) {
      expect(listed).toContain(id); // the answer has them (qwen with tiered overrides)
      expect(reasons(openrouter.skipped, id)).toEqual([]);
    }
  });
});

describe('every real quote', () => {
  const all = [...litellm.quotes, ...openrouter.quotes];

  it('has no zero rate (none is marked free) and is never all-zero', () => {
    for (const q of all) {
      expect(q.free).toBeUndefined();
      expect(isAllZero(q.sheet)).toBe(false);
      for (const [unit, value] of ratesOf(q.sheet)) {
        if (Decimal.parse(value).isZero()) throw new Error(`${q.provider}/${q.model} ${unit} is 0`);
      }
    }
  });

  it('states every rate in plain decimal notation, positive', () => {
    for (const q of all) {
      for (const [, value] of ratesOf(q.sheet)) {
        expect(value).toMatch(/^\d+(\.\d*[1-9])?$/);
      }
    }
  });
});
