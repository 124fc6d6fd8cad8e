import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BillableCall,
  computeCost,
  CostResult,
  Decimal,
  EMPTY_USAGE,
  normalizeModelName,
  PriceSheet,
  ratesOf,
  TokenUsage,
} from '@tokentally/core';
import { catalogEntries } from '../pricing.service';
import { parseLiteLLM } from '../sources/litellm';
import { parseOpenRouter } from '../sources/openrouter';

/**
 * The built-in catalog (builtin-prices.json) priced through the real cost
 * engine. Every expected cost below is worked out by hand in the comment
 * beside it (tokens x USD per 1M / 10^6, or images x USD per image), never
 * copied from what the code printed. docs/pricing.md, "The built-in catalog",
 * lists the same rates and where each comes from.
 */
const entries = catalogEntries();

const sheetOf = (provider: string, model: string): PriceSheet => {
  const found = entries.filter((e) => e.provider === provider && e.model === model);
  if (found.length !== 1) throw new Error(`expected one catalog entry for ${provider}/${model}, found ${found.length}`);
  return found[0].prices;
};

const tokens = (usage: Partial<TokenUsage>): BillableCall => ({
  usage: { ...EMPTY_USAGE, ...usage },
  images: 0,
  succeeded: true,
});

const perImage = (images: number, imageSize: string | null, imageQuality: string | null): BillableCall => ({
  usage: { ...EMPTY_USAGE },
  images,
  imageSize,
  imageQuality,
  succeeded: true,
});

/** Fully priced at exactly `usd` (compared as decimals, and as the exact digits). */
const expectPriced = (result: CostResult, usd: string): void => {
  expect(result.pricing).toBe('priced');
  if (result.pricing !== 'priced') return;
  expect(result.cost.toString()).toBe(usd);
  expect(result.cost.equals(Decimal.parse(usd))).toBe(true);
};

