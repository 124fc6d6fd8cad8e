import { diffSheets, PriceVersion, suspiciousReasons } from '@tokentally/core';
import { mergeRates } from './pricing-refresh.service';

const version = (
  sheet: PriceVersion['sheet'],
  rateSources: Record<string, string> | null,
  source = 'catalog',
): PriceVersion => ({
  id: 'v',
  provider: 'openai',
  model: 'gpt-image-2',
  kind: 'list',
  source,
  effectiveFrom: 0,
  effectiveTo: null,
  sheet,
  rateSources,
});

describe('mergeRates: what a pulled quote makes of the version in force', () => {
  const catalog = version({ input_text: '5', input_image: '8', cached_input_image: '2', output_image: '30' }, null);

  it('keeps the rates the source does not give, with the source that gave them', () => {
    const merged = mergeRates(
      'litellm',
      {
        provider: 'openai',
        model: 'gpt-image-2',
        sheet: { input_text: '5', input_image: '8', output_image: '30', output_text: '10' },
      },
      catalog,
      null,
    )!;
    expect(merged.sheet).toEqual({
      input_text: '5',
      input_image: '8',
      cached_input_image: '2',
      output_image: '30',
      output_text: '10',
    });
    expect(merged.rateSources).toEqual({
      input_text: 'litellm',
      input_image: 'litellm',
      cached_input_image: 'catalog',
      output_image: 'litellm',
      output_text: 'litellm',
    });
  });

  it('fills a snapshot from its base model, saying so', () => {
    const merged = mergeRates(
      'litellm',
      { provider: 'openai', model: 'gpt-image-2-2026-04-21', sheet: { input_image: '8' } },
      null,
      catalog,
    )!;
    expect(merged.rateSources).toMatchObject({
      input_image: 'litellm',
      cached_input_image: 'catalog (base model gpt-image-2)',
    });
  });

  it('refuses a quote of zeros for a model the source does not mark free, keeps one that is free', () => {
    expect(
      mergeRates('litellm', { provider: 'azure', model: 'dall-e-3', sheet: { output_text: '0' } }, null, null),
    ).toBeNull();
    expect(
      mergeRates(
        'openrouter',
        { provider: 'openrouter', model: 'x:free', sheet: { input: '0', output: '0' }, free: true },
        null,
        null,
      )!.sheet,
    ).toEqual({ input: '0', output: '0' });
  });

  it('leaves out a rate the same source gave before and gives no more: the change shows it removed, and it is held', () => {
    const pulled = version(
      { input: '10', output: '10', output_image: '40' },
      { input: 'openrouter', output: 'openrouter', output_image: 'openrouter' },
      'openrouter',
    );
    // OpenRouter now answers -1 (variable) for prompt and completion: no price for them.
    const merged = mergeRates(
      'openrouter',
      { provider: 'openrouter', model: 'gpt-5-image', sheet: { output_image: '40' } },
      pulled,
      null,
    )!;
    expect(merged.sheet).toEqual({ output_image: '40' });
    const changes = diffSheets(pulled.sheet, merged.sheet);
    expect(suspiciousReasons(changes, pulled.sheet)).toEqual(['input 10 removed', 'output 10 removed']);
  });
});

describe('suspiciousReasons for a newly priced unit', () => {
  it('holds a new rate more than 5 times the highest rate of its family the model had', () => {
    const current = { input_text: '5', output_image: '40', per_image: '0.04' };
    const absurd = '1' + '0'.repeat(406);
    expect(suspiciousReasons([{ unit: 'output_text', from: null, to: absurd }], current)).toEqual([
      `output_text new at ${absurd}, more than x5 the highest rate the model had (40)`,
    ]);
    expect(suspiciousReasons([{ unit: 'output_text', from: null, to: '10' }], current)).toEqual([]);
    expect(suspiciousReasons([{ unit: 'image_prices.hd/1024x1024', from: null, to: '0.5' }], current)).toEqual([
      'image_prices.hd/1024x1024 new at 0.5, more than x5 the highest rate the model had (0.04)',
    ]);
    // A family the model had no rate in: nothing to compare with, welcome.
    expect(suspiciousReasons([{ unit: 'per_request', from: null, to: '0.01' }], current)).toEqual([]);
  });
});
