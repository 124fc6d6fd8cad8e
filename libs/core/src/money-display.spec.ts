import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { billableCall, computeCost } from './cost';
import { Decimal } from './decimal';
import { displayUsd, displayUsdAligned, displayUsdCompact } from './money-display';
import { PriceSheet } from './price-sheet';
import { EMPTY_USAGE, TokenUsage } from './token-kinds';

/** The value a display string states: "-$1,234.57" is -1234.57. */
function valueOf(display: string): Decimal {
  const match = /^(-?)\$([\d,]+\.\d+)$/.exec(display);
  if (!match) throw new Error(`not a displayed amount: ${display}`);
  return Decimal.parse(match[1] + match[2].replace(/,/g, ''));
}

/** Half a unit of the last digit shown: 0.005 for "$1.23", 0.00005 for "$0.1234". */
function halfUnitOf(display: string): Decimal {
  const decimals = display.split('.')[1].length;
  return Decimal.parse('5').shiftRight(decimals + 1);
}

function significantDigits(display: string): number {
  return display.replace(/[^\d]/g, '').replace(/^0+/, '').length;
}

/** Any decimal from 10^-18 to 10^15, either sign, zero included. */
const decimals = fc
  .record({ units: fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), scale: fc.integer({ min: 0, max: 18 }) })
  .map(({ units, scale }) => Decimal.fromInteger(units).shiftRight(scale));

