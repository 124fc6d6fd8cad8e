import { computeCost, BillableCall } from './cost';
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

function call(usage: Partial<TokenUsage>, images = 1): BillableCall {
  return { usage: { ...EMPTY_USAGE, ...usage }, images, succeeded: true };
}

function costOf(result: ReturnType<typeof computeCost>): string {
  if (!result.priced) throw new Error(`unpriced: ${result.missing.join(',')}`);
  return formatUsd(result.cost);
}

describe('computeCost', () => {
  const editCall = call({ input_text: 120, input_image: 1290, output_image: 4160 });

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

  it('marks a call unpriced, never $0, when a kind with tokens has no price', () => {
    const sheet: PriceSheet = { input_text: '5', input_image: '8' };
    const result = computeCost(call({ input_text: 10, output_image: 4160 }), sheet);
    expect(result).toEqual({ priced: false, missing: ['output_image'] });
  });

  it('ignores kinds with no tokens even when they have no price', () => {
    const sheet: PriceSheet = { input_text: '5' };
    expect(costOf(computeCost(call({ input_text: 200_000 }), sheet))).toBe('1.000000');
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
            const imageCount = Math.floor(random() * 4);
            images += imageCount;
            const result = computeCost(call(usage, imageCount), sheet);
            expect(result.priced).toBe(true);
            if (result.priced) total = total.add(result.cost);
          }
          const whole = computeCost(call(summed, images), sheet);
          expect(whole.priced).toBe(true);
          if (whole.priced) expect(total.toString()).toBe(whole.cost.toString());
        });
      }
    }
  });
});
