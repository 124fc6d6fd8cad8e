import {
  billableCall,
  computeCost,
  BillableCall,
  costOf as costOfResult,
  imagesPricedPerImage,
  pricingNote,
} from './cost';
import { Decimal, formatUsd } from './decimal';
import { PriceSheet } from './price-sheet';
import { EMPTY_USAGE, TOKEN_KINDS, TokenUsage } from './token-kinds';

const OPENAI_GPT_IMAGE_2: PriceSheet = {
  input_text: '5.00',
  cached_input_text: '1.25',
  input_image: '8.00',
  cached_input_image: '2.00',
  output_image: '30.00',
  output_text: '10.00',
};
const VERCEL_GPT_IMAGE_2: PriceSheet = { input: '5.00', output: '30.00' };

/** A call that produced `images` images: priced per image only when its usage counts no image output tokens. */
function call(usage: Partial<TokenUsage>, images = 0): BillableCall {
  return billableCall({
    usage: { ...EMPTY_USAGE, ...usage },
    images,
    imageSize: null,
    imageQuality: null,
    succeeded: true,
  });
}

function costOf(result: ReturnType<typeof computeCost>): string {
  if (result.pricing !== 'priced') throw new Error(`${result.pricing}: ${result.missing.join(',')}`);
  return formatUsd(result.cost);
}

