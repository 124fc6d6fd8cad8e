import { PriceBook, PriceVersion } from './price-book';
import { normalizeModelName } from './model-names';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

function version(partial: Partial<PriceVersion> & Pick<PriceVersion, 'id' | 'effectiveFrom'>): PriceVersion {
  return {
    provider: 'openai',
    model: 'gpt-image-2',
    kind: 'list',
    source: 'catalog',
    effectiveTo: null,
    sheet: { input: '5', output: '30' },
    ...partial,
  };
}

describe('PriceBook', () => {
  const book = new PriceBook([
    version({ id: 'v1', effectiveFrom: day('2026-04-21'), effectiveTo: day('2026-06-01') }),
    version({ id: 'v2', effectiveFrom: day('2026-06-01') }),
    version({ id: 'deal', kind: 'override', effectiveFrom: day('2026-09-01'), effectiveTo: day('2026-10-01') }),
    version({ id: 'vercel', provider: 'vercel', effectiveFrom: day('2026-05-10') }),
  ]);

  it('resolves the version in effect at the event time', () => {
    expect(book.resolve('openai', 'gpt-image-2', day('2026-05-15'))?.id).toBe('v1');
    expect(book.resolve('openai', 'gpt-image-2', day('2026-06-01'))?.id).toBe('v2');
    expect(book.resolve('openai', 'gpt-image-2', day('2026-11-27'))?.id).toBe('v2');
  });

  it('prices an event older than the first version with the first version', () => {
    expect(book.resolve('openai', 'gpt-image-2', day('2025-01-01'))?.id).toBe('v1');
    expect(book.resolve('vercel', 'gpt-image-2', day('2026-04-30'))?.id).toBe('vercel');
  });

  it('lets an override beat the list price only while it is in effect', () => {
    expect(book.resolve('openai', 'gpt-image-2', day('2026-09-15'))?.id).toBe('deal');
    expect(book.resolve('openai', 'gpt-image-2', day('2026-10-01'))?.id).toBe('v2');
  });

  it('knows nothing of unknown providers and models', () => {
    expect(book.resolve('openai', 'gpt-image-9', day('2026-09-15'))).toBeNull();
    expect(book.resolve('azure', 'gpt-image-2', day('2026-09-15'))).toBeNull();
  });

  it('matches dated snapshots and gateway names to the priced model', () => {
    expect(book.resolve('openai', 'gpt-image-2-2026-04-21', day('2026-05-15'))?.id).toBe('v1');
    expect(normalizeModelName('openai/GPT-Image-2')).toBe('gpt-image-2');
  });

  it('prices a snapshot by its own version only from when it exists, by the base model before', () => {
    // A pull on 2026-11-23 priced the snapshot itself: events before it keep the base model's price (no upward
    // restatement).
    const withSnapshot = new PriceBook([
      version({ id: 'base', effectiveFrom: day('2026-04-21') }),
      version({ id: 'snapshot', model: 'gpt-image-2-2026-04-21', effectiveFrom: day('2026-11-23') }),
    ]);
    expect(withSnapshot.resolve('openai', 'gpt-image-2-2026-04-21', day('2026-11-01'))?.id).toBe('base');
    expect(withSnapshot.resolve('openai', 'gpt-image-2-2026-04-21', day('2026-11-24'))?.id).toBe('snapshot');
    expect(withSnapshot.resolve('openai', 'gpt-image-2', day('2026-11-24'))?.id).toBe('base');
    // Older than every version of both: the earliest of the snapshot's own.
    const snapshotOnly = new PriceBook([
      version({ id: 'snapshot', model: 'gpt-image-2-2026-04-21', effectiveFrom: day('2026-11-23') }),
    ]);
    expect(snapshotOnly.resolve('openai', 'gpt-image-2-2026-04-21', day('2026-05-01'))?.id).toBe('snapshot');
  });
});

describe('PriceBook discounts', () => {
  const book = new PriceBook([
    version({ id: 'list', effectiveFrom: day('2026-04-21'), sheet: { input_text: '5', output_image: '30' } }),
    version({
      id: 'deal',
      kind: 'override',
      model: 'gpt-image-1',
      effectiveFrom: day('2026-01-01'),
      sheet: { output_image: '20' },
    }),
    version({
      id: 'ten-off',
      kind: 'discount',
      model: '*',
      effectiveFrom: day('2026-10-01'),
      discountPct: '12.5',
      sheet: {},
    }),
  ]);

  it('takes a provider-wide percentage off every list price from its date, exactly', () => {
    expect(book.resolve('openai', 'gpt-image-2', day('2026-09-30'))?.sheet).toEqual({
      input_text: '5',
      output_image: '30',
    });
    const discounted = book.resolve('openai', 'gpt-image-2', day('2026-10-02'))!;
    expect(discounted.id).toBe('list');
    expect(discounted.appliedDiscountPct).toBe('12.5');
    expect(discounted.sheet).toEqual({ input_text: '4.375', output_image: '26.25' });
  });

  it('discounts per-image prices by size and quality too', () => {
    const images = new PriceBook([
      version({
        id: 'dalle',
        model: 'dall-e-3',
        effectiveFrom: day('2026-01-01'),
        sheet: { per_image: '0.04', image_prices: { 'hd/1024x1024': '0.08' } },
      }),
      version({
        id: 'ten-off',
        kind: 'discount',
        model: '*',
        effectiveFrom: day('2026-10-01'),
        discountPct: '12.5',
        sheet: {},
      }),
    ]);
    expect(images.resolve('openai', 'dall-e-3', day('2026-10-02'))?.sheet).toEqual({
      per_image: '0.035',
      image_prices: { 'hd/1024x1024': '0.07' },
    });
  });

  it('does not discount a negotiated override', () => {
    expect(book.resolve('openai', 'gpt-image-1', day('2026-10-02'))?.id).toBe('deal');
  });
});

