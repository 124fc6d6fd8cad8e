import { BudgetEvaluator } from '@tokentally/budgets';
import { Decimal, displayUsd } from '@tokentally/core';
import { DemoSeedResult, seedDemo } from '../../apps/api/src/demo-seed';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/app';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';

/**
 * `npm run demo` (apps/api/src/demo.ts) seeds through demo-seed.ts: here the
 * same seeding runs against a test app, with fewer calls a day, and every
 * panel of the dashboard must have something to show.
 */
describe('the demo data', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let seeded: DemoSeedResult;

  beforeAll(async () => {
    // The demo's webhook is on 127.0.0.1:9, where nobody listens; the demo lifts the private-address guard the same
    // way.
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    seeded = await seedDemo({ baseUrl: t.url, adminKey: TEST_ADMIN_KEY, callsPerDay: 40 });
    viewer = t.http.as(seeded.viewerKey);
  }, 180_000);
  afterAll(() => t?.close());

  it('spans last month and this month, both providers, failed, unpriced and partly priced calls', async () => {
    expect(seeded.events.rejected).toBe(0);
    expect(seeded.events.accepted).toBe(seeded.events.sent);
    const now = new Date();
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const byMonth = await viewer.get(
      `/v1/reports/spend?from=${seeded.from.toISOString()}&to=${now.toISOString()}&granularity=month&group_by=provider`,
    );
    expect(byMonth.status).toBe(200);
    expect(byMonth.body.buckets.map(Date.parse)).toEqual([seeded.from.getTime(), monthStart]);
    const providers = Object.fromEntries(byMonth.body.series.map((s: any) => [s.key, s]));
    for (const provider of ['openai', 'vercel']) {
      for (const value of providers[provider].values) expect(Decimal.parse(value).compare(Decimal.ZERO)).toBe(1);
    }
    // The gateway without prices: its calls are counted apart, never as $0.
    expect(providers['acme-gateway'].unpriced_events).toBeGreaterThan(0);
    expect(byMonth.body.unpriced_events).toBeGreaterThan(0);
    expect(byMonth.body.partial_events).toBeGreaterThan(0);

    const events = await viewer.get(
      `/v1/events?from=${seeded.from.toISOString()}&to=${now.toISOString()}&status=error&limit=5`,
    );
    expect(events.status).toBe(200);
    expect(events.body.data.length).toBeGreaterThan(0);
    const tiers = await viewer.get(
      `/v1/reports/spend?from=${seeded.from.toISOString()}&to=${now.toISOString()}&granularity=month&group_by=tag:customer_tier`,
    );
    expect(tiers.body.series.map((s: any) => s.key).sort()).toEqual(['enterprise', 'free', 'pro']);
    const teams = await viewer.get(
      `/v1/reports/spend?from=${seeded.from.toISOString()}&to=${now.toISOString()}&granularity=month&group_by=team`,
    );
    expect(teams.body.series.length).toBeGreaterThanOrEqual(4);
  });

  it('makes two budgets with their thresholds: one past its amount, one forecast to pass it', async () => {
    const list = await viewer.get('/v1/budgets?with_status=1');
    expect(list.body.data).toHaveLength(2);
    const byId = Object.fromEntries(list.body.data.map((b: any) => [b.id, b]));
    const crossed = byId[seeded.budgets.crossed.id];
    expect(crossed.thresholds_pct).toEqual([50, 80, 100]);
    expect(crossed.status.thresholds_reached).toEqual([50, 80, 100]);
    const forecast = byId[seeded.budgets.forecast.id];
    const [spent, amount, expected] = [
      forecast.status.spent_usd,
      forecast.amount_usd,
      forecast.status.forecast_usd,
    ].map(Decimal.parse);
    expect([spent.compare(amount), expected.compare(amount)]).toEqual([-1, 1]);
  });

  it('fires threshold, forecast and anomaly alerts, written by the one money rule', async () => {
    // The forecast and anomaly rules run in the every-minute pass; the demo runs that pass at once, as here.
    await t.app.get(BudgetEvaluator).evaluate('all');
    const alerts = await eventually(async () => {
      const answer = (await viewer.get('/v1/alerts?limit=200')).body.data as any[];
      const thresholds = answer.filter(
        (a) => a.type === 'budget.threshold_reached' && a.budget_id === seeded.budgets.crossed.id,
      );
      expect(thresholds.map((a) => a.data.threshold_pct).sort((a, b) => a - b)).toEqual([50, 80, 100]);
      expect(
        answer.filter((a) => a.type === 'budget.forecast_exceeded' && a.budget_id === seeded.budgets.forecast.id),
      ).toHaveLength(1);
      expect(
        answer.filter((a) => a.type === 'spend.anomaly' && a.data.dimension === 'project').map((a) => a.data.key),
      ).toEqual([seeded.spikeProject.id]);
      return answer;
    }, 15_000);
    for (const alert of alerts) {
      const amounts = alert.summary.match(/-?\$[\d,]+\.\d+/g) ?? [];
      expect(amounts.length).toBeGreaterThan(0);
      // Every amount is shown as displayUsd shows it: cents from $1, 4 significant digits below.
      for (const shown of amounts) expect(displayUsd(shown.replace(/[$,]/g, ''))).toBe(shown);
    }
    // The payload keeps the exact figures.
    const threshold = alerts.find((a) => a.type === 'budget.threshold_reached');
    expect(threshold.data.spent_usd).toMatch(/^\d+\.\d{6,}$/);
    expect(threshold.summary).toContain(displayUsd(threshold.data.spent_usd));
  });

  it('has a webhook whose deliveries fail and are retried', async () => {
    await eventually(async () => {
      const deliveries = await t.http.get(`/v1/webhooks/${seeded.webhook.id}/deliveries?limit=100`);
      expect(deliveries.status).toBe(200);
      const failing = deliveries.body.data.filter((d: any) => d.attempts > 0 && d.last_error);
      expect(failing.length).toBeGreaterThan(0);
      expect(failing[0].attempt_log[0].error).toBeTruthy();
      // The webhook's first failed deliveries may be of other events (model.unpriced): wait for an alert's.
      const alerts = (await viewer.get('/v1/alerts?limit=200')).body.data as any[];
      expect(alerts.some((a) => a.deliveries.retrying > 0)).toBe(true);
    }, 20_000);
    expect((await t.http.get(`/v1/webhooks/${seeded.webhook.id}`)).body.consecutive_failures).toBeGreaterThan(0);
  });

  it('can run again: nothing is stored twice, the same two budgets and one webhook', async () => {
    const again = await seedDemo({ baseUrl: t.url, adminKey: TEST_ADMIN_KEY, callsPerDay: 40 });
    expect(again.events.duplicates).toBeGreaterThan(seeded.events.accepted * 0.95);
    expect([again.budgets.crossed.id, again.budgets.forecast.id]).toEqual([
      seeded.budgets.crossed.id,
      seeded.budgets.forecast.id,
    ]);
    expect(again.webhook.id).toBe(seeded.webhook.id);
    expect((await t.http.get('/v1/budgets')).body.data).toHaveLength(2);
    expect((await t.http.get('/v1/webhooks')).body.data).toHaveLength(1);
  });
});
