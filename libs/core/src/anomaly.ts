import { Decimal } from './decimal';

/** How many scaled MADs above the median a day must be (1.4826 * MAD estimates a standard deviation). */
export const ANOMALY_MADS = 5;
const MAD_TO_SIGMA = Decimal.parse('1.4826');
/** Days of the 28-day baseline that must have spend before a scope is judged at all. */
export const ANOMALY_MIN_ACTIVE_DAYS = 14;

export interface AnomalyVerdict {
  anomalous: boolean;
  median: Decimal;
  mad: Decimal;
  /** Spend above which the day counts as anomalous. */
  threshold: Decimal;
  reason: string;
}

export function median(values: Decimal[]): Decimal {
  if (values.length === 0) return Decimal.ZERO;
  const sorted = [...values].sort((a, b) => a.compare(b));
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]
    : sorted[middle - 1].add(sorted[middle]).divide(Decimal.parse('2'), 9);
}

/**
 * Is a day's spend far above its trailing baseline? The baseline is the
 * spend of each of the 28 days before (days without spend count as zero).
 * Robust statistics, so one earlier spike does not hide the next:
 *
 *   anomalous = day > median + 5 * 1.4826 * MAD   (MAD: median absolute deviation)
 *           and day >= 2 * median                 (a flat baseline has MAD 0)
 *           and day >= minimum                    (cents are never news)
 *
 * and only where the baseline has spend on at least 14 of its 28 days, so a
 * new project's first busy day is not an anomaly.
 */
export function judgeDaySpend(day: Decimal, baseline: Decimal[], minimum: Decimal): AnomalyVerdict {
  const med = median(baseline);
  const mad = median(baseline.map((value) => value.subtract(med).abs()));
  const threshold = med.add(mad.multiply(MAD_TO_SIGMA).times(ANOMALY_MADS));
  const verdict = (anomalous: boolean, reason: string): AnomalyVerdict => ({
    anomalous,
    median: med,
    mad,
    threshold,
    reason,
  });
  const active = baseline.filter((value) => !value.isZero()).length;
  if (active < ANOMALY_MIN_ACTIVE_DAYS)
    return verdict(false, `baseline has spend on ${active} days, fewer than ${ANOMALY_MIN_ACTIVE_DAYS}`);
  if (day.compare(minimum) < 0) return verdict(false, 'below the minimum amount');
  if (day.compare(threshold) <= 0) return verdict(false, 'within median + 5 scaled MAD');
  if (day.compare(med.times(2)) < 0) return verdict(false, 'less than twice the median');
  return verdict(true, 'above median + 5 scaled MAD and at least twice the median');
}
