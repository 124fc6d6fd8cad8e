import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseLiteLLM } from './litellm';
import { parseOpenRouter } from './openrouter';
import * as source from './source';
import { parseExactJson, ParsedSource, QuoteCollector, SkippedEntry } from './source';
import { parseVercel } from './vercel';

/**
 * Hostile entries beside real ones: the real answers of test/fixtures/real
 * (and the trimmed Vercel fixture, there being no real Vercel file), with keys
 * added that a broken or hostile source could send. Every real quote must come
 * out as it does from the untouched file, and every hostile entry must be a
 * skipped line with its reason; none may fail the whole source.
 *
 * The documents are built on an exact parse of the real text (numbers kept
 * as the text the source wrote), and the added numbers are written back as
 * bare JSON numbers, digit for digit.
 */
const REAL = path.join(__dirname, '../../../../test/fixtures/real');
const PRICING = path.join(__dirname, '../../../../test/fixtures/pricing');
const realLiteLLM = fs.readFileSync(path.join(REAL, 'litellm-model-prices.json'), 'utf8');
const realOpenRouter = fs.readFileSync(path.join(REAL, 'openrouter-models.json'), 'utf8');
const trimmedVercel = fs.readFileSync(path.join(PRICING, 'vercel.json'), 'utf8');

/** A bare JSON number, written exactly as given (1e400 stays 1e400, never a float). */
const NUMBER_MARK = '\u0001number:';
const num = (text: string) => `${NUMBER_MARK}${text}`;

/** A document as JSON text; `num(...)` values become bare numbers. */
function jsonOf(document: unknown): string {
  return JSON.stringify(document).replace(/"\\u0001number:([^"]*)"/g, '$1');
}

/** An exact parse of `text` with `add(copy)` applied: the hostile document. */
function withAdded(text: string, add: (copy: any) => void): string {
  const copy = parseExactJson(text);
  add(copy);
  return jsonOf(copy);
}

const reasons = (skipped: SkippedEntry[], key: string) => skipped.filter((s) => s.key === key).map((s) => s.reason);
const without = (result: ParsedSource, keys: string[]) => result.skipped.filter((s) => !keys.includes(s.key));

const NINES = '9'.repeat(400);

describe('the hostile documents are exact copies of the real ones plus the added keys', () => {
  it('an exact copy with nothing added parses to the same quotes and skipped lines as the real text', () => {
    expect(parseLiteLLM(withAdded(realLiteLLM, () => undefined))).toEqual(parseLiteLLM(realLiteLLM));
    expect(parseOpenRouter(withAdded(realOpenRouter, () => undefined))).toEqual(parseOpenRouter(realOpenRouter));
  });

  it('added numbers are written as bare JSON numbers, digit for digit', () => {
    expect(jsonOf({ a: num('1e400'), b: num('0.000000025'), c: 'text' })).toBe(
      '{"a":1e400,"b":0.000000025,"c":"text"}',
    );
  });
});