describe('PriceBook: overrides over the list, rates that arrive late', () => {
  const mini = {
    input_text: '2',
    cached_input_text: '0.2',
    input_image: '2.5',
    cached_input_image: '0.25',
    output_image: '8',
  };

  it('lets an override price only the units it names; the list prices the others', () => {
    const book = new PriceBook([
      version({ id: 'list', model: 'gpt-image-1-mini', effectiveFrom: day('2025-10-06'), sheet: mini }),
      version({
        id: 'deal',
        kind: 'override',
        source: 'override',
        model: 'gpt-image-1-mini',
        effectiveFrom: day('2026-11-01'),
        sheet: { output_image: '6' },
      }),
    ]);
    const resolved = book.resolve('openai', 'gpt-image-1-mini', day('2026-11-20'))!;
    expect(resolved.id).toBe('deal');
    expect(resolved.sheet).toEqual({ ...mini, output_image: '6' });
    expect(resolved.rateSources).toEqual({
      input_text: 'catalog',
      cached_input_text: 'catalog',
      input_image: 'catalog',
      cached_input_image: 'catalog',
      output_image: 'override',
    });
  });

  it('keeps the list price of the other units under an override backdated before the first list version', () => {
    // The model was first priced by today's pull; an override of one unit from the 1st of the month.
    const book = new PriceBook([
      version({
        id: 'pull',
        model: 'gemini-3-pro-image',
        provider: 'google',
        source: 'litellm',
        effectiveFrom: day('2026-11-29'),
        sheet: { input_text: '2', output_image: '120' },
      }),
      version({
        id: 'deal',
        kind: 'override',
        model: 'gemini-3-pro-image',
        provider: 'google',
        effectiveFrom: day('2026-11-01'),
        sheet: { input_image: '2' },
      }),
    ]);
    expect(book.resolve('google', 'gemini-3-pro-image', day('2026-11-20'))!.sheet).toEqual({
      input_text: '2',
      output_image: '120',
      input_image: '2',
    });
  });

  it('lets a direction-wide override rate cover the kinds of its direction', () => {
    const book = new PriceBook([
      version({
        id: 'list',
        effectiveFrom: day('2026-04-21'),
        sheet: {
          input_text: '5',
          input_image: '8',
          output_image: '30',
          per_image: '0.1',
          image_prices: { 'hd/1024x1024': '0.2' },
        },
      }),
      version({
        id: 'deal',
        kind: 'override',
        effectiveFrom: day('2026-11-01'),
        sheet: { input: '4', per_image: '0.05' },
      }),
    ]);
    expect(book.resolve('openai', 'gpt-image-2', day('2026-11-20'))!.sheet).toEqual({
      output_image: '30',
      input: '4',
      per_image: '0.05',
    });
  });

  it('prices a unit a version lacks as the next version that has it does', () => {
    const book = new PriceBook([
      version({
        id: 'catalog',
        model: 'gpt-image-1',
        effectiveFrom: day('2025-04-23'),
        sheet: { input_text: '5', output_image: '40' },
      }),
      version({
        id: 'pull',
        model: 'gpt-image-1',
        source: 'litellm',
        effectiveFrom: day('2026-11-23'),
        sheet: { input_text: '5', output_image: '40', output_text: '10', image_prices: { 'low/1024x1024': '0.011' } },
      }),
      version({
        id: 'later',
        model: 'gpt-image-1',
        source: 'litellm',
        effectiveFrom: day('2026-12-01'),
        sheet: { input_text: '5', output_image: '40', output_text: '12' },
      }),
    ]);
    const before = book.resolve('openai', 'gpt-image-1', day('2026-11-01'))!;
    expect(before.id).toBe('catalog');
    // The earliest later rate, not the latest: the rate that was in effect first.
    expect(before.sheet).toEqual({
      input_text: '5',
      output_image: '40',
      output_text: '10',
      image_prices: { 'low/1024x1024': '0.011' },
    });
    expect(before.rateSources).toMatchObject({
      input_text: 'catalog',
      output_text: 'litellm (priced from 2026-11-23)',
      'image_prices.low/1024x1024': 'litellm (priced from 2026-11-23)',
    });
    // Its own rates win, and a version with every rate keeps them.
    expect(book.resolve('openai', 'gpt-image-1', day('2026-12-02'))!.sheet.output_text).toBe('12');
    expect(book.resolve('openai', 'gpt-image-1', day('2026-11-24'))!.sheet.output_text).toBe('10');
  });
});
