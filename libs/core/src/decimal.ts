/**
 * Exact decimal arithmetic on bigint for money. A value is `units / 10^scale`.
 * No JavaScript `number` ever holds an amount: prices arrive as strings, token
 * counts are integers, and results leave as strings.
 */
export class Decimal {
  private constructor(
    readonly units: bigint,
    readonly scale: number,
  ) {}

  static readonly ZERO = new Decimal(0n, 0);

  /** Parses "30", "1.25", "-0.5", "1.25e-06" exactly. Throws on anything else. */
  static parse(text: string): Decimal {
    const match = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
    if (!match) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
    const [, sign, whole, fraction = '', exponent = '0'] = match;
    let digits = whole + fraction;
    let scale = fraction.length - Number(exponent);
    if (scale < 0) {
      digits += '0'.repeat(-scale);
      scale = 0;
    }
    const units = BigInt(digits) * (sign === '-' ? -1n : 1n);
    return new Decimal(units, scale).normalized();
  }

  static isDecimalString(text: string): boolean {
    return /^[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?$/.test(text.trim());
  }

  static fromInteger(value: bigint | number): Decimal {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`not a safe integer: ${value}`);
    }
    return new Decimal(BigInt(value), 0);
  }

  add(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescaled(scale) + other.rescaled(scale), scale);
  }

  /** Multiplies by an integer quantity (tokens, images, requests). */
  times(quantity: bigint | number): Decimal {
    return new Decimal(this.units * BigInt(quantity), this.scale);
  }

  /** Exact division by 10^digits (for example per 1M tokens: digits = 6). */
  shiftRight(digits: number): Decimal {
    return new Decimal(this.units, this.scale + digits);
  }

  /** Exact multiplication by 10^digits (for example per token -> per 1M tokens: digits = 6). */
  shiftLeft(digits: number): Decimal {
    if (digits <= this.scale) return new Decimal(this.units, this.scale - digits);
    return new Decimal(this.units * 10n ** BigInt(digits - this.scale), 0);
  }

  /** Multiplies by a decimal factor, exactly. */
  multiply(other: Decimal): Decimal {
    return new Decimal(this.units * other.units, this.scale + other.scale);
  }

  /**
   * Division by a positive integer, rounded half up to `digits` decimals. Only
   * for derived figures (averages, forecasts, cost per image), never for a
   * stored cost.
   */
  divideBy(divisor: bigint | number, digits = 6): Decimal {
    const d = BigInt(divisor);
    if (d <= 0n) throw new RangeError('divisor must be positive');
    const scaled = this.units * 10n ** BigInt(digits + 1);
    const shifted = scaled / (d * 10n ** BigInt(this.scale));
    const rounded = (shifted + (shifted >= 0n ? 5n : -5n)) / 10n;
    return new Decimal(rounded, digits).normalized();
  }

  /**
   * Division by a non-zero decimal, rounded half up to `digits` decimals. For
   * derived figures (ratios of money, forecasts), never for a stored cost.
   */
  divide(other: Decimal, digits = 6): Decimal {
    if (other.units === 0n) throw new RangeError('division by zero');
    const negative = this.units < 0n !== other.units < 0n;
    const a = this.units < 0n ? -this.units : this.units;
    const b = other.units < 0n ? -other.units : other.units;
    // a/10^sa / (b/10^sb) = a * 10^sb / (b * 10^sa); one extra digit for rounding.
    const scaled = (a * 10n ** BigInt(other.scale + digits + 1)) / (b * 10n ** BigInt(this.scale));
    const rounded = (scaled + 5n) / 10n;
    return new Decimal(negative ? -rounded : rounded, digits).normalized();
  }

  /**
   * Rounded half up (away from zero) to `digits` significant digits: for a
   * figure derived from a rate known to that many digits, never for a cost.
   */
  roundToSignificant(digits: number): Decimal {
    if (digits < 1) throw new RangeError('digits must be at least 1');
    const negative = this.units < 0n;
    const magnitude = negative ? -this.units : this.units;
    const drop = magnitude.toString().length - digits;
    if (drop <= 0) return this;
    const divisor = 10n ** BigInt(drop);
    const rounded = (magnitude + divisor / 2n) / divisor;
    const scale = this.scale - drop;
    const units = scale >= 0 ? rounded : rounded * 10n ** BigInt(-scale);
    return new Decimal(negative ? -units : units, Math.max(0, scale)).normalized();
  }

  /**
   * The decimal with the fewest significant digits within `this` +- `err`
   * (inclusive): what a figure known only to that precision can be said to be.
   */
  shortestWithin(err: Decimal): Decimal {
    const low = this.subtract(err.abs());
    const high = this.add(err.abs());
    const digits = this.abs().units.toString().length;
    for (let k = 1; k < digits; k++) {
      const candidate = this.roundToSignificant(k);
      if (candidate.compare(low) >= 0 && candidate.compare(high) <= 0) return candidate;
    }
    return this;
  }

  /** Absolute value. */
  abs(): Decimal {
    return this.units < 0n ? new Decimal(-this.units, this.scale) : this;
  }

  /** Difference `this - other`, exact. */
  subtract(other: Decimal): Decimal {
    return this.add(new Decimal(-other.units, other.scale));
  }

  compare(other: Decimal): -1 | 0 | 1 {
    const scale = Math.max(this.scale, other.scale);
    const a = this.rescaled(scale);
    const b = other.rescaled(scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equals(other: Decimal): boolean {
    return this.compare(other) === 0;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  isNegative(): boolean {
    return this.units < 0n;
  }

  /** Drops trailing zeros of the fraction; the value is unchanged. */
  normalized(): Decimal {
    let { units, scale } = this;
    while (scale > 0 && units % 10n === 0n) {
      units /= 10n;
      scale -= 1;
    }
    return scale === this.scale ? this : new Decimal(units, scale);
  }

  /**
   * Plain decimal notation with at least `minFractionDigits` digits after the
   * point and no rounding: every digit of the exact value is kept.
   */
  toFixedString(minFractionDigits = 0): string {
    const value = this.normalized();
    const scale = Math.max(value.scale, minFractionDigits);
    const units = value.rescaled(scale);
    const negative = units < 0n;
    const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
    const whole = digits.slice(0, digits.length - scale);
    const fraction = digits.slice(digits.length - scale);
    return (negative ? '-' : '') + whole + (scale > 0 ? '.' + fraction : '');
  }

  toString(): string {
    return this.toFixedString();
  }

  private rescaled(scale: number): bigint {
    return this.units * 10n ** BigInt(scale - this.scale);
  }
}

/** Money is shown with at least 6 decimals (micro-dollars) and never rounded. */
export function formatUsd(amount: Decimal): string {
  return amount.toFixedString(6);
}

export function sumDecimals(values: Iterable<Decimal>): Decimal {
  let total = Decimal.ZERO;
  for (const value of values) total = total.add(value);
  return total;
}