describe('LiteLLM: hostile keys beside the real file', () => {
  const real = parseLiteLLM(realLiteLLM);
  const image = (fields: Record<string, unknown>) => ({
    litellm_provider: 'openai',
    mode: 'image_generation',
    ...fields,
  });
  const HOSTILE: Record<string, unknown> = {
    // The tester's: made the whole source fail with "The number Infinity cannot be converted to a BigInt".
    [`medium/${NINES}-x-1024/gpt-image-1-mini`]: image({
      input_cost_per_pixel: num('1.9e-08'),
      input_cost_per_image: num('0.011'),
    }),
    // The tester's: neither imported nor listed.
    'medium/0-x-0/gpt-image-1-mini': image({ input_cost_per_image: num('0.011') }),
    'high/1024-x-0/gpt-image-1-mini': image({ input_cost_per_pixel: num('1.9e-08') }),
    'low/100001-x-1024/gpt-image-1-mini': image({ input_cost_per_image: num('0.011') }),
    'low/9007199254740993x1024/gpt-image-1-mini': image({ input_cost_per_image: num('0.011') }),
    // Implausible rates: above $1 per token, above $1,000 per image, and exponents no price has.
    'gpt-image-hostile-tokens': image({
      input_cost_per_token: num('0.000002'),
      output_cost_per_token: num('1e400'),
      input_cost_per_image_token: num('1.000000000000000001'),
      output_cost_per_image_token: num('1e999999999'),
      cache_read_input_token_cost: num('1e-999999999'),
    }),
    'gpt-image-hostile-per-image': image({ output_cost_per_image: num('1000.01') }),
    'high/1024-x-1024/gpt-image-hostile-sized': image({ output_cost_per_image: num('1000') }),
    'medium/1024-x-1024/gpt-image-hostile-sized': image({ input_cost_per_pixel: num('0.001') }), // x 1,048,576 = $1,048.576 per image
    'low/1024-x-1024/gpt-image-hostile-sized': image({ input_cost_per_image: num(NINES) }),
    'gpt-image-hostile-zero-bomb': image({ input_cost_per_token: num('0e999999999') }),
  };
  const hostile = parseLiteLLM(withAdded(realLiteLLM, (copy) => Object.assign(copy, HOSTILE)));
  const realQuote = (provider: string, model: string) =>
    real.quotes.find((q) => q.provider === provider && q.model === model);

  it('every real quote comes out unchanged, and no hostile size reaches a real model', () => {
    const hostileModels = new Set([
      'gpt-image-hostile-tokens',
      'gpt-image-hostile-per-image',
      'gpt-image-hostile-sized',
    ]);
    expect(hostile.quotes.filter((q) => !hostileModels.has(q.model))).toEqual(real.quotes);
    expect(hostile.quotes.find((q) => q.provider === 'openai' && q.model === 'gpt-image-1-mini')).toEqual(
      realQuote('openai', 'gpt-image-1-mini'),
    );
    expect(without(hostile, Object.keys(HOSTILE))).toEqual(real.skipped);
  });

  it('skips a size with an absurd side (400 nines, above 100,000 px, not a safe integer) with its reason, instead of failing the source', () => {
    const nines = reasons(hostile.skipped, `medium/${NINES}-x-1024/gpt-image-1-mini`);
    expect(nines).toHaveLength(1);
    expect(nines[0]).toMatch(
      /^key shape not recognised: size "9{16}\.\.\.9{5}-x-1024 \(407 characters\)": a side above 100,000 px is no image size$/,
    );
    expect(reasons(hostile.skipped, 'low/100001-x-1024/gpt-image-1-mini')).toEqual([
      'key shape not recognised: size "100001-x-1024": a side above 100,000 px is no image size',
    ]);
    expect(reasons(hostile.skipped, 'low/9007199254740993x1024/gpt-image-1-mini')).toEqual([
      'key shape not recognised: size "9007199254740993x1024": a side above 100,000 px is no image size',
    ]);
  });

  it('skips a size with a zero side (0-x-0, 1024-x-0) with its reason: listed, never imported', () => {
    expect(reasons(hostile.skipped, 'medium/0-x-0/gpt-image-1-mini')).toEqual([
      'key shape not recognised: size "0-x-0": a side of 0 px is no image size',
    ]);
    expect(reasons(hostile.skipped, 'high/1024-x-0/gpt-image-1-mini')).toEqual([
      'key shape not recognised: size "1024-x-0": a side of 0 px is no image size',
    ]);
    const mini = hostile.quotes.find((q) => q.provider === 'openai' && q.model === 'gpt-image-1-mini')!;
    expect(Object.keys(mini.sheet.image_prices ?? {}).filter((key) => /(^|\/|x)0(x|$)|9{20}|100001/.test(key))).toEqual(
      [],
    );
  });

  it("skips a per-token rate above $1 per token ($1,000,000 per 1M) as implausible, and keeps the entry's plausible rate", () => {
    expect(hostile.quotes.find((q) => q.model === 'gpt-image-hostile-tokens')).toEqual({
      provider: 'openai',
      model: 'gpt-image-hostile-tokens',
      sheet: { input_text: '2' },
    });
    expect(reasons(hostile.skipped, 'gpt-image-hostile-tokens')).toEqual([
      'output_cost_per_token 1e400: implausible, above $1 per token ($1,000,000 per 1M tokens); not imported',
      'input_cost_per_image_token 1.000000000000000001: implausible, above $1 per token ($1,000,000 per 1M tokens); not imported',
      'output_cost_per_image_token 1e999999999: implausible, above $1 per token ($1,000,000 per 1M tokens); not imported',
      'cache_read_input_token_cost 1e-999999999: implausible, below 1e-20 USD per token; not imported',
    ]);
  });

  it('skips a per-image price above $1,000 as implausible ($1,000 itself is a price), per-pixel rates included once multiplied out', () => {
    expect(reasons(hostile.skipped, 'gpt-image-hostile-per-image')).toEqual([
      'output_cost_per_image 1000.01: implausible, above $1,000 per image; not imported',
      'nothing importable: no rate TokenTally can use',
    ]);
    expect(hostile.quotes.find((q) => q.model === 'gpt-image-hostile-sized')).toEqual({
      provider: 'openai',
      model: 'gpt-image-hostile-sized',
      sheet: { image_prices: { 'high/1024x1024': '1000' } },
    });
    expect(reasons(hostile.skipped, 'medium/1024-x-1024/gpt-image-hostile-sized')).toEqual([
      'input_cost_per_pixel 0.001 x 1024 x 1024 = 1048.576 per image: implausible, above $1,000 per image; not imported',
      'nothing importable: no rate TokenTally can use',
    ]);
    expect(reasons(hostile.skipped, 'low/1024-x-1024/gpt-image-hostile-sized')).toEqual([
      `input_cost_per_image ${'9'.repeat(20)}...${'9'.repeat(8)} (400 characters): implausible, above $1,000 per image; not imported`,
      'nothing importable: no rate TokenTally can use',
    ]);
  });

  it('reads a zero written with an enormous exponent as 0 (no price), without expanding it', () => {
    expect(reasons(hostile.skipped, 'gpt-image-hostile-zero-bomb')).toEqual([
      'input_cost_per_token 0 is no price (LiteLLM has no free mark)',
      'every rate is 0 (LiteLLM has no free mark)',
    ]);
  });
});

