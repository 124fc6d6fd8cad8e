import { Decimal } from './decimal';
import { judgeDaySpend, median } from './anomaly';

const d = (v: string | number) => Decimal.parse(String(v));
const ONE = d('1');

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([d(3), d(1), d(2)]).toString()).toBe('2');
    expect(median([d(4), d(1), d(2), d(3)]).toString()).toBe('2.5');
    expect(median([]).toString()).toBe('0');
  });
});

describe('judgeDaySpend', () => {
  // A noisy baseline around 100 a day: median 100, MAD 10.
  const noisy = Array.from({ length: 28 }, (_, i) => d([90, 100, 110, 100][i % 4]));

  it('flags a day far above median + 5 scaled MAD', () => {
    const verdict = judgeDaySpend(d('400'), noisy, ONE);
    expect(verdict.median.toString()).toBe('100');
    expect(verdict.mad.toString()).toBe('5');
    expect(verdict.threshold.toString()).toBe('137.065'); // 100 + 5 * 1.4826 * 5
    expect(verdict.anomalous).toBe(true);
  });

  it('does not flag a day that is busy but within the noise, or less than twice the median', () => {
    expect(judgeDaySpend(d('130'), noisy, ONE).anomalous).toBe(false);
    expect(judgeDaySpend(d('190'), noisy, ONE)).toMatchObject({
      anomalous: false,
      reason: 'less than twice the median',
    });
  });

  it('is not fooled by one earlier spike in the baseline (robust statistics)', () => {
    const withSpike = [...noisy.slice(0, 27), d('5000')];
    expect(judgeDaySpend(d('400'), withSpike, ONE).anomalous).toBe(true);
  });

  it('flags a jump over a perfectly flat baseline (MAD 0) only at twice the median', () => {
    const flat = Array.from({ length: 28 }, () => d('10'));
    expect(judgeDaySpend(d('15'), flat, ONE).anomalous).toBe(false);
    expect(judgeDaySpend(d('20'), flat, ONE).anomalous).toBe(true);
  });

  it('leaves new scopes and small amounts alone', () => {
    const young = Array.from({ length: 28 }, (_, i) => d(i >= 20 ? '1' : '0'));
    expect(judgeDaySpend(d('500'), young, ONE).reason).toMatch(/fewer than 14/);
    const cents = Array.from({ length: 28 }, () => d('0.01'));
    expect(judgeDaySpend(d('0.50'), cents, ONE)).toMatchObject({
      anomalous: false,
      reason: 'below the minimum amount',
    });
  });
});
