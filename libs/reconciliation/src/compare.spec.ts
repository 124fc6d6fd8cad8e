import { Decimal, TOKEN_KINDS, TokenKind } from '@tokentally/core';
import {
  BilledCost,
  BilledImages,
  isDrift,
  parseLineItem,
  percentOf,
  RateOf,
  reconcile,
  ReconcileInput,
  TrackedUsage,
} from './compare';

const D = (text: string) => Decimal.parse(text);
const DAY = '2026-11-25';
const TWO = D('2');

/** gpt-image-2 on openai, USD per 1M tokens (the built-in catalog): text in 5, image in 8, image out 30. */
const CATALOG: Partial<Record<TokenKind, string>> = { input_text: '5', input_image: '8', output_image: '30' };
const rateOf: RateOf = (_model, kinds) => {
  const rates = kinds.map((k) => CATALOG[k]);
  return rates.every((r) => r !== undefined && r === rates[0]) ? D(rates[0]!) : null;
};

function tracked(
  over: Partial<Omit<TrackedUsage, 'tokens'>> & { tokens?: Partial<Record<TokenKind, bigint>> } = {},
): TrackedUsage {
  const tokens = Object.fromEntries(TOKEN_KINDS.map((k) => [k, over.tokens?.[k] ?? 0n])) as Record<TokenKind, bigint>;
  return {
    day: DAY,
    projectId: 'p-1',
    model: 'gpt-image-2',
    calls: 1n,
    errorCalls: 0n,
    images: 1n,
    costUsd: D('0.1254'),
    unpricedEvents: 0n,
    partialEvents: 0n,
    ...over,
    tokens,
  };
}

function cost(amount: string, over: Partial<BilledCost> = {}): BilledCost {
  return {
    day: DAY,
    amount: D(amount),
    currency: 'usd',
    lineItem: 'gpt-image-2, output image',
    projectId: 'proj_a',
    quantity: null,
    quantityUnit: null,
    ...over,
  };
}

function usage(requests: bigint, images = requests, over: Partial<BilledImages> = {}): BilledImages {
  return { day: DAY, requests, images, model: 'gpt-image-2', projectId: 'proj_a', ...over };
}

const input = (over: Partial<ReconcileInput>): ReconcileInput => ({
  costs: [],
  images: [],
  tracked: [],
  mapping: new Map([['proj_a', 'p-1']]),
  thresholdPct: TWO,
  rateOf,
  ...over,
});

const one = (over: Partial<ReconcileInput>) => {
  const { rows } = reconcile(input(over));
  expect(rows).toHaveLength(1);
  return rows[0];
};

describe('the drift rule', () => {
  it('compares |billed - tracked| / |billed| with the threshold exactly, no rounding', () => {
    expect(isDrift(D('100'), D('98'), TWO)).toBe(false); // exactly 2 %: not above
    expect(isDrift(D('100'), D('97.999999999999'), TWO)).toBe(true);
    expect(isDrift(D('100'), D('102'), TWO)).toBe(false);
    expect(isDrift(D('100'), D('102.000000000001'), TWO)).toBe(true);
    expect(isDrift(D('0.1234567890123'), D('0.1234567890123'), D('0'))).toBe(false);
    expect(isDrift(D('1'), D('0.9999999'), D('0'))).toBe(true); // a zero threshold: any difference
  });

  it('counts tracked spend with nothing billed as drift, and a bill with nothing tracked as 100 % off', () => {
    expect(isDrift(D('0'), D('0.000001'), TWO)).toBe(true);
    expect(isDrift(D('0'), D('0'), TWO)).toBe(false);
    expect(isDrift(D('5'), D('0'), TWO)).toBe(true);
    expect(isDrift(D('5'), D('0'), D('100'))).toBe(false);
    expect(isDrift(D('-5'), D('0'), TWO)).toBe(true); // a credit against nothing
  });

  it('gives the percent half up to 2 decimals, of the bill, null when nothing is billed', () => {
    expect(percentOf(D('0.15'), D('1.2'))?.toFixedString(2)).toBe('12.50');
    expect(percentOf(D('-1'), D('3'))?.toFixedString(2)).toBe('-33.33');
    expect(percentOf(D('2'), D('3'))?.toFixedString(2)).toBe('66.67');
    expect(percentOf(D('1'), D('0'))).toBeNull();
  });
});