describe('every adapter reads each entry in isolation', () => {
  afterEach(() => jest.restoreAllMocks());

  /** Makes the conversion throw for one hostile value, as an unforeseen bug would. */
  function perMillionThrowsOn(value: string) {
    const real = source.perMillion;
    jest.spyOn(source, 'perMillion').mockImplementation((perToken: string) => {
      if (perToken === value) throw new RangeError(`cannot convert ${perToken}`);
      return real(perToken);
    });
  }

  it("LiteLLM: an exception in one entry is one skipped line with the error; the entry's other rates are taken back; the rest of the real file is imported", () => {
    const real = parseLiteLLM(realLiteLLM);
    perMillionThrowsOn('0.00000777');
    const text = withAdded(realLiteLLM, (copy) => {
      copy['gpt-image-throws'] = {
        litellm_provider: 'openai',
        mode: 'image_generation',
        input_cost_per_token: num('0.000002'),
        output_cost_per_token: num('0.00000777'),
        output_cost_per_token_batches: num('1'),
      };
    });
    const result = parseLiteLLM(text);
    expect(result.quotes).toEqual(real.quotes);
    expect(reasons(result.skipped, 'gpt-image-throws')).toEqual([
      'could not be read, nothing of it imported: cannot convert 0.00000777',
    ]);
    expect(without(result, ['gpt-image-throws'])).toEqual(real.skipped);
  });

  it('OpenRouter: an exception in one model is one skipped line with the error; the real models are imported', () => {
    const real = parseOpenRouter(realOpenRouter);
    perMillionThrowsOn('0.00000777');
    const text = withAdded(realOpenRouter, (copy) => {
      copy.data.push({
        id: 'openai/gpt-image-throws',
        architecture: { output_modalities: ['image'] },
        pricing: { prompt: '0.000002', completion: '0.00000777' },
      });
    });
    const result = parseOpenRouter(text);
    expect(result.quotes).toEqual(real.quotes);
    expect(reasons(result.skipped, 'openai/gpt-image-throws')).toEqual([
      'could not be read, nothing of it imported: cannot convert 0.00000777',
    ]);
  });

  it('Vercel: an exception in one model is one skipped line with the error; the other models are imported', () => {
    const real = parseVercel(trimmedVercel);
    perMillionThrowsOn('0.00000777');
    const text = withAdded(trimmedVercel, (copy) => {
      copy.data.push({
        id: 'openai/gpt-image-throws',
        type: 'image',
        pricing: { input: '0.000002', output: '0.00000777' },
      });
    });
    const result = parseVercel(text);
    expect(result.quotes).toEqual(real.quotes);
    expect(reasons(result.skipped, 'openai/gpt-image-throws')).toEqual([
      'could not be read, nothing of it imported: cannot convert 0.00000777',
    ]);
  });

  it('QuoteCollector.isolate takes back every change of the entry that threw (rates, image prices, notes, free mark, skipped lines) and keeps the others', () => {
    const out = new QuoteCollector('no free mark');
    out.setUnit('openai', 'gpt-image-2', 'input_text', '5', 'good', 'input');
    out.isolate('bad', () => {
      out.setUnit('openai', 'gpt-image-2', 'output_image', '30', 'bad', 'output');
      out.setImagePrice('openai', 'gpt-image-2', 'high', '1024x1024', '0.2', 'bad', 'per_image');
      out.setUnit('openai', 'gpt-image-new', 'input_text', '1', 'bad', 'input');
      out.markFree('openai', 'gpt-image-2');
      out.note('openai', 'gpt-image-2', 'a note');
      out.skip('bad', 'a line of the entry');
      throw new Error('boom');
    });
    out.isolate('fine', () => out.setUnit('openai', 'gpt-image-2', 'output_text', '10', 'fine', 'output'));
    expect(out.result()).toEqual({
      quotes: [{ provider: 'openai', model: 'gpt-image-2', sheet: { input_text: '5', output_text: '10' } }],
      skipped: [{ key: 'bad', reason: 'could not be read, nothing of it imported: boom' }],
    });
  });
});

