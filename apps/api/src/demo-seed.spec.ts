import {
  billableCall,
  computeCost,
  Decimal,
  EMPTY_USAGE,
  judgeDaySpend,
  periodBounds,
  PriceSheet,
} from '@tokentally/core';
import { demoBudgetPeriod, demoEvents, DEMO_PROJECTS, firstDayOfLastMonth } from './demo-seed';

const DAY = 86_400_000;
/** The built-in catalog's rates (libs/pricing/src/catalog/builtin-prices.json). */
const SHEETS: Record<string, PriceSheet> = {
  'openai/gpt-image-2': {
    input_text: '5.00',
    cached_input_text: '1.25',
    input_image: '8.00',
    cached_input_image: '2.00',
    output_image: '30.00',
    output_text: '10.00',
  },
  'vercel/gpt-image-2': { input: '5.00', output: '30.00' },
  'openai/gpt-image-1': {
    input_text: '5.00',
    cached_input_text: '1.25',
    input_image: '10.00',
    cached_input_image: '2.50',
    output_image: '40.00',
  },
  'openai/gpt-image-1-mini': {
    input_text: '2.00',
    cached_input_text: '0.20',
    input_image: '2.50',
    cached_input_image: '0.25',
    output_image: '8.00',
  },
};

function costOf(event: Record<string, any>): Decimal {
  const sheet = SHEETS[`${event.provider}/${event.model}`];
  if (!sheet) return Decimal.ZERO;
  const u = event.usage;
  const usage = {
    ...EMPTY_USAGE,
    input_text: u.input_text_tokens,
    input_image: u.input_image_tokens,
    output_image: u.output_image_tokens,
    output_text: u.output_text_tokens,
  };
  const result = computeCost(
    billableCall({
      usage,
      images: event.images,
      imageSize: event.image_size,
      imageQuality: event.image_quality,
      succeeded: event.status === 'ok',
    }),
    sheet,
  );
  return result.pricing === 'unpriced' ? Decimal.ZERO : result.cost;
}

/** Spend of each UTC day, by key. */
function dailySpend(
  events: Array<Record<string, any>>,
  keyOf: (e: Record<string, any>) => string,
): Map<string, Map<number, Decimal>> {
  const spend = new Map<string, Map<number, Decimal>>();
  for (const e of events) {
    const key = keyOf(e);
    const day = Math.floor(Date.parse(e.timestamp) / DAY) * DAY;
    const days = spend.get(key) ?? spend.set(key, new Map()).get(key)!;
    days.set(day, (days.get(day) ?? Decimal.ZERO).add(costOf(e)));
  }
  return spend;
}

describe('demo data', () => {
  // Early, midday and late in a UTC day, on the first and last days of a month and across a DST change.
  const moments = [
    '2026-03-01T00:03:00Z',
    '2026-03-01T13:00:00Z',
    '2026-03-29T01:30:00Z',
    '2026-11-29T12:50:00Z',
    '2026-12-31T23:58:00Z',
    '2027-01-04T06:00:00Z',
  ].map((t) => new Date(t));

  it.each(moments.map((m) => [m.toISOString(), m]))(
    'at %s, the spike project, and only it, is an anomaly by the rule of libs/core',
    (_, now) => {
      for (const callsPerDay of [40, 260]) {
        const from = firstDayOfLastMonth(now);
        const events: Array<Record<string, any>> = DEMO_PROJECTS.flatMap((_, p) =>
          demoEvents(p, from, now, callsPerDay).map((e) => ({ ...e, project: DEMO_PROJECTS[p] })),
        );
        for (const e of events) expect(Date.parse(e.timestamp)).toBeLessThanOrEqual(now.getTime());
        const today = Math.floor(now.getTime() / DAY) * DAY;
        const byProject = dailySpend(events, (e) => e.project);
        const verdicts = DEMO_PROJECTS.map((project) => {
          const days = byProject.get(project)!;
          const baseline = Array.from({ length: 28 }, (_, i) => days.get(today - (28 - i) * DAY) ?? Decimal.ZERO);
          return judgeDaySpend(days.get(today) ?? Decimal.ZERO, baseline, Decimal.parse('5.00')).anomalous;
        });
        expect({ callsPerDay, verdicts }).toEqual({ callsPerDay, verdicts: [false, false, true] });
        // Both months have data.
        expect(events.some((e) => Date.parse(e.timestamp) < Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))).toBe(
          true,
        );
      }
    },
  );

  it('has failed, unpriced and partly priced calls, both providers and three customer tiers', () => {
    const now = new Date('2026-11-29T12:50:00Z');
    const events = DEMO_PROJECTS.flatMap((_, p) => demoEvents(p, firstDayOfLastMonth(now), now, 260)) as Array<
      Record<string, any>
    >;
    expect(new Set(events.map((e) => e.provider))).toEqual(new Set(['openai', 'vercel', 'acme-gateway']));
    expect(events.filter((e) => e.status === 'error').length).toBeGreaterThan(10);
    expect(events.filter((e) => e.model === 'gpt-image-1' && e.usage.output_text_tokens > 0).length).toBeGreaterThan(3);
    expect(new Set(events.map((e) => e.tags.customer_tier))).toEqual(new Set(['free', 'pro', 'enterprise']));
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  });

  it('puts the budgets in a period 10% to 95% gone, whatever the time (the forecast alert waits for 5%)', () => {
    for (let t = Date.parse('2026-02-26T00:00:00Z'); t < Date.parse('2026-04-03T00:00:00Z'); t += 20 * 60_000) {
      const now = new Date(t);
      const { period, timezone } = demoBudgetPeriod(now);
      const { start, end } = periodBounds(period, timezone, now);
      const gone = (t - start.getTime()) / (end.getTime() - start.getTime());
      expect({ now, gone: gone >= 0.1 && gone <= 0.95 }).toEqual({ now, gone: true });
    }
    expect(demoBudgetPeriod(new Date('2026-11-15T12:00:00Z'))).toEqual({ period: 'month', timezone: 'UTC' });
  });
});
