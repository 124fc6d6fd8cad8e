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
    expect(suspiciousReasons(diffSheets({ output_image: '30' }, { output_image: '300' }))).toEqual(['output_image 30 -> 300 (more than x5)']);
    expect(suspiciousReasons(diffSheets({ output_image: '30' }, { output_image: '5.99' }))).toEqual(['output_image 30 -> 5.99 (less than /5)']);
    expect(suspiciousReasons(diffSheets({ input: '5' }, { input: '0' }))).toEqual(['input 5 -> 0']);
    expect(suspiciousReasons(diffSheets({ input: '5', output: '30' }, { input: '5' }))).toEqual(['output 30 removed']);
    expect(suspiciousReasons(diffSheets({ output_image: '30' }, { output_image: '150' }))).toEqual([]);
    expect(suspiciousReasons(diffSheets({ output_image: '30' }, { output_image: '6' }))).toEqual([]);
    expect(suspiciousReasons(diffSheets(null, { output_image: '30' }))).toEqual([]);
  });
});