describe('OpenRouter and Vercel: implausible rates beside the real models', () => {
  it('OpenRouter: a rate above $1 per token or $1,000 per request, or an exponent bomb, is skipped as implausible; the real quotes are unchanged', () => {
    const real = parseOpenRouter(realOpenRouter);
    const text = withAdded(realOpenRouter, (copy) => {
      copy.data.push(
        {
          id: 'openai/gpt-image-hostile',
          architecture: { output_modalities: ['image'] },
          pricing: { prompt: '2', completion: '0.00001', request: '1000.01', image_output: '1e999999999' },
        },
        {
          id: 'openai/gpt-image-hostile-request',
          architecture: { output_modalities: ['image'] },
          pricing: { request: '1000' },
        },
      );
    });
    const result = parseOpenRouter(text);
    expect(result.quotes.slice(0, real.quotes.length)).toEqual(real.quotes);
    expect(result.quotes.slice(real.quotes.length)).toEqual([
      { provider: 'openrouter', model: 'gpt-image-hostile', sheet: { output: '10' } },
      { provider: 'openrouter', model: 'gpt-image-hostile-request', sheet: { per_request: '1000' } },
    ]);
    expect(reasons(result.skipped, 'openai/gpt-image-hostile')).toEqual([
      'prompt 2: implausible, above $1 per token ($1,000,000 per 1M tokens); not imported',
      'request 1000.01: implausible, above $1,000 per request; not imported',
      'image_output 1e999999999: implausible, above $1 per token ($1,000,000 per 1M tokens); not imported',
    ]);
  });

  it('Vercel: a rate above $1 per token is skipped as implausible; the other models are unchanged', () => {
    const real = parseVercel(trimmedVercel);
    const text = withAdded(trimmedVercel, (copy) => {
      copy.data.push({
        id: 'openai/gpt-image-hostile',
        type: 'image',
        pricing: { input: '0.000005', output: num('1e400') },
      });
    });
    const result = parseVercel(text);
    expect(result.quotes).toEqual([
      ...real.quotes,
      { provider: 'vercel', model: 'gpt-image-hostile', sheet: { input: '5' } },
    ]);
    expect(reasons(result.skipped, 'openai/gpt-image-hostile')).toEqual([
      'output 1e400: implausible, above $1 per token ($1,000,000 per 1M tokens); not imported',
    ]);
  });
});