describe('line items', () => {
  it('reads no model from a one-word charge of the bill (a credit, tax)', () => {
    expect(parseLineItem('credit')).toEqual({ model: null, kind: null });
    expect(parseLineItem('Tax')).toEqual({ model: null, kind: null });
    expect(parseLineItem('gpt-image-2')).toEqual({ model: 'gpt-image-2', kind: null });
  });

  it('reads the model and the token kind from the words of a line item', () => {
    expect(parseLineItem('gpt-image-2, output image')).toEqual({ model: 'gpt-image-2', kind: 'output_image' });
    expect(parseLineItem('gpt-image-2-2026-04-21, Image Input')).toEqual({ model: 'gpt-image-2', kind: 'input_image' });
    expect(parseLineItem('gpt-image-1, cached input image')).toEqual({
      model: 'gpt-image-1',
      kind: 'cached_input_image',
    });
    expect(parseLineItem('gpt-image-1, text input')).toEqual({ model: 'gpt-image-1', kind: 'input_text' });
    expect(parseLineItem('gpt-4o-2024-08-06, input')).toEqual({ model: 'gpt-4o', kind: 'input' });
    expect(parseLineItem('gpt-4o, cached input')).toEqual({ model: 'gpt-4o', kind: 'cached_input' });
    expect(parseLineItem('gpt-4o, output')).toEqual({ model: 'gpt-4o', kind: 'output' });
    expect(parseLineItem('GPT-4 Turbo')).toEqual({ model: 'gpt-4 turbo', kind: null });
    expect(parseLineItem('web search, calls')).toEqual({ model: 'web search', kind: null });
    expect(parseLineItem(null)).toEqual({ model: null, kind: null });
  });
});