describe('computeCost', () => {
  const editCall = call({ input_text: 120, input_image: 1290, output_image: 4160 }, 1);

  it('prices a gpt-image-2 edit on OpenAI by token kind', () => {
    // 120 x $5 + 1,290 x $8 + 4,160 x $30 per 1M = $0.13572
    expect(costOf(computeCost(editCall, OPENAI_GPT_IMAGE_2))).toBe('0.135720');
  });

  it('prices every input kind at the single input rate on Vercel', () => {
    // (120 + 1,290) x $5 + 4,160 x $30 per 1M = $0.13185
    const result = computeCost(editCall, VERCEL_GPT_IMAGE_2);
    expect(costOf(result)).toBe('0.131850');
    expect(result.priced && result.fallbacks).toEqual({
      input_text: 'generic',
      input_image: 'generic',
      output_image: 'generic',
    });
  });

  it('bills cached tokens at the cached rate, not the full rate', () => {
    expect(costOf(computeCost(call({ cached_input_text: 1_000_000 }), OPENAI_GPT_IMAGE_2))).toBe('1.250000');
    expect(costOf(computeCost(call({ cached_input_image: 1_000_000 }), OPENAI_GPT_IMAGE_2))).toBe('2.000000');
  });

  it('falls back from a missing cached price to the uncached price of the same kind', () => {
    const sheet: PriceSheet = { input_text: '5', input_image: '8', output_image: '30' };
    const result = computeCost(call({ cached_input_image: 1_000_000 }), sheet);
    expect(costOf(result)).toBe('8.000000');
    expect(result.priced && result.fallbacks).toEqual({ cached_input_image: 'uncached' });
  });

  it('prefers a direction-wide cached rate over the uncached price', () => {
    const sheet: PriceSheet = { input: '5', cached_input: '0.5', output: '30' };
    expect(costOf(computeCost(call({ cached_input_image: 1_000_000 }), sheet))).toBe('0.500000');
  });

  it('marks a call unpriced, never $0, when no kind with tokens has a price', () => {
    const sheet: PriceSheet = { input_text: '5', input_image: '8' };
    const result = computeCost(call({ output_image: 4160 }, 0), sheet);
    expect(result).toEqual({ pricing: 'unpriced', priced: false, missing: ['output_image'] });
  });

  it('prices a call partly when some kinds have rates: the cost of those, and the kinds without', () => {
    // gpt-image-1 has no published text-output rate: 100 text output tokens must not hide the image output's $0.1664.
    const gptImage1: PriceSheet = {
      input_text: '5.00',
      cached_input_text: '1.25',
      input_image: '10.00',
      cached_input_image: '2.50',
      output_image: '40.00',
    };
    const result = computeCost(call({ input_text: 50, output_image: 4160, output_text: 100 }), gptImage1);
    expect(result.pricing).toBe('partial');
    expect(result.priced).toBe(false);
    if (result.pricing !== 'partial') throw new Error('expected partial');
    // 50 x $5 + 4,160 x $40 per 1M = $0.16665
    expect(formatUsd(result.cost)).toBe('0.166650');
    expect(result.missing).toEqual(['output_text']);
    expect(costOfResult(result)?.toString()).toBe('0.16665');
  });

  it('ignores kinds with no tokens even when they have no price', () => {
    const sheet: PriceSheet = { input_text: '5' };
    expect(costOf(computeCost(call({ input_text: 200_000 }), sheet))).toBe('1.000000');
  });

  it('prices images per image by quality and size: exact entry, any quality, any size, then per_image', () => {
    const dallE3: PriceSheet = {
      per_image: '0.04',
      image_prices: {
        'hd/1024x1024': '0.08',
        'standard/1024x1792': '0.08',
        'hd/1024x1792': '0.12',
        '*/512x512': '0.018',
        'low/*': '0.011',
      },
    };
    const image = (quality: string | null, size: string | null, images = 1): BillableCall => ({
      usage: { ...EMPTY_USAGE },
      images,
      imageQuality: quality,
      imageSize: size,
      succeeded: true,
    });
    expect(costOf(computeCost(image('hd', '1024x1792', 2), dallE3))).toBe('0.240000');
    expect(costOf(computeCost(image('HD', '1024-x-1024'), dallE3))).toBe('0.080000');
    expect(costOf(computeCost(image('standard', '512x512'), dallE3))).toBe('0.018000');
    expect(costOf(computeCost(image('low', '4096x4096'), dallE3))).toBe('0.011000');
    expect(costOf(computeCost(image(null, null), dallE3))).toBe('0.040000');
    const result = computeCost(image('hd', '1024x1024'), dallE3);
    expect(result.pricing === 'priced' && result.imagePriceKey).toBe('hd/1024x1024');
  });

  it('leaves an image unpriced, never $0, when no per-image price fits its size and quality', () => {
    const sizes: PriceSheet = { image_prices: { 'hd/1024x1024': '0.08' } };
    const result = computeCost(
      { usage: { ...EMPTY_USAGE }, images: 1, imageQuality: 'standard', imageSize: '1792x1024', succeeded: true },
      sizes,
    );
    expect(result).toEqual({ pricing: 'unpriced', priced: false, missing: ['per_image'] });
    // A token-priced model without per-image prices: an image whose tokens are unknown is not free.
    expect(computeCost(call({}, 1), OPENAI_GPT_IMAGE_2)).toEqual({
      pricing: 'unpriced',
      priced: false,
      missing: ['per_image'],
    });
  });

  it('bills an image by its output tokens or per image, never both', () => {
    const both: PriceSheet = { ...OPENAI_GPT_IMAGE_2, per_image: '0.5' };
    const usage = { ...EMPTY_USAGE, input_text: 120, output_image: 4160 };
    expect(imagesPricedPerImage(usage, 1)).toBe(0);
    expect(imagesPricedPerImage({ ...EMPTY_USAGE, input_text: 120 }, 2)).toBe(2);
    const tokens = billableCall({ usage, images: 1, imageSize: '1024x1024', imageQuality: 'high', succeeded: true });
    // 120 x $5 + 4,160 x $30 per 1M = $0.1254; the per-image price is not added.
    expect(costOf(computeCost(tokens, both))).toBe('0.125400');
    const noTokens = billableCall({
      usage: { ...EMPTY_USAGE },
      images: 2,
      imageSize: '1024x1024',
      imageQuality: 'high',
      succeeded: true,
    });
    expect(costOf(computeCost(noTokens, both))).toBe('1.000000');
  });

  it('prices no image per image for a failed call: it delivered none', () => {
    const failed = billableCall({
      usage: { ...EMPTY_USAGE },
      images: 1,
      imageSize: '1024x1024',
      imageQuality: 'hd',
      succeeded: false,
    });
    expect(failed.images).toBe(0);
    expect(costOf(computeCost(failed, { per_image: '0.04' }))).toBe('0.000000');
  });

  it('says in words why an event is not wholly priced', () => {
    const base = { provider: 'openai', model: 'gpt-image-1', imageSize: '1024x1536', imageQuality: 'hd' };
    expect(pricingNote({ ...base, pricing: 'priced', missing: [], hasPrice: true })).toBeNull();
    expect(pricingNote({ ...base, pricing: 'unpriced', missing: [], hasPrice: false })).toBe(
      'no price for openai/gpt-image-1',
    );
    expect(pricingNote({ ...base, pricing: 'partial', missing: ['output_text'], hasPrice: true })).toBe(
      'partly priced: no rate for output_text',
    );
    expect(pricingNote({ ...base, pricing: 'unpriced', missing: ['per_image'], hasPrice: true })).toBe(
      'no per-image price for hd 1024x1536 and no image output tokens',
    );
  });

  it('adds per-image prices and per-request prices of successful calls', () => {
    const sheet: PriceSheet = { per_image: '0.04', per_request: '0.001' };
    expect(costOf(computeCost(call({}, 3), sheet))).toBe('0.121000');
    expect(costOf(computeCost({ ...call({}, 0), succeeded: false }, sheet))).toBe('0.000000');
  });

  it('keeps sub-micro-dollar precision instead of rounding', () => {
    expect(costOf(computeCost(call({ input_text: 1 }), { input_text: '0.15' }))).toBe('0.00000015');
  });

  describe('sum of many events equals the cost of their summed tokens (property)', () => {
    // A small deterministic PRNG so a failure can be replayed from its seed.
    function mulberry32(seed: number) {
      return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }
    const sheets: Record<string, PriceSheet> = {
      openai: OPENAI_GPT_IMAGE_2,
      vercel: VERCEL_GPT_IMAGE_2,
      odd: { input_text: '0.0000003', input_image: '7.77', output: '33.333333', per_image: '0.0123' },
    };

    for (const seed of [1, 7, 42, 2026]) {
      for (const [name, sheet] of Object.entries(sheets)) {
        it(`seed ${seed}, ${name} prices`, () => {
          const random = mulberry32(seed);
          const summed: TokenUsage = { ...EMPTY_USAGE };
          let images = 0;
          let total = Decimal.ZERO;
          for (let i = 0; i < 2000; i++) {
            const usage = { ...EMPTY_USAGE };
            for (const kind of TOKEN_KINDS) {
              usage[kind] = random() < 0.5 ? 0 : Math.floor(random() * 10_000_000);
              summed[kind] += usage[kind];
            }
            // Images priced per image (those not counted in tokens), where the sheet prices images.
            const imageCount = sheet.per_image ? Math.floor(random() * 4) : 0;
            images += imageCount;
            const result = computeCost({ usage, images: imageCount, succeeded: true }, sheet);
            if (imageCount === 0 && TOKEN_KINDS.every((kind) => usage[kind] === 0)) {
              // Nothing to price it by: unpriced, adding nothing (never a priced $0).
              expect(result).toEqual({ pricing: 'unpriced', priced: false, missing: ['usage'] });
              continue;
            }
            expect(result.priced).toBe(true);
            if (result.priced) total = total.add(result.cost);
          }
          const whole = computeCost({ usage: summed, images, succeeded: true }, sheet);
          expect(whole.priced).toBe(true);
          if (whole.priced) expect(total.toString()).toBe(whole.cost.toString());
        });
      }
    }
  });
});