describe('built-in catalog: every entry', () => {
  it('names a provider, a model, a date and a source, and has at least one rate', () => {
    for (const entry of entries) {
      expect(entry.provider).toMatch(/^[a-z]+$/);
      expect(entry.model).toBe(normalizeModelName(entry.model));
      expect(entry.effective_from).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00Z$/);
      expect(Number.isNaN(Date.parse(entry.effective_from))).toBe(false);
      expect(entry.source_ref.length).toBeGreaterThan(20);
      expect(ratesOf(entry.prices).length).toBeGreaterThan(0);
    }
  });

  it('has one entry per provider and model', () => {
    const keys = entries.map((e) => `${e.provider}/${e.model}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('holds every price as a decimal string and no zero (a zero is no price)', () => {
    for (const entry of entries) {
      for (const [unit, value] of ratesOf(entry.prices)) {
        expect({ entry: `${entry.provider}/${entry.model}`, unit, type: typeof value }).toEqual({
          entry: `${entry.provider}/${entry.model}`,
          unit,
          type: 'string',
        });
        expect(Decimal.parse(value).isZero()).toBe(false);
      }
    }
  });

  it('covers these providers and models', () => {
    const byProvider = (provider: string) =>
      entries
        .filter((e) => e.provider === provider)
        .map((e) => e.model)
        .sort();
    expect(byProvider('openai')).toEqual([
      'dall-e-2',
      'dall-e-3',
      'gpt-image-1',
      'gpt-image-1-mini',
      'gpt-image-1.5',
      'gpt-image-2',
    ]);
    expect(byProvider('vercel')).toEqual(['gpt-image-2']);
    // No azure dall-e-2: LiteLLM prices it at 0 and Azure publishes no figure we could find.
    expect(byProvider('azure')).toEqual([
      'dall-e-3',
      'gpt-image-1',
      'gpt-image-1-mini',
      'gpt-image-1.5',
      'gpt-image-2',
    ]);
    expect(byProvider('google')).toEqual([
      'gemini-2.5-flash-image',
      'gemini-3-pro-image',
      'gemini-3-pro-image-preview',
      'gemini-3.1-flash-image',
      'gemini-3.1-flash-image-preview',
      'gemini-3.1-flash-lite-image',
    ]);
    expect(byProvider('openrouter')).toHaveLength(9);
  });
});

describe('built-in catalog: openai', () => {
  it('still prices the README example on gpt-image-2 at $0.13572', () => {
    // (120 x 5 + 1,290 x 8 + 4,160 x 30) / 10^6 = (600 + 10,320 + 124,800) / 10^6 = 0.13572
    expectPriced(
      computeCost(tokens({ input_text: 120, input_image: 1290, output_image: 4160 }), sheetOf('openai', 'gpt-image-2')),
      '0.13572',
    );
  });

  it('prices dall-e-3 per image by quality and size', () => {
    const sheet = sheetOf('openai', 'dall-e-3');
    expectPriced(computeCost(perImage(1, '1792x1024', 'hd'), sheet), '0.12'); // hd 1792x1024: $0.12
    expectPriced(computeCost(perImage(1, '1024x1792', 'hd'), sheet), '0.12'); // hd 1024x1792: $0.12
    expectPriced(computeCost(perImage(1, '1024x1024', 'hd'), sheet), '0.08'); // hd 1024x1024: $0.08
    expectPriced(computeCost(perImage(1, '1024x1024', 'standard'), sheet), '0.04'); // standard 1024x1024: $0.04
    expectPriced(computeCost(perImage(1, '1024-x-1792', 'Standard'), sheet), '0.08'); // standard 1024x1792: $0.08
    expectPriced(computeCost(perImage(2, '1792x1024', 'standard'), sheet), '0.16'); // 2 x $0.08
  });

  it('never prices a dall-e-3 size or quality it has no price for, and never at $0', () => {
    const sheet = sheetOf('openai', 'dall-e-3');
    // DALL-E 3 makes no 512x512 image: no price, so the call is unpriced (not $0).
    expect(computeCost(perImage(1, '512x512', 'standard'), sheet)).toEqual({
      pricing: 'unpriced',
      priced: false,
      missing: ['per_image'],
    });
    expect(computeCost(perImage(1, '512x512', null), sheet).pricing).toBe('unpriced');
  });

  it('prices a dall-e-3 call that names no quality as standard, the API default', () => {
    const sheet = sheetOf('openai', 'dall-e-3');
    expectPriced(computeCost(perImage(1, '1024x1024', null), sheet), '0.04');
    expectPriced(computeCost(perImage(2, '1792x1024', null), sheet), '0.16'); // 2 x $0.08
    expectPriced(computeCost(perImage(1, '1024x1792', null), sheetOf('azure', 'dall-e-3')), '0.08');
  });

  it('prices dall-e-2 per image by size, with or without its one quality', () => {
    const sheet = sheetOf('openai', 'dall-e-2');
    expectPriced(computeCost(perImage(2, '512x512', 'standard'), sheet), '0.036'); // 2 x $0.018
    expectPriced(computeCost(perImage(1, '256x256', 'standard'), sheet), '0.016');
    expectPriced(computeCost(perImage(1, '1024x1024', 'standard'), sheet), '0.02');
    expectPriced(computeCost(perImage(3, '256x256', null), sheet), '0.048'); // 3 x $0.016, no quality named
    expectPriced(computeCost(perImage(1, '1024-x-1024', null), sheet), '0.02');
    expect(computeCost(perImage(1, '1792x1024', 'standard'), sheet).pricing).toBe('unpriced');
  });
});

describe('built-in catalog: azure', () => {
  it('prices the README example on gpt-image-2 at $0.13572, as on OpenAI', () => {
    // (120 x 5 + 1,290 x 8 + 4,160 x 30) / 10^6 = 135,720 / 10^6 = 0.13572
    expectPriced(
      computeCost(tokens({ input_text: 120, input_image: 1290, output_image: 4160 }), sheetOf('azure', 'gpt-image-2')),
      '0.13572',
    );
  });

  it('prices gpt-image-2 cached text and text output at LiteLLM rates', () => {
    // (100 x 5 + 400 x 1.25 + 1,056 x 30 + 20 x 10) / 10^6 = (500 + 500 + 31,680 + 200) / 10^6 = 0.03288
    expectPriced(
      computeCost(
        tokens({ input_text: 100, cached_input_text: 400, output_image: 1056, output_text: 20 }),
        sheetOf('azure', 'gpt-image-2'),
      ),
      '0.03288',
    );
  });

  it('prices gpt-image-1.5, gpt-image-1 and gpt-image-1-mini', () => {
    // (500 x 5 + 1,290 x 8 + 4,160 x 32) / 10^6 = (2,500 + 10,320 + 133,120) / 10^6 = 0.14594
    expectPriced(
      computeCost(
        tokens({ input_text: 500, input_image: 1290, output_image: 4160 }),
        sheetOf('azure', 'gpt-image-1.5'),
      ),
      '0.14594',
    );
    // (1,000 x 1.25 + 4,160 x 40) / 10^6 = (1,250 + 166,400) / 10^6 = 0.16765
    expectPriced(
      computeCost(tokens({ cached_input_text: 1000, output_image: 4160 }), sheetOf('azure', 'gpt-image-1')),
      '0.16765',
    );
    // (200 x 2 + 100 x 0.20 + 1,056 x 8) / 10^6 = (400 + 20 + 8,448) / 10^6 = 0.008868
    expectPriced(
      computeCost(
        tokens({ input_text: 200, cached_input_text: 100, output_image: 1056 }),
        sheetOf('azure', 'gpt-image-1-mini'),
      ),
      '0.008868',
    );
  });

  it('invents no rate LiteLLM does not give: gpt-image-1 text output stays unpriced', () => {
    // 4,160 x 40 / 10^6 = 0.1664 priced; the 50 text output tokens have no rate.
    const result = computeCost(tokens({ output_image: 4160, output_text: 50 }), sheetOf('azure', 'gpt-image-1'));
    expect(result.pricing).toBe('partial');
    if (result.pricing !== 'partial') return;
    expect(result.missing).toEqual(['output_text']);
    expect(result.cost.toString()).toBe('0.1664');
  });

  it('has the token rates of the real LiteLLM file for azure gpt-image-*', () => {
    const litellm = parseLiteLLM(
      fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/real/litellm-model-prices.json'), 'utf8'),
    );
    for (const model of ['gpt-image-2', 'gpt-image-1.5', 'gpt-image-1', 'gpt-image-1-mini']) {
      const quote = litellm.quotes.find((q) => q.provider === 'azure' && q.model === model);
      expect(quote).toBeDefined();
      const tokenRates = (sheet: PriceSheet) =>
        ratesOf(sheet)
          .filter(([unit]) => !unit.startsWith('image_prices.') && unit !== 'per_image')
          .map(([unit, value]) => [unit, Decimal.parse(value).toString()]);
      expect({ model, rates: tokenRates(sheetOf('azure', model)) }).toEqual({ model, rates: tokenRates(quote!.sheet) });
    }
  });

  it('prices dall-e-3 per image at whole cents, and not a size it lacks', () => {
    const sheet = sheetOf('azure', 'dall-e-3');
    expectPriced(computeCost(perImage(1, '1024x1024', 'standard'), sheet), '0.04');
    expectPriced(computeCost(perImage(1, '1792x1024', 'standard'), sheet), '0.08');
    expectPriced(computeCost(perImage(1, '1024x1024', 'hd'), sheet), '0.08');
    expectPriced(computeCost(perImage(1, '1024-x-1792', 'hd'), sheet), '0.12');
    expect(computeCost(perImage(1, '512x512', 'standard'), sheet).pricing).toBe('unpriced');
  });
});

describe('built-in catalog: google (Gemini API)', () => {
  it('prices a gemini-2.5-flash-image image at $0.0387 (1,290 tokens x $30 / 1M) plus its input', () => {
    const sheet = sheetOf('google', 'gemini-2.5-flash-image');
    // 1,290 x 30 / 10^6 = 0.0387: Google's "$0.039 per image" is this figure rounded.
    expectPriced(computeCost(tokens({ output_image: 1290 }), sheet), '0.0387');
    // Input images are input tokens at the input rate:
    // ((25 + 560) x 0.30 + 1,290 x 30 + 40 x 2.50) / 10^6 = (175.5 + 38,700 + 100) / 10^6 = 0.0389755
    expectPriced(
      computeCost(tokens({ input_text: 25, input_image: 560, output_image: 1290, output_text: 40 }), sheet),
      '0.0389755',
    );
    // 1,000 cached text tokens x 0.03 / 10^6 = 0.00003
    expectPriced(computeCost(tokens({ cached_input_text: 1000 }), sheet), '0.00003');
  });

  it('prices gemini-3-pro-image(-preview) at $2 in, $12 text out, $120 image out', () => {
    for (const model of ['gemini-3-pro-image-preview', 'gemini-3-pro-image']) {
      // (100 x 2 + 560 x 2 + 1,120 x 120 + 200 x 12) / 10^6 = (200 + 1,120 + 134,400 + 2,400) / 10^6 = 0.13812
      expectPriced(
        computeCost(
          tokens({ input_text: 100, input_image: 560, output_image: 1120, output_text: 200 }),
          sheetOf('google', model),
        ),
        '0.13812',
      );
    }
    // Google lists no caching price for it: cached text falls back to the input rate, never $0.
    // 1,000 x 2 / 10^6 = 0.002
    const cached = computeCost(tokens({ cached_input_text: 1000 }), sheetOf('google', 'gemini-3-pro-image-preview'));
    expectPriced(cached, '0.002');
    expect(cached.pricing === 'priced' && cached.fallbacks).toEqual({ cached_input_text: 'uncached' });
  });

  it("prices gemini-3.1-flash-image(-preview) at Google's Standard rates, not LiteLLM's Batch ones", () => {
    for (const model of ['gemini-3.1-flash-image-preview', 'gemini-3.1-flash-image']) {
      // (30 x 0.50 + 1,120 x 60 + 10 x 3) / 10^6 = (15 + 67,200 + 30) / 10^6 = 0.067245
      expectPriced(
        computeCost(tokens({ input_text: 30, output_image: 1120, output_text: 10 }), sheetOf('google', model)),
        '0.067245',
      );
    }
  });

  it('prices gemini-3.1-flash-lite-image at $0.25 in, $1.50 text out, $30 image out', () => {
    // (10 x 0.25 + 258 x 0.25 + 1,120 x 30 + 8 x 1.50) / 10^6 = (2.5 + 64.5 + 33,600 + 12) / 10^6 = 0.033679
    expectPriced(
      computeCost(
        tokens({ input_text: 10, input_image: 258, output_image: 1120, output_text: 8 }),
        sheetOf('google', 'gemini-3.1-flash-lite-image'),
      ),
      '0.033679',
    );
  });

  it('sets the image input rate equal to the text input rate, as Google publishes "(text/image)"', () => {
    for (const entry of entries.filter((e) => e.provider === 'google')) {
      expect({ model: entry.model, input_image: entry.prices.input_image }).toEqual({
        model: entry.model,
        input_image: entry.prices.input_text,
      });
    }
  });
});

describe('built-in catalog: openrouter', () => {
  const answer = fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/real/openrouter-models.json'), 'utf8');
  const imageModels = (JSON.parse(answer) as { data: Array<Record<string, any>> }).data.filter(
    (m) => Array.isArray(m.architecture?.output_modalities) && m.architecture.output_modalities.includes('image'),
  );

  it('prices a gemini-2.5-flash-image call with one input rate, one output rate and the image output rate', () => {
    // input kinds at prompt $0.30 (cached at input_cache_read $0.03); image output at image_output $30;
    // text output at completion $2.50:
    // (100 x 0.30 + 560 x 0.30 + 200 x 0.03 + 1,290 x 30 + 50 x 2.50) / 10^6
    //   = (30 + 168 + 6 + 38,700 + 125) / 10^6 = 0.039029
    expectPriced(
      computeCost(
        tokens({ input_text: 100, input_image: 560, cached_input_text: 200, output_image: 1290, output_text: 50 }),
        sheetOf('openrouter', 'gemini-2.5-flash-image'),
      ),
      '0.039029',
    );
  });

  it('prices gpt-5-image and gpt-5.4-image-2', () => {
    // (1,000 x 10 + 4,160 x 40) / 10^6 = (10,000 + 166,400) / 10^6 = 0.1764
    expectPriced(
      computeCost(tokens({ input_text: 1000, output_image: 4160 }), sheetOf('openrouter', 'gpt-5-image')),
      '0.1764',
    );
    // (120 x 8 + 1,290 x 8 + 4,160 x 30) / 10^6 = (960 + 10,320 + 124,800) / 10^6 = 0.13608
    expectPriced(
      computeCost(
        tokens({ input_text: 120, input_image: 1290, output_image: 4160 }),
        sheetOf('openrouter', 'gpt-5.4-image-2'),
      ),
      '0.13608',
    );
  });

  it('has an entry for every image-output model of the real answer, with the rates the adapter reads', () => {
    expect(imageModels.length).toBe(11);
    const adapter = parseOpenRouter(answer);
    const priced = imageModels.filter((m) =>
      Object.values(m.pricing as Record<string, string>).some((v) => !v.startsWith('-')),
    );
    // openrouter/auto and openrouter/auto-beta (routers) price everything at -1, "variable": no price, no entry.
    expect(imageModels.filter((m) => !priced.includes(m)).map((m) => m.id)).toEqual([
      'openrouter/auto-beta',
      'openrouter/auto',
    ]);
    expect(entries.some((e) => e.provider === 'openrouter' && e.model.startsWith('auto'))).toBe(false);
    expect(priced).toHaveLength(9);
    const decimals = (sheet: PriceSheet) =>
      ratesOf(sheet)
        .map(([unit, value]) => [unit, Decimal.parse(value).toString()])
        .sort(([a], [b]) => a.localeCompare(b));
    for (const item of priced) {
      const model = normalizeModelName(item.id);
      const quote = adapter.quotes.find((q) => q.provider === 'openrouter' && q.model === model);
      expect(quote).toBeDefined();
      expect({ id: item.id, rates: decimals(sheetOf('openrouter', model)) }).toEqual({
        id: item.id,
        rates: decimals(quote!.sheet),
      });
    }
    expect(
      entries
        .filter((e) => e.provider === 'openrouter')
        .map((e) => e.model)
        .sort(),
    ).toEqual(priced.map((m) => normalizeModelName(m.id)).sort());
  });

  it('dates every openrouter entry at the answer date, 2026-08-01', () => {
    for (const entry of entries.filter((e) => e.provider === 'openrouter')) {
      expect(entry.effective_from).toBe('2026-08-01T00:00:00Z');
    }
  });
});
