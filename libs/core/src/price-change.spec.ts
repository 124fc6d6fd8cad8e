import { diffSheets, suspiciousReasons } from './price-change';

describe('price changes', () => {
  it('sees no change when only the spelling differs', () => {
    expect(diffSheets({ input: '5.00', output: '30' }, { input: '5', output: '30.0' })).toEqual([]);
  });

  it('lists changed, added and removed units', () => {
    expect(diffSheets({ input: '5', output: '30' }, { input: '6', cached_input: '1' })).toEqual([
      { unit: 'input', from: '5', to: '6' },
      { unit: 'cached_input', from: null, to: '1' },
      { unit: 'output', from: '30', to: null },
    ]);
  });

  it('holds a change of more than x5 either way, a zero and a removal; lets x5 exactly pass', () => {
    expect(suspiciousReasons(diffSheets({ output_image: '30' }, { output_image: '300' }))).toEqual([
      'output_image 30 -> 300 (more than x5)',
    ]);
    expect(suspiciousReasons(diffSheets({ output_image: '30' }, { output_image: '5.99' }))).toEqual([
      'output_image 30 -> 5.99 (less than /5)',
    ]);
    expect(suspiciousReasons(diffSheets({ input: '5' }, { input: '0' }))).toEqual(['input 5 -> 0']);
    expect(suspiciousReasons(diffSheets({ input: '5', output: '30' }, { input: '5' }))).toEqual(['output 30 removed']);
    expect(suspiciousReasons(diffSheets({ output_image: '30' }, { output_image: '150' }))).toEqual([]);
    expect(suspiciousReasons(diffSheets({ output_image: '30' }, { output_image: '6' }))).toEqual([]);
    expect(suspiciousReasons(diffSheets(null, { output_image: '30' }))).toEqual([]);
  });

  it('diffs per-image prices by size and quality, and holds a per-image price that jumps', () => {
    const before = { per_image: '0.04', image_prices: { 'hd/1024x1024': '0.08', 'standard/1024x1792': '0.08' } };
    const after = { per_image: '0.04', image_prices: { 'hd/1024x1024': '0.0799948544', 'hd/1024x1792': '0.12' } };
    expect(diffSheets(before, after)).toEqual([
      { unit: 'image_prices.hd/1024x1024', from: '0.08', to: '0.0799948544' },
      { unit: 'image_prices.hd/1024x1792', from: null, to: '0.12' },
      { unit: 'image_prices.standard/1024x1792', from: '0.08', to: null },
    ]);
    expect(suspiciousReasons(diffSheets(before, { image_prices: { 'hd/1024x1024': '0.8' } }))).toContain(
      'image_prices.hd/1024x1024 0.08 -> 0.8 (more than x5)',
    );
  });
});