describe('reconcile', () => {
  it('reports an exact match as match with difference 0 and no cause', () => {
    const row = one({
      costs: [cost('0.1254')],
      images: [usage(1n)],
      tracked: [tracked()],
    });
    expect(row).toMatchObject({ scope: 'project', openaiProjectId: 'proj_a', projectId: 'p-1', status: 'match' });
    expect(row.differenceUsd?.toFixedString()).toBe('0');
    expect(row.percent?.toFixedString()).toBe('0');
    expect(row.causes).toEqual([]);
  });

  it('names untracked_calls when OpenAI billed more requests than were tracked', () => {
    const row = one({
      costs: [cost('0.2508')],
      images: [usage(2n)],
      tracked: [tracked()],
    });
    expect(row.status).toBe('drift');
    expect(row.differenceUsd?.toFixedString()).toBe('0.1254');
    expect(row.percent?.toFixedString(2)).toBe('50.00');
    expect(row.causes.map((c) => c.cause)).toEqual(['untracked_calls']);
    expect(row.causes[0]).toMatchObject({ missing_calls: 1 });
    expect(row.causes[0].detail).toContain('gpt-image-2: 2 requests billed, 1 tracked');
  });

  it('names untracked_calls for a billed line item of a model never tracked', () => {
    const row = one({
      costs: [cost('0.1254'), cost('1.5', { lineItem: 'gpt-4o-2024-08-06, input' })],
      images: [usage(1n)],
      tracked: [tracked()],
    });
    expect(row.causes.map((c) => c.cause)).toEqual(['untracked_calls']);
    expect(row.causes[0].detail).toContain('1.500000 billed as "gpt-4o-2024-08-06, input" with no tracked call');
  });

  it('names price_drift, with the rate that differs, when tokens match and cost does not', () => {
    // 120 text tokens at $5 and 4,160 image output tokens billed at $32 instead of $30.
    const row = one({
      costs: [
        cost('0.0006', { lineItem: 'gpt-image-2, text input', quantity: D('120'), quantityUnit: 'tokens' }),
        cost('0.13312', { lineItem: 'gpt-image-2, image output', quantity: D('4.16'), quantityUnit: '1000_tokens' }),
      ],
      images: [usage(1n)],
      tracked: [tracked({ costUsd: D('0.1254'), tokens: { input_text: 120n, output_image: 4160n } })],
    });
    expect(row.status).toBe('drift');
    expect(row.billedTokens?.toFixedString()).toBe('4280');
    expect(row.differenceUsd?.toFixedString()).toBe('0.00832');
    expect(row.causes.map((c) => c.cause)).toEqual(['price_drift']);
    expect(row.causes[0].rates).toEqual([
      {
        line_item: 'gpt-image-2, image output',
        model: 'gpt-image-2',
        kind: 'output_image',
        tokens: '4160',
        billed_usd: '0.13312',
        expected_usd: '0.1248',
        billed_per_1m_usd: '32',
        tracked_per_1m_usd: '30',
      },
    ]);
    expect(row.causes[0].detail).toContain('billed 32 USD per 1M tokens, TokenTally 30');
  });

  it('names price_drift for calls that carry no image count (OpenTelemetry spans), comparing requests only', () => {
    // The same usage as above, tracked from spans without tokentally.images: images 0, not "5 untracked images".
    const row = one({
      costs: [
        cost('0.003', { lineItem: 'gpt-image-2, text input', quantity: D('600'), quantityUnit: 'tokens' }),
        cost('0.6656', { lineItem: 'gpt-image-2, image output', quantity: D('20.8'), quantityUnit: '1000_tokens' }),
      ],
      images: [usage(5n)],
      tracked: [
        tracked({ calls: 5n, images: 0n, costUsd: D('0.627'), tokens: { input_text: 600n, output_image: 20800n } }),
      ],
    });
    expect(row.causes.map((c) => c.cause)).toEqual(['price_drift']);
    expect(row.causes[0].rates).toEqual([
      expect.objectContaining({ billed_per_1m_usd: '32', tracked_per_1m_usd: '30' }),
    ]);
  });

  it('names tracked_not_billed for image calls without image counts that OpenAI billed nothing for', () => {
    const { rows } = reconcile(
      input({
        tracked: [tracked({ calls: 4n, images: 0n, costUsd: D('0.5'), tokens: { output_image: 16640n } })],
      }),
    );
    expect(rows[0].causes.map((c) => c.cause)).toEqual(['tracked_not_billed']);
  });

  it('names usage_without_cost when the usage counts requests and the costs give nothing (not untracked calls)', () => {
    const row = one({
      costs: [],
      images: [usage(9n)],
      tracked: [tracked({ calls: 8n, images: 8n, costUsd: D('1.0032') })],
    });
    expect(row.causes.map((c) => c.cause)).toEqual(['usage_without_cost']);
    expect(row.causes[0]).toMatchObject({ requests: 9 });
  });

  it('names unpriced and partly priced calls rather than price drift', () => {
    const row = one({
      costs: [cost('0.3')],
      images: [usage(3n)],
      tracked: [tracked({ calls: 3n, images: 3n, unpricedEvents: 1n, partialEvents: 1n, costUsd: D('0.2') })],
    });
    expect(row.causes.map((c) => c.cause)).toEqual(['unpriced_events', 'partially_priced_events']);
  });

  it('names tracked_not_billed when TokenTally has calls OpenAI did not bill, failed calls aside', () => {
    const row = one({
      costs: [cost('0.1254')],
      images: [usage(1n)],
      tracked: [tracked({ calls: 3n, errorCalls: 1n, images: 2n, costUsd: D('0.2508') })],
    });
    expect(row.causes.map((c) => c.cause)).toEqual(['tracked_not_billed']);
    expect(row.causes[0]).toMatchObject({ extra_calls: 1 });
  });

  it('names credits for negative line items, and says unexplained when nothing else can', () => {
    const credit = one({
      costs: [cost('0.1254'), cost('-0.05', { lineItem: 'credit' })],
      images: [usage(1n)],
      tracked: [tracked()],
    });
    expect(credit.causes.map((c) => c.cause)).toEqual(['credits']);
    expect(credit.billedUsd?.toFixedString()).toBe('0.0754');
    const blind = one({ costs: [cost('1')], tracked: [tracked({ images: 0n })] });
    expect(blind.causes.map((c) => c.cause)).toEqual(['unexplained']);
  });

  it('keeps other currencies apart: recorded, not summed, not comparable', () => {
    const row = one({
      costs: [cost('0.1254'), cost('3.10', { currency: 'eur' })],
      images: [usage(1n)],
      tracked: [tracked()],
    });
    expect(row.status).toBe('not_comparable');
    expect(row.billedUsd?.toFixedString()).toBe('0.1254');
    expect(row.otherCurrencies).toEqual([{ currency: 'eur', amount: '3.1' }]);
    expect([row.differenceUsd, row.percent, row.causes]).toEqual([null, null, []]);
  });

  it('reports unmapped OpenAI projects and unmapped tracked projects apart, without comparing them', () => {
    const { comparison, rows } = reconcile(
      input({
        costs: [cost('0.1254'), cost('7', { projectId: 'proj_x' }), cost('0.5', { projectId: null })],
        images: [usage(1n)],
        tracked: [tracked(), tracked({ projectId: 'p-2' })],
      }),
    );
    expect(comparison).toBe('projects');
    expect(rows.map((r) => [r.scope, r.rowKey, r.status])).toEqual([
      ['project', 'proj_a', 'match'],
      ['unmapped_openai_project', '(none)', 'unmapped'],
      ['unmapped_openai_project', 'proj_x', 'unmapped'],
      ['unmapped_tracked_project', 'tracked:p-2', 'unmapped'],
    ]);
    expect(rows[2].billedUsd?.toFixedString()).toBe('7');
    expect(rows[2].trackedUsd).toBeNull();
    expect(rows[3].billedUsd).toBeNull();
    expect(rows[3].trackedUsd?.toFixedString()).toBe('0.1254');
  });

  it('compares a mapped project OpenAI billed nothing for: tracked spend with no bill is drift', () => {
    const row = one({ tracked: [tracked()] });
    expect(row).toMatchObject({ status: 'drift', percent: null });
    expect(row.billedUsd?.toFixedString()).toBe('0');
    expect(row.causes.map((c) => c.cause)).toEqual(['tracked_not_billed']);
  });

  it('compares the whole organization with every project when nothing is mapped, one row a day', () => {
    const { comparison, rows } = reconcile(
      input({
        mapping: new Map(),
        costs: [cost('0.1254'), cost('0.1254', { projectId: 'proj_b' })],
        images: [usage(1n), usage(1n, 1n, { projectId: 'proj_b' })],
        tracked: [tracked(), tracked({ projectId: 'p-2' }), tracked({ day: '2026-11-26' })],
      }),
    );
    expect(comparison).toBe('organization');
    expect(rows.map((r) => [r.day, r.scope, r.rowKey, r.status, r.billedUsd?.toFixedString()])).toEqual([
      [DAY, 'organization', '*', 'match', '0.2508'],
      ['2026-11-26', 'organization', '*', 'drift', '0'],
    ]);
  });

  it('sums token quantities per model and kind across line items, and compares none a line item leaves unknown', () => {
    const tokens = { input_text: 240n, output_image: 8320n };
    const split = one({
      mapping: new Map(),
      costs: [
        cost('0.0006', { lineItem: 'gpt-image-2, text input', quantity: D('120'), quantityUnit: 'tokens' }),
        cost('0.0006', {
          lineItem: 'gpt-image-2, text input',
          quantity: D('120'),
          quantityUnit: 'tokens',
          projectId: 'b',
        }),
        // One project's image output carries no quantity: the organization's image output tokens are not all known.
        cost('0.1248', { lineItem: 'gpt-image-2, image output', quantity: D('4160'), quantityUnit: 'tokens' }),
        cost('0.2', { lineItem: 'gpt-image-2, image output', projectId: 'b' }),
      ],
      images: [usage(2n)],
      tracked: [tracked({ calls: 2n, images: 2n, costUsd: D('0.2508'), tokens })],
    });
    expect(split.causes.map((c) => c.cause)).toEqual(['price_drift']);
    expect(split.causes[0].rates).toEqual([]);
    expect(split.causes[0].detail).toContain('gpt-image-2: billed 0.326000, tracked 0.250800');
  });

  it('shows a line item split over several results once, its amounts and quantities added up exactly', () => {
    const item = { lineItem: 'gpt-image-2, image output', quantity: D('2080'), quantityUnit: 'tokens' };
    const row = one({
      costs: [cost('0.0624', item), cost('0.0624', item), cost('0.0006', { lineItem: 'gpt-image-2, text input' })],
      images: [usage(1n)],
      tracked: [tracked()],
    });
    expect(row.lineItems.map((l) => [l.line_item, l.amount, l.quantity])).toEqual([
      ['gpt-image-2, image output', '0.1248', '4160'],
      ['gpt-image-2, text input', '0.0006', null],
    ]);
  });

  it('adds exact amounts: 0.1234567890123 + 1e-7 stays exact', () => {
    const row = one({
      costs: [cost('0.1234567890123'), cost('1e-7', { lineItem: 'gpt-image-2, input image' })],
      tracked: [tracked({ images: 0n, costUsd: D('0.1234568890123') })],
    });
    expect(row.billedUsd?.toFixedString()).toBe('0.1234568890123');
    expect(row.lineItems.map((l) => l.amount)).toEqual(['0.1234567890123', '0.0000001']);
    expect(row.status).toBe('match');
  });
});
