import { Decimal, formatUsd, sumDecimals } from './decimal';

describe('Decimal', () => {
  it('parses plain, signed and exponent notation exactly', () => {
    expect(Decimal.parse('30').toString()).toBe('30');
    expect(Decimal.parse('1.250').toString()).toBe('1.25');
    expect(Decimal.parse('-0.5').toString()).toBe('-0.5');
    expect(Decimal.parse('1.25e-06').toString()).toBe('0.00000125');
    expect(Decimal.parse('3E+2').toString()).toBe('300');
  });

  it('rejects what is not a decimal number', () => {
    for (const bad of ['', 'abc', '1.2.3', '0x10', 'NaN', '1e']) {
      expect(() => Decimal.parse(bad)).toThrow(RangeError);
    }
  });

  it('adds values of different scales without rounding', () => {
    const total = Decimal.parse('0.1').add(Decimal.parse('0.2'));
    expect(total.toString()).toBe('0.3');
    expect(Decimal.parse('0.000000000000000001').add(Decimal.parse('1')).toString()).toBe('1.000000000000000001');
  });

  it('multiplies by quantities and divides by powers of ten exactly', () => {
    expect(Decimal.parse('8.00').times(1290).shiftRight(6).toString()).toBe('0.01032');
    expect(Decimal.parse('0.9').multiply(Decimal.parse('30')).toString()).toBe('27');
  });

  it('formats money with at least six decimals and keeps every digit', () => {
    expect(formatUsd(Decimal.parse('0.13572'))).toBe('0.135720');
    expect(formatUsd(Decimal.parse('0.0000001'))).toBe('0.0000001');
    expect(formatUsd(Decimal.parse('-1.5'))).toBe('-1.500000');
    expect(formatUsd(Decimal.ZERO)).toBe('0.000000');
  });

  it('shows a zero of any scale as a zero of six decimals (a difference of two equal 7-decimal sums)', () => {
    const zero = Decimal.parse('0.0387243').subtract(Decimal.parse('0.0387243'));
    expect(zero.normalized().toFixedString()).toBe('0');
    expect(formatUsd(zero)).toBe('0.000000');
    expect(formatUsd(Decimal.parse('0.0000000'))).toBe('0.000000');
    expect(formatUsd(Decimal.parse('0.1300'))).toBe('0.130000');
  });

  it('divides by an integer, rounding half up at the given digits', () => {
    expect(Decimal.parse('1').divideBy(3).toString()).toBe('0.333333');
    expect(Decimal.parse('2').divideBy(3).toString()).toBe('0.666667');
    expect(Decimal.parse('0.13572').divideBy(2, 6).toString()).toBe('0.06786');
    expect(Decimal.parse('-1').divideBy(8, 2).toString()).toBe('-0.13');
  });

  it('compares and sums', () => {
    expect(Decimal.parse('1.10').compare(Decimal.parse('1.1'))).toBe(0);
    expect(Decimal.parse('2').compare(Decimal.parse('10'))).toBe(-1);
    expect(sumDecimals(['1', '2.5', '0.25'].map(Decimal.parse)).toString()).toBe('3.75');
  });
});

describe('Decimal.subtract and abs', () => {
  it('subtracts exactly and drops the sign', () => {
    expect(Decimal.parse('0.3').subtract(Decimal.parse('0.1')).toString()).toBe('0.2');
    expect(Decimal.parse('1').subtract(Decimal.parse('1.000001')).toString()).toBe('-0.000001');
    expect(Decimal.parse('-2.5').abs().toString()).toBe('2.5');
    expect(Decimal.parse('2.5').abs().toString()).toBe('2.5');
  });

  it('rounds to significant digits, half up, exactly', () => {
    expect(Decimal.parse('0.07999586304').roundToSignificant(4).toString()).toBe('0.08');
    expect(Decimal.parse('0.0031999999999475712').roundToSignificant(11).toString()).toBe('0.0031999999999');
    expect(Decimal.parse('0.07998799872').roundToSignificant(4).toString()).toBe('0.07999');
    expect(Decimal.parse('0.0179830784').roundToSignificant(3).toString()).toBe('0.018');
    expect(Decimal.parse('123456').roundToSignificant(2).toString()).toBe('120000');
    expect(Decimal.parse('-0.0125').roundToSignificant(2).toString()).toBe('-0.013');
    expect(Decimal.parse('0.5').roundToSignificant(3).toString()).toBe('0.5');
  });

  it('finds the shortest decimal within an interval', () => {
    const shortest = (value: string, err: string) => Decimal.parse(value).shortestWithin(Decimal.parse(err)).toString();
    // 7.629e-8 per pixel x 1,048,576 pixels, the rate known to +-0.5e-11 per pixel
    expect(shortest('0.07999586304', '0.00000524288')).toBe('0.08');
    expect(shortest('0.07998799872', '0.00000917504')).toBe('0.07999');
    expect(shortest('0.0031999999999475712', '0.0000000000000786432')).toBe('0.0032');
    expect(shortest('0.0179830784', '0.0000131072')).toBe('0.01798');
    expect(shortest('0.125', '0')).toBe('0.125');
  });
});
