import { BudgetEvaluator } from '@tokentally/budgets';
import { startTestApp, TestApp } from '../support/app';
import { eventually } from '../support/eventually';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { WebhookReceiver } from '../fakes/webhook-receiver';

const DAY = 86_400_000;

describe('spend.anomaly', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true', ANOMALY_MIN_USD: '1.00' });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('fires once per project and model when a day spends far above its 28-day median', async () => {
    const hook = await t.http.post('/v1/webhooks', { url: receiver.url, events: ['spend.anomaly'] });
    receiver.secrets = [hook.body.secret];
    const project = await projectWithIngestKey(t.http, 'Image studio');
    const todayStart = Math.floor(Date.now() / DAY) * DAY;
    // Baseline: one call at noon on each of the 28 days before today (its cost every day).
    const baseline = Array.from({ length: 28 }, (_, i) =>
      usageEvent({ timestamp: new Date(todayStart - (28 - i) * DAY + DAY / 2).toISOString() }),
    );
    const first = await project.client.post('/v1/events', { events: baseline });
    expect(first.body.accepted).toBe(28);
    const perCall = Number(first.body.results[0].cost_usd);
    expect(await t.app.get(BudgetEvaluator).evaluate('all')).toBe(0);

    // Today: enough calls to pass both twice the median and the 1.00 minimum.
    const calls = Math.ceil(1.2 / perCall);
    const today = Array.from({ length: calls }, (_, i) =>
      usageEvent({ timestamp: new Date(Math.max(todayStart, Date.now() - (i + 1) * 1000)).toISOString() }),
    );
    expect((await project.client.post('/v1/events', { events: today })).body.accepted).toBe(calls);
    // The anomaly rule runs in the every-minute pass; run that pass now rather than wait for the clock.
    expect(await t.app.get(BudgetEvaluator).evaluate('all')).toBe(2);

    await eventually(async () => expect(receiver.received).toHaveLength(2), 10_000);
    const byDimension = Object.fromEntries(receiver.received.map((r) => [r.json.data.dimension, r.json]));
    expect(byDimension.project).toMatchObject({
      type: 'spend.anomaly',
      data: {
        key: project.projectId,
        label: 'Image studio',
        day: new Date(todayStart).toISOString().slice(0, 10),
        median_usd: first.body.results[0].cost_usd,
      },
    });
    expect(byDimension.model.data).toMatchObject({ key: 'gpt-image-2' });
    const chart = await fetch(byDimension.project.data.chart_url.replace(t.config.publicUrl, t.url));
    expect([chart.status, chart.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(Number(byDimension.project.data.spent_usd)).toBeCloseTo(perCall * calls, 6);

    // More spend the same day: no second alert for the same project, model and day.
    await project.client.post('/v1/events', {
      events: [usageEvent({ timestamp: new Date(Math.max(todayStart, Date.now() - 500)).toISOString() })],
    });
    expect(await t.app.get(BudgetEvaluator).evaluate('all')).toBe(0);
    const viewer = await viewerClient(t.http);
    const alerts = await viewer.get('/v1/alerts?type=spend.anomaly');
    expect(alerts.body.data).toHaveLength(2);
    expect(alerts.body.data[0].summary).toMatch(/far above its usual \$0\.\d+ a day/);
  });
});
