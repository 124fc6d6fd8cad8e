import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { SchedulerRegistry } from '@nestjs/schedule';
import { BUDGET_EVALUATION_JOB, BudgetEvaluator } from '@tokentally/budgets';
import { ChartLinks } from '@tokentally/reporting';
import { SecretsAtRest } from '@tokentally/webhooks';
import { randomBytes } from 'node:crypto';
import { EncryptSecretsAtRest1795795200000 } from '../../migrations/1795795200000-EncryptSecretsAtRest';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { WebhookReceiver } from '../fakes/webhook-receiver';

const ALLOW_PRIVATE = { WEBHOOK_ALLOW_PRIVATE: 'true' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const recent = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** Creates a webhook for the receiver and teaches the receiver its secret. */
async function subscribe(t: TestApp, receiver: WebhookReceiver, body: Record<string, unknown> = {}) {
  const res = await t.http.post('/v1/webhooks', { url: receiver.url, events: ['budget.threshold_reached'], ...body });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
  receiver.secrets = [res.body.secret];
  return res.body as { id: string; secret: string };
}

/** A month budget on one project that two default events push past 50% and 100% together. */
async function budgetCrossedByTwoEvents(
  t: TestApp,
  projectId: string,
  webhookIds: string[],
  extra: Record<string, unknown> = {},
) {
  const res = await t.http.post('/v1/budgets', {
    name: `Project budget ${projectId.slice(0, 6)}`,
    amount_usd: '0.20',
    period: 'month',
    scope: { project: projectId },
    thresholds_pct: [50, 100],
    forecast_alert: false,
    webhook_ids: webhookIds,
    ...extra,
  });
  if (res.status !== 201) throw new Error(`budget: ${res.status} ${res.text}`);
  return res.body as { id: string };
}

describe('budget alerts delivered as signed webhooks', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await startTestApp(ALLOW_PRIVATE);
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('sends 50% and 100%, crossed in one batch, as two signed alerts once each; a replay and later evaluations send nothing more', async () => {
    const webhook = await subscribe(t, receiver);
    const project = await projectWithIngestKey(t.http);
    const budget = await budgetCrossedByTwoEvents(t, project.projectId, [webhook.id]);
    const batch = { events: [usageEvent({ timestamp: recent(2) }), usageEvent({ timestamp: recent(1) })] };
    const ingested = await project.client.post('/v1/events', batch);
    expect(ingested.status).toBe(202);
    expect(Number(ingested.body.results[0].cost_usd) * 2).toBeGreaterThan(0.2); // the batch does cross 100%

    await eventually(async () => expect(receiver.received).toHaveLength(2), 10_000);
    const alerts = receiver.received.map((r) => r.json).sort((a, b) => a.data.threshold_pct - b.data.threshold_pct);
    expect(alerts.map((a) => [a.type, a.data.threshold_pct])).toEqual([
      ['budget.threshold_reached', 50],
      ['budget.threshold_reached', 100],
    ]);
    const spent = (Number(ingested.body.results[0].cost_usd) + Number(ingested.body.results[1].cost_usd)).toFixed(6);
    expect(alerts[1]).toMatchObject({
      version: 1,
      data: { budget_id: budget.id, amount_usd: '0.200000', spent_usd: spent, period: 'month', timezone: 'UTC' },
    });
    expect(alerts[1].data.dashboard_url).toMatch(new RegExp(`^${t.config.publicUrl}/\\?`));
    // The chart link opens without a key (Slack can show it), for exactly what was signed.
    const chartUrl = new URL(alerts[1].data.chart_url);
    expect(`${chartUrl.origin}${chartUrl.pathname}`).toBe(`${t.config.publicUrl}/v1/charts/shared/budgets.png`);
    expect(chartUrl.searchParams.get('budget_id')).toBe(budget.id);
    const png = await fetch(chartUrl.toString().replace(t.config.publicUrl, t.url));
    expect(png.status).toBe(200);
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    chartUrl.searchParams.set('budget_id', '00000000-0000-4000-8000-000000000000');
    expect((await fetch(chartUrl.toString().replace(t.config.publicUrl, t.url))).status).toBe(403);
    expect(
      (await fetch(`${t.url}/v1/charts/shared/spend.png?from=2026-01-01&expires=9999999999&sig=forged`)).status,
    ).toBe(403);
    // Every message was verified by the receiver with the standardwebhooks package.
    expect(receiver.rejected).toEqual([]);
    for (const r of receiver.received) {
      expect(r.verified).toEqual(r.json);
      expect(r.headers['webhook-id']).toMatch(/^msg_/);
    }

    // The same batch again: duplicates, no new alert.
    const replay = await project.client.post('/v1/events', batch);
    expect(replay.body.duplicates).toBe(2);
    // The minute job evaluating everything again fires nothing new either.
    expect(await t.app.get(BudgetEvaluator).evaluate('all')).toBe(0);
    await sleep(1500);
    expect(receiver.received).toHaveLength(2);

    const viewer = await viewerClient(t.http);
    const listed = await viewer.get(`/v1/alerts?budget_id=${budget.id}`);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
    expect(listed.body.data[0]).toMatchObject({
      type: 'budget.threshold_reached',
      deliveries: { delivered: 1, pending: 0, failed: 0 },
    });
    expect(listed.body.data.map((a: any) => a.summary).join(' ')).toContain('reached 100% of $0.2000');

    const deliveries = await t.http.get(`/v1/webhooks/${webhook.id}/deliveries`);
    expect(deliveries.body.data).toHaveLength(2);
    for (const d of deliveries.body.data) {
      expect(d).toMatchObject({ status: 'delivered', attempts: 1, event_type: 'budget.threshold_reached' });
      expect(d.attempt_log).toEqual([expect.objectContaining({ attempt: 1, status_code: 204, error: null })]);
    }
    const status = await viewer.get(`/v1/budgets/${budget.id}/status`);
    expect(status.body.thresholds_reached).toEqual([50, 100]);
  });

  it('delivers each alert exactly once to a receiver that was down and came back', async () => {
    const down = await new WebhookReceiver().start();
    const webhook = await subscribe(t, down);
    await down.stop();
    const project = await projectWithIngestKey(t.http);
    await budgetCrossedByTwoEvents(t, project.projectId, [webhook.id]);
    await project.client.post('/v1/events', {
      events: [usageEvent({ timestamp: recent(2) }), usageEvent({ timestamp: recent(1) })],
    });

    // Both first attempts fail and are scheduled again about 5 s later.
    const failed = await eventually(async () => {
      const res = await t.http.get(`/v1/webhooks/${webhook.id}/deliveries`);
      expect(res.body.data).toHaveLength(2);
      for (const d of res.body.data)
        expect(d).toMatchObject({ status: 'pending', attempts: 1, last_error: 'connection refused' });
      return res.body.data;
    }, 10_000);
    for (const d of failed) {
      const wait = Date.parse(d.next_attempt_at) - Date.parse(d.attempt_log[0].started_at);
      expect(wait).toBeGreaterThanOrEqual(4_000);
      expect(wait).toBeLessThan(8_000);
    }

    await down.start();
    await eventually(async () => expect(down.received).toHaveLength(2), 15_000);
    await sleep(1500);
    expect([...down.idCounts().values()]).toEqual([1, 1]);
    const res = await t.http.get(`/v1/webhooks/${webhook.id}/deliveries`);
    for (const d of res.body.data) expect(d).toMatchObject({ status: 'delivered', attempts: 2 });
    await down.stop();
  });

  it('gives a Slack-format endpoint a valid incoming-webhook body with the same facts in words', async () => {
    const slack = await new WebhookReceiver().start();
    const webhook = await subscribe(t, slack, { format: 'slack' });
    const project = await projectWithIngestKey(t.http);
    await budgetCrossedByTwoEvents(t, project.projectId, [webhook.id], {
      name: 'Marketing images',
      thresholds_pct: [100],
    });
    await project.client.post('/v1/events', {
      events: [usageEvent({ timestamp: recent(2) }), usageEvent({ timestamp: recent(1) })],
    });
    await eventually(async () => expect(slack.received).toHaveLength(1), 10_000);
    const body = slack.received[0].json;
    expect(typeof body.text).toBe('string');
    expect(body.text).toContain(
      'Budget "Marketing images" reached 100% of $0.2000 for the month: $0.2508 spent (125.4%)',
    );
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Budget threshold reached', emoji: true },
    });
    expect(body.blocks[1]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(body.blocks[2].elements[0].text).toContain(`<${t.config.publicUrl}/v1/charts/shared/budgets.png?`);
    for (const block of body.blocks) expect(['header', 'section', 'context']).toContain(block.type);
    await slack.stop();
  });

  it('fires budget.forecast_exceeded once when the linear forecast passes the amount', async () => {
    const hook = await new WebhookReceiver().start();
    const webhook = await subscribe(t, hook, { events: ['budget.forecast_exceeded'] });
    const project = await projectWithIngestKey(t.http);
    // A day budget in a zone where it is now between 10:00 and 14:00: about half the day has passed.
    const utcHour = new Date().getUTCHours();
    const offset = ((12 - utcHour + 36) % 24) - 12; // local = UTC + offset, around noon
    const tz = offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    const created = await project.client.post('/v1/events', { events: [usageEvent({ timestamp: recent(3) })] });
    const cost = Number(created.body.results[0].cost_usd);
    // Spent is 75% of the amount with ~half the day gone: the forecast is ~150%.
    const budget = await t.http.post('/v1/budgets', {
      name: 'Daily cap',
      amount_usd: (cost / 0.75).toFixed(6),
      period: 'day',
      timezone: tz,
      scope: { project: project.projectId },
      thresholds_pct: [100],
      forecast_alert: true,
      webhook_ids: [webhook.id],
    });
    expect(budget.status).toBe(201);
    expect(await t.app.get(BudgetEvaluator).evaluate('all')).toBeGreaterThanOrEqual(1);
    await eventually(async () => expect(hook.received).toHaveLength(1), 10_000);
    expect(hook.received[0].json).toMatchObject({
      type: 'budget.forecast_exceeded',
      data: { budget_id: budget.body.id, forecast_method: 'linear' },
    });
    expect(Number(hook.received[0].json.data.forecast_usd)).toBeGreaterThan(Number(budget.body.amount_usd));
    await t.app.get(BudgetEvaluator).evaluate('all');
    await sleep(1200);
    expect(hook.received).toHaveLength(1);
    await hook.stop();
  });

  it('registers the every-minute evaluation with @nestjs/schedule, and that job fires what is due', async () => {
    const job = t.app.get(SchedulerRegistry).getCronJob(BUDGET_EVALUATION_JOB);
    expect(job.cronTime.source).toBe('*/1 * * * *'); // CronExpression.EVERY_MINUTE
    const hook = await new WebhookReceiver().start();
    const webhook = await subscribe(t, hook);
    const project = await projectWithIngestKey(t.http);
    await project.client.post('/v1/events', { events: [usageEvent({ timestamp: recent(2) })] });
    await sleep(1500); // the quick pass after ingest has run: no budget yet
    // A budget created already past its threshold fires on the next evaluation: here, the minute job's method.
    await budgetCrossedByTwoEvents(t, project.projectId, [webhook.id], { thresholds_pct: [10] });
    await t.app.get(BudgetEvaluator).evaluateEveryMinute();
    await eventually(async () => expect(hook.received).toHaveLength(1), 10_000);
    expect(hook.received[0].json.data.threshold_pct).toBe(10);
    await hook.stop();
  });

  it('sends the pricing events of the pricing pull through the same outbox', async () => {
    const hook = await new WebhookReceiver().start();
    await subscribe(t, hook, { events: ['pricing.updated'] });
    const put = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'vercel',
      model: 'openai/gpt-image-2',
      prices: { input: '4.00', output: '24.00' },
    });
    expect(put.status).toBeLessThan(300);
    await eventually(async () => expect(hook.received.length).toBeGreaterThanOrEqual(1), 10_000);
    expect(hook.received[0].json).toMatchObject({
      type: 'pricing.updated',
      data: { provider: 'vercel', model: 'gpt-image-2', kind: 'override' },
    });
    await hook.stop();
  });

  it('rotates the secret: for a day both the new and the previous secret verify', async () => {
    const hook = await new WebhookReceiver().start();
    const webhook = await subscribe(t, hook);
    const rotated = await t.http.post(`/v1/webhooks/${webhook.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(webhook.secret);
    const test = await t.http.post(`/v1/webhooks/${webhook.id}/test`, {});
    expect(test.body).toMatchObject({ status: 'delivered', event_type: 'webhook.test' });
    const message = hook.received[0];
    expect(String(message.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [rotated.body.secret, webhook.secret])
      expect(new Webhook(secret).verify(message.body, message.headers as Record<string, string>)).toEqual(message.json);
    expect((await t.http.get(`/v1/webhooks/${webhook.id}`)).body.secret).toBeUndefined();
    await hook.stop();
  });

  it('treats 410 as "disable the endpoint", and a resend after enabling it again delivers', async () => {
    const hook = await new WebhookReceiver().start();
    const webhook = await subscribe(t, hook);
    hook.status = 410;
    const test = await t.http.post(`/v1/webhooks/${webhook.id}/test`, {});
    expect(test.body).toMatchObject({ status: 'failed', last_status_code: 410 });
    expect((await t.http.get(`/v1/webhooks/${webhook.id}`)).body).toMatchObject({
      enabled: false,
      disabled_reason: 'the endpoint answered 410 Gone',
    });
    const refused = await t.http.post(`/v1/webhook-deliveries/${test.body.id}/resend`, {});
    expect(refused.status).toBe(409);

    hook.status = 200;
    expect((await t.http.request('PATCH', `/v1/webhooks/${webhook.id}`, { enabled: true })).body.enabled).toBe(true);
    const resent = await t.http.post(`/v1/webhook-deliveries/${test.body.id}/resend`, {});
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(resent.body.attempt_log.map((a: any) => a.status_code)).toEqual([410, 200]);
    expect(hook.received).toHaveLength(1);
    await hook.stop();
  });

  it('names bad fields of a webhook', async () => {
    const res = await t.http.post('/v1/webhooks', {
      url: 'ftp://example.com/x',
      events: ['budget.exploded'],
      format: 'teams',
      extra: 1,
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.errors.map((e: any) => e.path).sort()).toEqual(['events[0]', 'extra', 'format', 'url']);
    const notFound = await t.http.get('/v1/webhooks/00000000-0000-4000-8000-000000000000/deliveries');
    expect(notFound.status).toBe(404);
    const viewer = await viewerClient(t.http);
    expect((await viewer.get('/v1/webhooks')).status).toBe(403);
  });
});

describe('webhook delivery survives restarts and endpoints that keep failing', () => {
  it('delivers after the service is stopped and started again between retries', async () => {
    const database = await createTestDatabase();
    const receiver = await new WebhookReceiver().start();
    const first = await startTestApp(ALLOW_PRIVATE, database);
    let second: TestApp | null = null;
    try {
      const webhook = await subscribe(first, receiver);
      await receiver.stop();
      const project = await projectWithIngestKey(first.http);
      await budgetCrossedByTwoEvents(first, project.projectId, [webhook.id], { thresholds_pct: [100] });
      await project.client.post('/v1/events', {
        events: [usageEvent({ timestamp: recent(2) }), usageEvent({ timestamp: recent(1) })],
      });
      await eventually(async () => {
        const res = await first.http.get(`/v1/webhooks/${webhook.id}/deliveries`);
        expect(res.body.data).toEqual([expect.objectContaining({ status: 'pending', attempts: 1 })]);
      }, 10_000);
      await first.close();

      await receiver.start();
      second = await startTestApp(ALLOW_PRIVATE, database);
      await eventually(async () => expect(receiver.received).toHaveLength(1), 20_000);
      await sleep(1500);
      expect(receiver.received).toHaveLength(1);
      const res = await second.http.get(`/v1/webhooks/${webhook.id}/deliveries`);
      expect(res.body.data[0]).toMatchObject({ status: 'delivered', attempts: 2 });
    } finally {
      await first.close();
      await second?.close();
      await database.drop();
      await receiver.stop();
    }
  });

  // Two processes on one embedded data folder are refused by design (one session); this runs on PostgreSQL.
  (process.env.DATABASE_URL ? it : it.skip)(
    'delivers each alert once with two app instances on one database',
    async () => {
      const database = await createTestDatabase();
      const receiver = await new WebhookReceiver().start();
      const a = await startTestApp(ALLOW_PRIVATE, database);
      const b = await startTestApp(ALLOW_PRIVATE, database);
      try {
        const webhook = await subscribe(a, receiver);
        const project = await projectWithIngestKey(a.http);
        // Twenty thresholds crossed at once: twenty alerts for two dispatchers to share.
        const thresholds = Array.from({ length: 20 }, (_, i) => (i + 1) * 5);
        await budgetCrossedByTwoEvents(a, project.projectId, [webhook.id], { thresholds_pct: thresholds });
        // Ingest through b; both instances evaluate everything at the same time too.
        await project.client.post('/v1/events', {
          events: [usageEvent({ timestamp: recent(2) }), usageEvent({ timestamp: recent(1) })],
        });
        const bClient = b.http.as(project.key);
        await bClient.post('/v1/events', { events: [usageEvent({ timestamp: recent(1) })] });
        const fired = await Promise.all([
          a.app.get(BudgetEvaluator).evaluate('all'),
          b.app.get(BudgetEvaluator).evaluate('all'),
        ]);
        expect(fired[0] + fired[1]).toBeLessThanOrEqual(20);

        await eventually(async () => expect(receiver.received).toHaveLength(20), 20_000);
        await sleep(2500);
        const counts = receiver.idCounts();
        expect(counts.size).toBe(20);
        expect([...counts.values()].every((n) => n === 1)).toBe(true);
        expect(receiver.received.map((r) => r.json.data.threshold_pct).sort((x, y) => x - y)).toEqual(thresholds);
        const [{ alerts }] = await a.app.get(DataSource).query(`SELECT count(*)::int AS alerts FROM alerts`);
        expect(alerts).toBe(20);
      } finally {
        await a.close();
        await b.close();
        await database.drop();
        await receiver.stop();
      }
    },
  );

  it('disables an endpoint after repeated failures across events', async () => {
    const t = await startTestApp({
      ...ALLOW_PRIVATE,
      WEBHOOK_DISABLE_AFTER_FAILURES: '3',
      WEBHOOK_DISABLE_AFTER_SECONDS: '0',
    });
    const receiver = await new WebhookReceiver().start();
    try {
      const webhook = await subscribe(t, receiver);
      receiver.status = 500;
      for (let i = 0; i < 2; i++)
        expect((await t.http.post(`/v1/webhooks/${webhook.id}/test`, {})).body).toMatchObject({
          status: 'pending',
          last_status_code: 500,
        });
      expect((await t.http.get(`/v1/webhooks/${webhook.id}`)).body).toMatchObject({
        enabled: true,
        consecutive_failures: 2,
      });
      await t.http.post(`/v1/webhooks/${webhook.id}/test`, {});
      const disabled = (await t.http.get(`/v1/webhooks/${webhook.id}`)).body;
      expect(disabled).toMatchObject({ enabled: false, consecutive_failures: 3 });
      expect(disabled.disabled_reason).toMatch(/^3 failed attempts in a row since /);
      // Nothing is dropped: the three deliveries wait, pending, for the endpoint to come back.
      const pending = await t.http.get(`/v1/webhooks/${webhook.id}/deliveries?status=pending`);
      expect(pending.body.data).toHaveLength(3);
    } finally {
      await t.close();
      await receiver.stop();
    }
  });
});

describe('SSRF guard', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await startTestApp(); // WEBHOOK_ALLOW_PRIVATE unset: the default
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it.each([
    ['http://127.0.0.1:9/hook', 'loopback'],
    ['http://localhost:9/hook', 'loopback'],
    ['http://[::1]:9/hook', 'loopback'],
    ['http://10.1.2.3/hook', 'private'],
    ['http://192.168.1.10/hook', 'private'],
    ['http://169.254.169.254/latest/meta-data', 'metadata'],
    ['http://[fe80::1]/hook', 'link-local'],
    ['http://[::ffff:127.0.0.1]/hook', 'loopback'],
    // Issue 11, item 11: accepted before the guard classified with ipaddr.js.
    ['http://[::127.0.0.1]/hook', 'loopback'],
    ['http://[2002:7f00:1::1]/hook', 'loopback'],
    ['http://[64:ff9b:1::7f00:1]/hook', 'loopback'],
    ['http://[::ffff:0:7f00:1]/hook', 'loopback'],
    ['http://[fec0::1]/hook', 'site-local'],
    ['http://192.0.2.1/hook', 'documentation'],
    ['http://198.51.100.1/hook', 'documentation'],
    ['http://203.0.113.1/hook', 'documentation'],
    ['http://[2001:db8::1]/hook', 'documentation'],
  ])('refuses %s at creation (%s)', async (url, kind) => {
    const res = await t.http.post('/v1/webhooks', { url, events: ['budget.threshold_reached'] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'url', message: expect.stringContaining(kind) }]);
  });

  it('refuses again at delivery, when an endpoint points at a private address after it was created', async () => {
    // As if DNS had changed since creation: the row points at the loopback receiver.
    const db = t.app.get(DataSource);
    const [webhook] = await db.query(
      `INSERT INTO webhooks (url, events, secret) VALUES ($1, '{budget.threshold_reached}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') RETURNING id`,
      [receiver.url],
    );
    const test = await t.http.post(`/v1/webhooks/${webhook.id}/test`, {});
    expect(test.body).toMatchObject({ status: 'pending', last_error: 'refused: 127.0.0.1 is a loopback address' });
    expect(receiver.received).toHaveLength(0);
  });
});

describe('redirects stay within the endpoint origin', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(ALLOW_PRIVATE);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('fails the delivery with a clear error when the receiver redirects to another origin, and sends nothing there', async () => {
    const endpoint = await new WebhookReceiver().start();
    const elsewhere = await new WebhookReceiver().start(); // another port: another origin
    try {
      const webhook = await subscribe(t, endpoint);
      elsewhere.secrets = endpoint.secrets;
      endpoint.status = 307;
      endpoint.answerHeaders = { location: elsewhere.url };
      const test = await t.http.post(`/v1/webhooks/${webhook.id}/test`, {});
      expect(test.body).toMatchObject({ status: 'pending', last_status_code: 307 });
      expect(test.body.last_error).toBe(
        `HTTP 307 redirect to another origin (${new URL(elsewhere.url).origin}) not followed: only redirects within ${new URL(endpoint.url).origin} are; register the final URL`,
      );
      expect(elsewhere.received).toHaveLength(0);
      expect(elsewhere.rejected).toHaveLength(0);
    } finally {
      await endpoint.stop();
      await elsewhere.stop();
    }
  });
});

describe('secrets at rest', () => {
  const SECRETS_KEY = randomBytes(32).toString('base64');

  it('stores the webhook secret encrypted, not as the secret, and deliveries still verify; rotation signs with both', async () => {
    const t = await startTestApp({ ...ALLOW_PRIVATE, SECRETS_KEY });
    const receiver = await new WebhookReceiver().start();
    try {
      const db = t.app.get(DataSource);
      const webhook = await subscribe(t, receiver);
      const [row] = await db.query(`SELECT secret FROM webhooks WHERE id = $1`, [webhook.id]);
      expect(row.secret).toMatch(/^tt1:/);
      expect(row.secret).not.toContain('whsec_');
      expect(row.secret).not.toContain(webhook.secret.slice('whsec_'.length));
      expect(Buffer.from(row.secret.slice(4), 'base64url').toString('latin1')).not.toContain(
        webhook.secret.slice('whsec_'.length, 20),
      );
      // The data key is sealed with SECRETS_KEY: the tables alone do not open the secrets.
      const [dataKey] = await db.query(`SELECT value FROM server_secrets WHERE name = 'secrets_data_key'`);
      expect(dataKey.value).toMatch(/^sealed:tt1:/);

      expect((await t.http.post(`/v1/webhooks/${webhook.id}/test`, {})).body).toMatchObject({ status: 'delivered' });
      expect(receiver.received).toHaveLength(1);
      expect(receiver.rejected).toHaveLength(0);

      const rotated = await t.http.post(`/v1/webhooks/${webhook.id}/rotate-secret`, {});
      const [both] = await db.query(`SELECT secret, previous_secret FROM webhooks WHERE id = $1`, [webhook.id]);
      expect(
        [both.secret, both.previous_secret].every((v: string) => v.startsWith('tt1:') && !v.includes('whsec_')),
      ).toBe(true);
      receiver.secrets = [];
      await t.http.post(`/v1/webhooks/${webhook.id}/test`, {});
      const message = receiver.received[1];
      expect(String(message.headers['webhook-signature']).split(' ')).toHaveLength(2);
      for (const secret of [rotated.body.secret, webhook.secret])
        expect(new Webhook(secret).verify(message.body, message.headers as Record<string, string>)).toEqual(
          message.json,
        );

      // Chart links: their signing key is sealed too, and links still verify.
      const links = t.app.get(ChartLinks);
      const link = new URL(await links.url('budgets.png', { budget_id: 'b1' }));
      expect(await links.verify('budgets.png', Object.fromEntries(link.searchParams))).toEqual({ budget_id: 'b1' });
      const [chart] = await db.query(`SELECT value FROM server_secrets WHERE name = 'chart_links'`);
      expect(chart.value).toMatch(/^tt1:/);
    } finally {
      await t.close();
      await receiver.stop();
    }
  });

  it('the migration encrypts clear secrets (current, previous, chart-link key) in place, once, and the app still signs with them', async () => {
    const t = await startTestApp(ALLOW_PRIVATE);
    const receiver = await new WebhookReceiver().start();
    try {
      const db = t.app.get(DataSource);
      // As an earlier version stored them: in clear.
      const current = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      const previous = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
      const chartKey = randomBytes(32).toString('base64');
      const [webhook] = await db.query(
        `INSERT INTO webhooks (url, events, secret, previous_secret, previous_secret_until) VALUES ($1, '{budget.threshold_reached}', $2, $3, now() + interval '1 day') RETURNING id`,
        [receiver.url, current, previous],
      );
      await db.query(
        `INSERT INTO server_secrets (name, value) VALUES ('chart_links', $1) ON CONFLICT (name) DO UPDATE SET value = $1`,
        [chartKey],
      );

      const runner = db.createQueryRunner();
      try {
        await new EncryptSecretsAtRest1795795200000().up(runner);
        const [row] = await runner.query(`SELECT secret, previous_secret FROM webhooks WHERE id = $1`, [webhook.id]);
        const [chart] = await runner.query(`SELECT value FROM server_secrets WHERE name = 'chart_links'`);
        for (const value of [row.secret, row.previous_secret, chart.value])
          expect(value).toMatch(/^tt1:[A-Za-z0-9_-]+$/);
        await new EncryptSecretsAtRest1795795200000().up(runner); // idempotent: nothing changes
        expect(await runner.query(`SELECT secret, previous_secret FROM webhooks WHERE id = $1`, [webhook.id])).toEqual([
          row,
        ]);
        expect(await runner.query(`SELECT value FROM server_secrets WHERE name = 'chart_links'`)).toEqual([chart]);
      } finally {
        await runner.release();
      }

      receiver.secrets = [];
      expect((await t.http.post(`/v1/webhooks/${webhook.id}/test`, {})).body).toMatchObject({ status: 'delivered' });
      const message = receiver.received[0];
      for (const secret of [current, previous])
        expect(new Webhook(secret).verify(message.body, message.headers as Record<string, string>)).toEqual(
          message.json,
        );
    } finally {
      await t.close();
      await receiver.stop();
    }
  });

  it('a restart with the same SECRETS_KEY reads the secrets; a wrong or missing SECRETS_KEY stops the start with a clear error', async () => {
    const database = await createTestDatabase();
    const receiver = await new WebhookReceiver().start();
    const first = await startTestApp({ ...ALLOW_PRIVATE, SECRETS_KEY }, database);
    let second: TestApp | null = null;
    try {
      const webhook = await subscribe(first, receiver);
      await first.close();
      second = await startTestApp({ ...ALLOW_PRIVATE, SECRETS_KEY }, database);
      expect((await second.http.post(`/v1/webhooks/${webhook.id}/test`, {})).body).toMatchObject({
        status: 'delivered',
      });

      // What start-up runs (SecretsAtRest.onModuleInit), with another key and without one.
      const db = second.app.get(DataSource);
      const wrong = new SecretsAtRest(db, { ...second.config, secretsKey: randomBytes(32).toString('hex') });
      await expect(wrong.onModuleInit()).rejects.toThrow(
        /^SECRETS_KEY does not open the secrets of this database: it is not the key this database was started with/,
      );
      const missing = new SecretsAtRest(db, { ...second.config, secretsKey: undefined });
      await expect(missing.onModuleInit()).rejects.toThrow(
        /SECRETS_KEY is not set: set it to the key this database was started with/,
      );
    } finally {
      await first.close();
      await second?.close();
      await database.drop();
      await receiver.stop();
    }
  });
});
