import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseLiteLLM } from './litellm';
import { parseOpenRouter } from './openrouter';
import { MalformedSourceError, quoteJsonNumbers, SkippedEntry } from './source';
import { parseVercel } from './vercel';

const fixture = (name: string) =>
  fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/pricing', name), 'utf8');
const reasons = (skipped: SkippedEntry[], key: string) => skipped.filter((s) => s.key === key).map((s) => s.reason);
const litellmOf = (entries: Record<string, unknown>) => parseLiteLLM(JSON.stringify(entries));
const dataOf = (models: unknown[]) => JSON.stringify({ data: models });

describe('price source adapters on the trimmed fixtures of the e2e tests', () => {
  it('maps LiteLLM per-token numbers to exact prices per 1M tokens, image models only, size keys merged into their model', () => {
    const { quotes, skipped } = parseLiteLLM(fixture('litellm.json'));
    expect(quotes).toEqual([
      {
        provider: 'openai',
        model: 'gpt-image-1',
        sheet: {
          input_text: '5',
          cached_input_text: '1.25',
          input_image: '10',
          cached_input_image: '2.5',
          output_image: '40',
          image_prices: { 'high/1024x1024': '0.167' },
        },
      },
      {
        provider: 'openai',
        model: 'gpt-image-2',
        sheet: { input_text: '5', cached_input_text: '1.25', output_text: '10', input_image: '8', output_image: '30' },
      },
      { provider: 'azure', model: 'gpt-image-1', sheet: { input_text: '5', input_image: '10', output_image: '40' } },
      { provider: 'openai', model: 'dall-e-3', sheet: { per_image: '0.04' } },
    ]);
    expect(skipped).toEqual([]);
  });

  it('maps OpenRouter pricing strings; "0" is no price', () => {
    const { quotes, skipped } = parseOpenRouter(fixture('openrouter.json'));
    expect(quotes).toEqual([
      {
        provider: 'openrouter',
        model: 'gpt-image-2',
        sheet: { input: '5', output: '10', cached_input: '1.25', input_image: '8', output_image: '30' },
      },
    ]);
    expect(reasons(skipped, 'openai/gpt-image-2')).toEqual([
      'request 0 is no price (not marked free: OpenRouter marks a free model with an id ending in :free)',
      'image: per INPUT image (OpenRouter reference: "Price in USD per input image"); TokenTally counts input images as input_image tokens, priced by prompt, and has no per-input-image unit',
      'web_search: per web search: TokenTally has no web-search unit',
      'internal_reasoning: per internal reasoning token: TokenTally has no reasoning token kind',
    ]);
    expect(reasons(skipped, 'openai/gpt-4o')).toEqual([]); // a text model
  });

  it('maps Vercel AI Gateway one input and one output rate', () => {
    expect(parseVercel(fixture('vercel.json'))).toEqual({
      quotes: [{ provider: 'vercel', model: 'gpt-image-2', sheet: { input: '5', output: '30' } }],
      skipped: [],
    });
  });

  it('refuses what is not the format', () => {
    expect(() => parseLiteLLM('{"gpt-image-2": ')).toThrow(MalformedSourceError);
    expect(() => parseLiteLLM('[1,2]')).toThrow(MalformedSourceError);
    expect(() => parseOpenRouter('{"models": []}')).toThrow(MalformedSourceError);
    expect(() => parseVercel('<html>')).toThrow(MalformedSourceError);
  });
});