describe('a successful call with nothing to price it by', () => {
  const none = {
    input_text: 0,
    cached_input_text: 0,
    input_image: 0,
    cached_input_image: 0,
    output_image: 0,
    output_text: 0,
  };
  const perImage = { image_prices: { 'hd/1024x1024': '0.08' } };
  const tokens = { input_text: '5', output_image: '30' };

  it('is unpriced, never a priced $0: no tokens, no images (an answer never read, usage stripped)', () => {
    for (const sheet of [perImage, tokens]) {
      expect(
        computeCost({ usage: none, images: 0, imageSize: '1024x1024', imageQuality: 'hd', succeeded: true }, sheet),
      ).toEqual({
        pricing: 'unpriced',
        priced: false,
        missing: ['usage'],
      });
    }
  });

  it('a failed call that counts nothing costs a priced $0 (it delivered nothing), and a per-request price still prices a success', () => {
    expect(computeCost({ usage: none, images: 0, succeeded: false }, tokens)).toMatchObject({ pricing: 'priced' });
    const result = computeCost({ usage: none, images: 0, succeeded: true }, { per_request: '0.01' });
    expect(result.pricing === 'priced' && result.cost.toString()).toBe('0.01');
  });

  it('says why in words', () => {
    expect(
      pricingNote({
        pricing: 'unpriced',
        missing: ['usage'],
        hasPrice: true,
        provider: 'openai',
        model: 'dall-e-3',
        imageSize: null,
        imageQuality: null,
      }),
    ).toBe('a successful call that reported no tokens and no images: nothing to price it by');
  });
});
