import { Decimal } from './decimal';

/**
 * Money for people: one rule everywhere an amount is shown (alert texts,
 * Slack messages, chart titles, the dashboard). Exports and JSON payloads keep
 * the exact value (`formatUsd`); this is only what a person reads.
 *
 * - `|x| >= $1`: cents with thousands separators, `$1,234.57`.
 * - `0 < |x| < $1`: 4 significant digits, trailing zeros kept so amounts line
 *   up: `$0.2684`, `$0.5000`, `$0.001357`, `$0.00001234`. A value that rounds
 *   up to a dollar is shown as one: 0.99996 is `$1.00`.
 * - `0`: `$0.00`.
 * - Negative amounts (restatement deltas): `-$12.50`, `-$0.003000`. An ASCII
 *   hyphen, so the text stays searchable and parses back.
 *
 * Rounding is half up (away from zero), as everywhere else in libs/core
 * (`Decimal.divide`, `roundToSignificant`): $1.005 is `$1.01`, $0.13185 is
 * `$0.1319`. Half-even only pays off when rounded values are summed, and shown
 * values never are: totals are summed exactly and then shown.
 *
 * Works on the exact decimal (bigint); no JavaScript `number` is involved, so
 * `$2.675` is `$2.68` (a float would say 2.67). Browser-safe: no Node imports.
 */
export function displayUsd(exact: string | Decimal): string {
  const value = typeof exact === 'string' ? Decimal.parse(exact) : exact;
  if (value.isZero()) return '$0.00';
  const sign = value.isNegative() ? '-' : '';
  const magnitude = value.abs();
  if (magnitude.compare(ONE) < 0) {
    const rounded = magnitude.roundToSignificant(SIGNIFICANT_DIGITS_BELOW_A_DOLLAR);
    if (rounded.compare(ONE) < 0)
      return `${sign}$${rounded.toFixedString(SIGNIFICANT_DIGITS_BELOW_A_DOLLAR + leadingFractionZeros(rounded))}`;
  }
  const [whole, cents] = roundToCents(magnitude).toFixedString(2).split('.');
  return `${sign}$${groupThousands(whole)}.${cents}`;
}

/**
 * Amounts shown side by side that a reader adds or subtracts (billed, tracked
 * and their difference): each as `displayUsd` would show it, but all with the
 * same decimals, those of the most precise one, so that they add up as read
 * (`$1.2200`, `$1.0843`, `$0.1357`, not `$1.22`, `$1.08`, `$0.1357`). Rounded
 * half up, exactly; null stays null.
 */
export function displayUsdAligned(values: Array<string | null>): Array<string | null> {
  const decimals = Math.max(2, ...values.map((v) => (v === null ? 0 : (displayUsd(v).split('.')[1] ?? '').length)));
  return values.map((v) => {
    if (v === null) return null;
    const value = Decimal.parse(v);
    if (value.isZero()) return `$${(0).toFixed(decimals)}`;
    const [whole, fraction] = value.abs().divide(ONE, decimals).toFixedString(decimals).split('.');
    return `${value.isNegative() ? '-' : ''}$${groupThousands(whole)}.${fraction}`;
  });
}

/** Digits shown for amounts under a dollar. */
export const SIGNIFICANT_DIGITS_BELOW_A_DOLLAR = 4;

/**
 * Short money for chart axis ticks, which are drawing only (the exact value
 * is in the tooltip): `$0`, `$0.05`, `$2.5`, `$250`, `$1.5k`, `$12k`, `$3M`.
 * At most 3 significant digits, trailing zeros dropped. Takes a `number`
 * because Chart.js hands ticks as numbers; never use it for a figure a
 * person reads as an amount.
 */
export function displayUsdCompact(value: number): string {
  if (!Number.isFinite(value)) return '';
  if (value === 0) return '$0';
  const sign = value < 0 ? '-' : '';
  let magnitude = Math.abs(value);
  // 999,999 rounds to 1,000k at 3 digits: step up a unit first.
  let suffix = '';
  for (const [unit, name] of COMPACT_UNITS) {
    if (Number(magnitude.toPrecision(3)) >= unit) {
      magnitude /= unit;
      suffix = name;
      break;
    }
  }
  return `${sign}$${trimNumber(magnitude)}${suffix}`;
}

const ONE = Decimal.fromInteger(1);
const COMPACT_UNITS: Array<[number, string]> = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** Zeros between the point and the first significant digit of 0 < x < 1 (0.001357 has 2). */
function leadingFractionZeros(x: Decimal): number {
  const n = x.normalized();
  return n.scale - n.units.toString().length;
}

/** Half up (away from zero) to 2 decimals, exactly; `x` is not negative. */
function roundToCents(x: Decimal): Decimal {
  if (x.scale <= 2) return x;
  const divisor = 10n ** BigInt(x.scale - 2);
  return Decimal.fromInteger((x.units + divisor / 2n) / divisor).shiftRight(2);
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 3 significant digits without trailing zeros or exponent notation (1.5e-7 is 0.00000015). */
function trimNumber(x: number): string {
  const text = x.toPrecision(3);
  const exponent = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  let plain = text;
  if (exponent) {
    // toPrecision uses exponent notation below 1e-6 (ticks that small are rare, but exist).
    const [, first, rest = '', power] = exponent;
    plain = Number(power) > 0 ? x.toFixed(0) : `0.${'0'.repeat(-Number(power) - 1)}${first}${rest}`;
  }
  return plain.includes('.') ? plain.replace(/0+$/, '').replace(/\.$/, '') : plain;
}