describe('LiteLLM key shapes and rates', () => {
  const image = { litellm_provider: 'openai', mode: 'image_generation' };

  it('recognises every per-size / per-quality spelling and merges it into the base model', () => {
    const { quotes } = litellmOf({
      'gpt-image-1.5': { ...image, input_cost_per_token: 5e-6 },
      '1024-x-1024/gpt-image-1.5': { ...image, input_cost_per_image: 0.009 },
      '1024x1536/gpt-image-1.5': { ...image, input_cost_per_image: 0.013 },
      'low/1024-x-1024/gpt-image-1.5': { ...image, input_cost_per_image: 0.009 },
      'standard/1536x1024/gpt-image-1.5': { ...image, input_cost_per_image: 0.013 },
      'hd/gpt-image-1.5': { ...image, input_cost_per_image: 0.2 },
      'low/1024-x-1024/gpt-image-1.5-2025-12-16': { ...image, input_cost_per_image: 0.009 },
      'azure/low/1024-x-1024/gpt-image-1': {
        litellm_provider: 'azure',
        mode: 'image_generation',
        input_cost_per_pixel: 1e-8,
        output_cost_per_pixel: 0.0,
      },
    });
    expect(quotes).toEqual([
      {
        provider: 'openai',
        model: 'gpt-image-1.5',
        sheet: {
          input_text: '5',
          image_prices: {
            '*/1024x1024': '0.009',
            '*/1024x1536': '0.013',
            'low/1024x1024': '0.009',
            'standard/1536x1024': '0.013',
            'hd/*': '0.2',
          },
        },
      },
      { provider: 'openai', model: 'gpt-image-1.5-2025-12-16', sheet: { image_prices: { 'low/1024x1024': '0.009' } } },
      { provider: 'azure', model: 'gpt-image-1', sheet: { image_prices: { 'low/1024x1024': '0.01' } } }, // 1e-8 x 1,048,576 = 0.01048576 +- 0.0052: one digit
    ]);
  });

  it('keeps the first of two disagreeing rates for the same model and says so', () => {
    const { quotes, skipped } = litellmOf({
      'gemini-2.0-flash-exp-image-generation': {
        litellm_provider: 'gemini',
        mode: 'image_generation',
        output_cost_per_image: 0.039,
      },
      'gemini/gemini-2.0-flash-exp-image-generation': {
        litellm_provider: 'gemini',
        mode: 'image_generation',
        output_cost_per_image: 0.04,
      },
    });
    expect(quotes).toEqual([
      { provider: 'google', model: 'gemini-2.0-flash-exp-image-generation', sheet: { per_image: '0.039' } },
    ]);
    expect(skipped).toEqual([
      {
        key: 'gemini/gemini-2.0-flash-exp-image-generation',
        reason:
          'output_cost_per_image gives per_image 0.04, but gemini-2.0-flash-exp-image-generation already gave 0.039: the first is kept',
      },
    ]);
  });

  it('never emits an all-zero quote, and drops zeros beside real rates', () => {
    const { quotes, skipped } = litellmOf({
      'gpt-image-9': { ...image, input_cost_per_token: 0, output_cost_per_image_token: '0.0' },
      'gpt-image-8': { ...image, input_cost_per_token: 0.0, output_cost_per_image_token: 3e-5 },
    });
    expect(quotes).toEqual([{ provider: 'openai', model: 'gpt-image-8', sheet: { output_image: '30' } }]);
    expect(reasons(skipped, 'gpt-image-9')).toEqual([
      'input_cost_per_token 0 is no price (LiteLLM has no free mark)',
      'output_cost_per_image_token 0 is no price (LiteLLM has no free mark)',
      'every rate is 0 (LiteLLM has no free mark)',
    ]);
  });

  it('notes tiered prices and imports the base tier', () => {
    const { quotes, skipped } = litellmOf({
      'gemini/gemini-9-pro-image': {
        litellm_provider: 'gemini',
        mode: 'image_generation',
        input_cost_per_token: 2e-6,
        input_cost_per_token_above_200k_tokens: 4e-6,
      },
    });
    expect(quotes).toEqual([
      {
        provider: 'google',
        model: 'gemini-9-pro-image',
        sheet: { input_text: '2' },
        notes: ['tiered prices exist: base tier imported'],
      },
    ]);
    expect(skipped).toEqual([
      {
        key: 'gemini/gemini-9-pro-image',
        reason: 'input_cost_per_token_above_200k_tokens: tiered price (above a threshold): base tier imported',
      },
    ]);
  });

  it('skips what it cannot read instead of guessing', () => {
    const { quotes, skipped } = litellmOf({
      'max-x-max/dall-e-3': { ...image, input_cost_per_image: 0.1 },
      'dall-e-3': { ...image, input_cost_per_image: -1 },
      'dall-e-2': { ...image, input_cost_per_pixel: 1e-8 },
    });
    expect(quotes).toEqual([]);
    expect(skipped).toEqual([
      { key: 'max-x-max/dall-e-3', reason: 'key shape not recognised: "max-x-max" is neither a quality nor a size' },
      { key: 'dall-e-3', reason: 'input_cost_per_image -1: a negative rate is no price' },
      { key: 'dall-e-3', reason: 'nothing importable: no rate TokenTally can use' },
      { key: 'dall-e-2', reason: 'input_cost_per_pixel: a per-pixel rate but the key names no size' },
      { key: 'dall-e-2', reason: 'nothing importable: no rate TokenTally can use' },
    ]);
  });

  it('prefers output_cost_per_image over input_cost_per_image on a per-image model', () => {
    const { quotes, skipped } = litellmOf({
      'imagen-9': {
        litellm_provider: 'gemini',
        mode: 'image_generation',
        input_cost_per_image: 0.01,
        output_cost_per_image: 0.05,
      },
    });
    expect(quotes).toEqual([{ provider: 'google', model: 'imagen-9', sheet: { per_image: '0.05' } }]);
    expect(skipped).toEqual([
      {
        key: 'imagen-9',
        reason: 'input_cost_per_image is per INPUT image here: output_cost_per_image is the generated-image price',
      },
    ]);
  });
});