describe('displayUsd', () => {
  it('shows $1 and more in cents with thousands separators', () => {
    expect(displayUsd('718.631655')).toBe('$718.63');
    expect(displayUsd('369')).toBe('$369.00');
    expect(displayUsd('15.83')).toBe('$15.83');
    expect(displayUsd('1')).toBe('$1.00');
    expect(displayUsd('1234.567')).toBe('$1,234.57');
    expect(displayUsd('1000000')).toBe('$1,000,000.00');
    expect(displayUsd('999.995')).toBe('$1,000.00');
    expect(displayUsd(Decimal.parse('123456789012.345678'))).toBe('$123,456,789,012.35');
  });

  it('shows less than $1 to 4 significant digits, trailing zeros kept so amounts line up', () => {
    expect(displayUsd('0.268')).toBe('$0.2680');
    expect(displayUsd('0.26843')).toBe('$0.2684');
    expect(displayUsd('0.5')).toBe('$0.5000');
    expect(displayUsd('0.1')).toBe('$0.1000');
    expect(displayUsd('0.001357')).toBe('$0.001357');
    expect(displayUsd('0.0000123449')).toBe('$0.00001234');
    expect(displayUsd('0.0000002')).toBe('$0.0000002000');
    expect(displayUsd('0.009999')).toBe('$0.009999');
    // Rounding carries into the next digit: still 4 significant digits.
    expect(displayUsd('0.0099996')).toBe('$0.01000');
  });

  it('shows what rounds up to a dollar as a dollar', () => {
    expect(displayUsd('0.99994')).toBe('$0.9999');
    expect(displayUsd('0.99995')).toBe('$1.00');
    expect(displayUsd('0.999999999')).toBe('$1.00');
  });

  it('shows zero as $0.00 and negatives with a leading -$', () => {
    expect(displayUsd('0')).toBe('$0.00');
    expect(displayUsd('-0.000000')).toBe('$0.00');
    expect(displayUsd(Decimal.ZERO)).toBe('$0.00');
    expect(displayUsd('-12.5')).toBe('-$12.50');
    expect(displayUsd('-1234.5')).toBe('-$1,234.50');
    expect(displayUsd('-0.003')).toBe('-$0.003000');
  });

  it('rounds half up (away from zero) at the .005 edges, exactly (no float)', () => {
    expect(displayUsd('1.005')).toBe('$1.01');
    expect(displayUsd('1.004999999')).toBe('$1.00');
    expect(displayUsd('1.015')).toBe('$1.02');
    expect(displayUsd('1.025')).toBe('$1.03'); // half-even would say 1.02
    expect(displayUsd('2.675')).toBe('$2.68'); // a float (2.67499999...) would say 2.67
    expect(displayUsd('-1.005')).toBe('-$1.01');
    expect(displayUsd('0.12345')).toBe('$0.1235');
    expect(displayUsd('0.123449999')).toBe('$0.1234');
    expect(displayUsd('-0.12345')).toBe('-$0.1235');
  });

  it('shows real costs of the catalog prices', () => {
    const openai: PriceSheet = {
      input_text: '5.00',
      cached_input_text: '1.25',
      input_image: '8.00',
      cached_input_image: '2.00',
      output_image: '30.00',
      output_text: '10.00',
    };
    const vercel: PriceSheet = { input: '5.00', output: '30.00' };
    const mini: PriceSheet = {
      input_text: '2.00',
      cached_input_text: '0.20',
      input_image: '2.50',
      cached_input_image: '0.25',
      output_image: '8.00',
    };
    const cost = (usage: Partial<TokenUsage>, sheet: PriceSheet) => {
      const result = computeCost(
        billableCall({
          usage: { ...EMPTY_USAGE, ...usage },
          images: 1,
          imageSize: null,
          imageQuality: null,
          succeeded: true,
        }),
        sheet,
      );
      if (result.pricing === 'unpriced') throw new Error('unpriced');
      return result.cost;
    };
    const edit = { input_text: 120, input_image: 1290, output_image: 4160 };
    expect(displayUsd(cost(edit, openai))).toBe('$0.1357'); // 0.13572
    expect(displayUsd(cost(edit, vercel))).toBe('$0.1319'); // 0.13185, the half-up edge
    expect(displayUsd(cost({ input_text: 40, output_image: 272 }, mini))).toBe('$0.002256'); // 0.002256
    expect(displayUsd(cost({ cached_input_text: 1 }, mini))).toBe('$0.0000002000');
    // A month of 5,295 such edits: 5,295 x 0.13572 = 718.63740
    expect(displayUsd(cost(edit, openai).times(5295))).toBe('$718.64');
  });

  it('throws on what is not a decimal', () => {
    expect(() => displayUsd('abc')).toThrow(RangeError);
    expect(() => displayUsd('1,5')).toThrow(RangeError);
  });

  it('never differs from the exact value by more than half a unit of the last digit shown', () => {
    fc.assert(
      fc.property(decimals, (exact) => {
        const shown = displayUsd(exact);
        expect(valueOf(shown).subtract(exact).abs().compare(halfUnitOf(shown))).toBeLessThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('has one shape per range: cents from $1, 4 significant digits below, -$ for negatives', () => {
    fc.assert(
      fc.property(decimals, (exact) => {
        const shown = displayUsd(exact);
        expect(shown.startsWith('-')).toBe(exact.isNegative());
        if (valueOf(shown).abs().compare(Decimal.fromInteger(1)) >= 0 || exact.isZero()) {
          expect(shown).toMatch(/^-?\$\d{1,3}(,\d{3})*\.\d{2}$/);
        } else {
          expect(shown).toMatch(/^-?\$0\.\d+$/);
          expect(significantDigits(shown)).toBe(4);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent on its own output and symmetric in sign', () => {
    fc.assert(
      fc.property(decimals, (exact) => {
        const shown = displayUsd(exact);
        expect(displayUsd(valueOf(shown))).toBe(shown);
        expect(displayUsd(valueOf(shown).toString())).toBe(shown);
        if (!exact.isZero())
          expect(displayUsd(Decimal.ZERO.subtract(exact))).toBe(exact.isNegative() ? shown.slice(1) : `-${shown}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the order of amounts', () => {
    fc.assert(
      fc.property(decimals, decimals, (a, b) => {
        const [low, high] = a.compare(b) <= 0 ? [a, b] : [b, a];
        expect(valueOf(displayUsd(low)).compare(valueOf(displayUsd(high)))).toBeLessThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('displayUsdCompact (chart axis ticks)', () => {
  it('shows at most 3 significant digits with k, M, B', () => {
    const cases: Array<[number, string]> = [
      [0, '$0'],
      [0.05, '$0.05'],
      [0.0025, '$0.0025'],
      [0.1 + 0.2, '$0.3'],
      [2.5, '$2.5'],
      [250, '$250'],
      [999.4, '$999'],
      [999.6, '$1k'],
      [1500, '$1.5k'],
      [12_000, '$12k'],
      [250_000, '$250k'],
      [3_000_000, '$3M'],
      [4.2e9, '$4.2B'],
      [-1500, '-$1.5k'],
      [1.5e-7, '$0.00000015'],
    ];
    for (const [tick, text] of cases) expect([tick, displayUsdCompact(tick)]).toEqual([tick, text]);
    expect(displayUsdCompact(Number.NaN)).toBe('');
  });
});

describe('libs/core stays browser-safe', () => {
  it('imports nothing but its own modules (the dashboard bundle imports it)', () => {
    const dir = __dirname;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
      const source = fs.readFileSync(path.join(dir, file), 'utf8');
      const imports = [...source.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
      expect({ file, outside: imports.filter((i) => !i.startsWith('./')) }).toEqual({ file, outside: [] });
      expect({
        file,
        usesNodeGlobals: /\b(?:Buffer|process|__dirname|require)\b/.test(
          source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''),
        ),
      }).toEqual({ file, usesNodeGlobals: false });
    }
  });
});

describe('displayUsdAligned', () => {
  it('shows amounts read together with the decimals of the most precise one, so they add up as read', () => {
    expect(displayUsdAligned(['1.22', '1.0843', '0.1357'])).toEqual(['$1.2200', '$1.0843', '$0.1357']);
    expect(displayUsdAligned(['1234.5', '1234.5', '0'])).toEqual(['$1,234.50', '$1,234.50', '$0.00']);
    expect(displayUsdAligned(['0.00001234', null, '-0.5'])).toEqual(['$0.00001234', null, '-$0.50000000']);
  });

  it('rounds half up, exactly', () => {
    expect(displayUsdAligned(['2.675', '0.1000'])).toEqual(['$2.6750', '$0.1000']);
    expect(displayUsdAligned(['2.67549', '0.002'])).toEqual(['$2.675490', '$0.002000']);
    expect(displayUsdAligned(['2.6754949', '0.1234'])).toEqual(['$2.6755', '$0.1234']);
  });
});