describe('OpenRouter marks and tiers', () => {
  const imageModel = (id: string, pricing: Record<string, unknown>) => ({
    id,
    architecture: { output_modalities: ['image', 'text'] },
    pricing,
  });

  it('trusts a :free id: its zero rates are prices', () => {
    const { quotes, skipped } = parseOpenRouter(
      dataOf([imageModel('google/gemini-9-flash-image:free', { prompt: '0', completion: '0' })]),
    );
    expect(quotes).toEqual([
      { provider: 'openrouter', model: 'gemini-9-flash-image:free', sheet: { input: '0', output: '0' }, free: true },
    ]);
    expect(skipped).toEqual([]);
  });

  it('without :free, zeros are no price and an all-zero model is skipped', () => {
    const { quotes, skipped } = parseOpenRouter(
      dataOf([imageModel('google/gemini-9-flash-image', { prompt: '0', completion: '0' })]),
    );
    expect(quotes).toEqual([]);
    expect(reasons(skipped, 'google/gemini-9-flash-image')).toContain(
      'every rate is 0 (not marked free: OpenRouter marks a free model with an id ending in :free)',
    );
  });

  it('imports the base tier of overrides and notes that tiers exist', () => {
    const { quotes, skipped } = parseOpenRouter(
      dataOf([
        imageModel('openai/gpt-9-image', {
          prompt: '0.000005',
          completion: '0.00001',
          request: '0.01',
          input_cache_write_1h: '0.00001',
          audio_output: '0.00002',
          brand_new_key: '0.1',
          overrides: [{ min_prompt_tokens: 272000, prompt: '0.00001' }],
        }),
      ]),
    );
    expect(quotes).toEqual([
      {
        provider: 'openrouter',
        model: 'gpt-9-image',
        sheet: { input: '5', output: '10', per_request: '0.01' },
        notes: ['tiered prices exist: base tier imported'],
      },
    ]);
    expect(reasons(skipped, 'openai/gpt-9-image')).toEqual([
      'input_cache_write_1h: 1-hour cache write per token: TokenTally has no cache-write kind',
      'audio_output: per audio output token: TokenTally has no audio kind',
      'brand_new_key: unknown OpenRouter pricing key, not imported',
      'overrides: tiered prices (min_prompt_tokens 272000), base tier imported',
    ]);
  });

  it('keeps a number OpenRouter sends unquoted exactly', () => {
    const { quotes } = parseOpenRouter(
      '{"data":[{"id":"openai/gpt-image-2","pricing":{"prompt":0.000005,"image_output":3e-05}}]}',
    );
    expect(quotes).toEqual([
      { provider: 'openrouter', model: 'gpt-image-2', sheet: { input: '5', output_image: '30' } },
    ]);
  });
});

describe('Vercel zero rule', () => {
  it('a 0 is no price (Vercel has no free mark we trust); unknown keys are skipped with a reason', () => {
    const { quotes, skipped } = parseVercel(
      dataOf([
        { id: 'openai/gpt-image-2', type: 'image', pricing: { input: '0', output: '0.00003', web_search: '0.01' } },
        { id: 'google/imagen-9', type: 'image', pricing: { input: '0', output: '0.0' } },
        { id: 'anthropic/claude-sonnet-4', type: 'language', pricing: { input: '0.000003', output: '0.000015' } },
      ]),
    );
    expect(quotes).toEqual([{ provider: 'vercel', model: 'gpt-image-2', sheet: { output: '30' } }]);
    expect(skipped).toEqual([
      {
        key: 'openai/gpt-image-2',
        reason: 'input 0 is no price (Vercel AI Gateway has no free mark TokenTally trusts)',
      },
      { key: 'openai/gpt-image-2', reason: 'web_search: per web search: TokenTally has no web-search unit' },
      { key: 'google/imagen-9', reason: 'input 0 is no price (Vercel AI Gateway has no free mark TokenTally trusts)' },
      { key: 'google/imagen-9', reason: 'output 0 is no price (Vercel AI Gateway has no free mark TokenTally trusts)' },
      { key: 'google/imagen-9', reason: 'every rate is 0 (Vercel AI Gateway has no free mark TokenTally trusts)' },
    ]);
  });
});

describe('numbers are read from the JSON text', () => {
  it('quotes every bare number and leaves strings (escapes included) alone', () => {
    const text = '{"a\\"1": [1, -2.5, 1.25e-06, 3E+2], "b": "7 e-1", "c": {"d": 0.0}, "e": true, "f": null}';
    expect(JSON.parse(quoteJsonNumbers(text))).toEqual({
      'a"1': ['1', '-2.5', '1.25e-06', '3E+2'],
      b: '7 e-1',
      c: { d: '0.0' },
      e: true,
      f: null,
    });
  });

  /**
   * Property: any per-token decimal LiteLLM or OpenRouter may write (plain,
   * exponent form, 0, 0.0) becomes exactly value x 10^6 per 1M tokens, or no
   * rate at all when it is zero, or above $1 per token (over $1,000,000 per
   * 1M: implausible), or below 1e-20 per token (implausible). fast-check is not installed, so the cases
   * come from a seeded generator (the same 2,000 every run); the expected
   * figure is worked out on the digit string, independently of libs/core.
   */
  it('converts random per-token decimal strings exactly (seeded property test)', () => {
    const random = mulberry32(0x70c3a11);
    const pick = (n: number) => Math.floor(random() * n);
    const digits = (n: number) => Array.from({ length: n }, () => String(pick(10))).join('');
    for (let run = 0; run < 2000; run++) {
      const whole = pick(4) === 0 ? '0' : String(pick(10)) + digits(pick(3));
      const fraction = pick(3) === 0 ? '' : digits(1 + pick(12));
      const exponent = pick(2) === 0 ? 0 : -pick(12) + pick(3);
      const expForm = exponent !== 0 || pick(5) === 0;
      const text = `${whole}${fraction ? `.${fraction}` : ''}${expForm ? `${pick(2) ? 'e' : 'E'}${exponent < 0 ? '-' : pick(2) ? '+' : ''}${String(Math.abs(exponent)).padStart(pick(2) + 1, '0')}` : ''}`;
      const expected = timesTenToThe(whole + fraction, exponent - fraction.length + 6);

      const fromLiteLLM = parseLiteLLM(
        `{"gpt-image-2": {"input_cost_per_token": ${text}, "litellm_provider": "openai", "mode": "image_generation"}}`,
      );
      const fromOpenRouter = parseOpenRouter(dataOf([{ id: 'openai/gpt-image-2', pricing: { prompt: text } }]));
      if (expected === '0') {
        expect(fromLiteLLM.quotes).toEqual([]);
        expect(fromOpenRouter.quotes).toEqual([]);
      } else if (comparePlain(expected, '1000000') > 0 || plainMagnitude(expected) < -14) {
        expect([text, fromLiteLLM.quotes]).toEqual([text, []]);
        expect([text, fromOpenRouter.quotes]).toEqual([text, []]);
        expect(fromLiteLLM.skipped.map((s) => s.reason)).toEqual([
          expect.stringContaining(`input_cost_per_token ${text}: implausible`),
          'nothing importable: no rate TokenTally can use',
        ]);
        expect(fromOpenRouter.skipped[0].reason).toContain(`prompt ${text}: implausible`);
      } else {
        expect([text, fromLiteLLM.quotes[0]?.sheet.input_text]).toEqual([text, expected]);
        expect([text, fromOpenRouter.quotes[0]?.sheet.input]).toEqual([text, expected]);
      }
    }
  });
});

/** Order of two non-negative plain decimal strings, on their digits. */
function comparePlain(a: string, b: string): number {
  const split = (x: string) => {
    const [whole, fraction = ''] = x.split('.');
    return [whole.replace(/^0+/, ''), fraction] as const;
  };
  const [aw, af] = split(a);
  const [bw, bf] = split(b);
  if (aw.length !== bw.length) return aw.length - bw.length;
  if (aw !== bw) return aw < bw ? -1 : 1;
  const n = Math.max(af.length, bf.length);
  const [ap, bp] = [af.padEnd(n, '0'), bf.padEnd(n, '0')];
  return ap === bp ? 0 : ap < bp ? -1 : 1;
}

/** The power of ten of the leading digit of a positive plain decimal string. */
function plainMagnitude(x: string): number {
  const [whole, fraction = ''] = x.split('.');
  const w = whole.replace(/^0+/, '');
  return w ? w.length - 1 : -(fraction.search(/[1-9]/) + 1);
}

/** `digits` x 10^power as a plain decimal string, by moving the point in the digit string. */
function timesTenToThe(digitString: string, power: number): string {
  const digits = digitString.replace(/^0+/, '');
  if (digits === '') return '0';
  if (power >= 0) return digits + '0'.repeat(power);
  const padded = digits.padStart(-power + 1, '0');
  const whole = padded.slice(0, padded.length + power);
  const fraction = padded.slice(padded.length + power).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
