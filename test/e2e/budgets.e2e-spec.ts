import { BudgetsService } from '@tokentally/budgets';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

describe('budgets and their status', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let projectId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const project = await projectWithIngestKey(t.http);
    projectId = project.projectId;
    viewer = await viewerClient(t.http);
    const usage = { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 };
    const recent = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    await project.client.post('/v1/events', {
      events: [
        usageEvent({ timestamp: recent(2), usage, dimensions: { team: 'growth' } }),
        usageEvent({ timestamp: recent(3), usage, provider: 'vercel', dimensions: { team: 'growth' } }),
        usageEvent({ timestamp: recent(4), usage, dimensions: { team: 'core' } }),
      ],
    });
  });
  afterAll(() => t?.close());

  it('creates a budget and reports spent, remaining and percent of its scope in the current period', async () => {
    const created = await t.http.post('/v1/budgets', {
      name: 'Growth monthly',
      amount_usd: '1.00',
      period: 'month',
      scope: { project: projectId, team: 'growth' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Growth monthly',
      amount_usd: '1.000000',
      period: 'month',
      timezone: 'UTC',
      thresholds_pct: [50, 80, 100],
    });
    const status = await viewer.get(`/v1/budgets/${created.body.id}/status`);
    expect(status.status).toBe(200);
    // 0.13572 (openai) + 0.13185 (vercel) in team growth
    expect(status.body).toMatchObject({
      spent_usd: '0.267570',
      remaining_usd: '0.732430',
      percent: '26.8',
      thresholds_reached: [],
    });
    expect(Date.parse(status.body.period_end)).toBeGreaterThan(Date.now());
    const list = await viewer.get('/v1/budgets?with_status=1');
    const listed = list.body.data.find((b: any) => b.id === created.body.id);
    expect(listed.status.spent_usd).toBe('0.267570');
    // What the dashboard's budget bars need to draw their threshold ticks.
    expect(listed).toMatchObject({
      thresholds_pct: [50, 80, 100],
      status: { percent: '26.8', forecast_percent: expect.any(String), thresholds_reached: [] },
    });
  });

  it('measures many budgets in one query the same as one by one (the quick pass after ingest)', async () => {
    const scopes = [
      {},
      { project: projectId },
      { team: 'growth' },
      { provider: 'vercel', model: 'gpt-image-2' },
      { tags: { campaign: 'black-friday' } },
      { user: 'u_42', project: projectId },
      { team: 'nobody' },
    ];
    const ids: string[] = [];
    for (const [i, scope] of scopes.entries()) {
      const created = await t.http.post('/v1/budgets', {
        name: `Scope ${i}`,
        amount_usd: '10.00',
        period: i % 2 ? 'week' : 'month',
        timezone: i % 3 ? 'America/New_York' : 'UTC',
        scope,
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const budgets = t.app.get(BudgetsService);
    const rows = (await budgets.rows()).filter((row) => ids.includes(row.id));
    const now = new Date();
    const many = await budgets.measureMany(rows, now);
    for (const row of rows)
      expect([row.scope, many.get(row.id)!.view.spent_usd]).toEqual([
        row.scope,
        (await budgets.measure(row, now)).view.spent_usd,
      ]);
    expect(many.get(ids[2])!.view.spent_usd).toBe('0.267570');
    expect(many.get(ids[6])!.view.spent_usd).toBe('0.000000');
  });

  it('updates only the fields a PATCH names', async () => {
    const created = await t.http.post('/v1/budgets', {
      name: 'To change',
      amount_usd: '1.00',
      period: 'month',
      scope: { team: 'growth' },
      thresholds_pct: [90],
    });
    const patched = await t.http.request('PATCH', `/v1/budgets/${created.body.id}`, {
      amount_usd: '0.50',
      thresholds_pct: [80, 50, 80],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'To change',
      amount_usd: '0.500000',
      period: 'month',
      timezone: 'UTC',
      scope: { team: 'growth' },
      thresholds_pct: [50, 80],
      forecast_alert: true,
    });
    expect((await viewer.get(`/v1/budgets/${created.body.id}/status`)).body).toMatchObject({
      spent_usd: '0.267570',
      percent: '53.5',
      thresholds_reached: [50],
    });
    const bad = await t.http.request('PATCH', `/v1/budgets/${created.body.id}`, {
      amount_usd: '0',
      period: 'year',
      colour: 'red',
    });
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(['amount_usd', 'colour', 'period']);
    expect((await viewer.request('PATCH', `/v1/budgets/${created.body.id}`, { name: 'no' })).status).toBe(403);
    expect(
      (await t.http.request('PATCH', '/v1/budgets/00000000-0000-4000-8000-000000000000', { name: 'x' })).status,
    ).toBe(404);
  });

  it('lists the thresholds already reached', async () => {
    const created = await t.http.post('/v1/budgets', {
      name: 'Tiny',
      amount_usd: '0.30',
      period: 'day',
      scope: { project: projectId },
      thresholds_pct: [100, 50, 80, 150],
    });
    const status = await viewer.get(`/v1/budgets/${created.body.id}/status`);
    // 0.40329 of 0.30
    expect(status.body).toMatchObject({ spent_usd: '0.403290', percent: '134.4', thresholds_reached: [50, 80, 100] });
  });

  it('refuses a budget on a project that does not exist (it would never spend), naming scope.project, on create and on edit', async () => {
    const nobody = '00000000-0000-4000-8000-000000000000';
    const made = await t.http.post('/v1/budgets', {
      name: 'Ghost',
      amount_usd: '1.00',
      period: 'month',
      scope: { project: nobody },
    });
    expect([made.status, made.body.errors]).toEqual([
      400,
      [{ path: 'scope.project', message: `is not a known project (${nobody})` }],
    ]);
    const real = await t.http.post('/v1/budgets', {
      name: 'Real',
      amount_usd: '1.00',
      period: 'month',
      scope: { project: projectId },
    });
    expect(real.status).toBe(201);
    const edited = await t.http.request('PATCH', `/v1/budgets/${real.body.id}`, { scope: { project: nobody } });
    expect([edited.status, edited.body.errors?.[0]?.path]).toEqual([400, 'scope.project']);
    expect((await t.http.delete(`/v1/budgets/${real.body.id}`)).status).toBe(204);
  });

  it('names bad fields and keeps writes to admins', async () => {
    const bad = await t.http.post('/v1/budgets', {
      name: 'x',
      amount_usd: '-5',
      period: 'year',
      timezone: 'Mars/Base',
      scope: { colour: 'red' },
      thresholds_pct: [0, 2000],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual([
      'amount_usd',
      'period',
      'scope.colour',
      'thresholds_pct[0]',
      'thresholds_pct[1]',
      'timezone',
    ]);
    const combo = await t.http.post('/v1/budgets', {
      name: 'x',
      amount_usd: '5',
      period: 'day',
      scope: { user: 'u_1', team: 'growth' },
    });
    expect(combo.body.errors).toEqual([
      {
        path: 'scope.team',
        message: 'cannot be combined with user (a user budget can add provider, model and project)',
      },
    ]);
    const ghost = await t.http.post('/v1/budgets', {
      name: 'x',
      amount_usd: '5',
      period: 'day',
      webhook_ids: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(ghost.status).toBe(400);
    expect(ghost.body.errors).toEqual([
      { path: 'webhook_ids[0]', message: 'is not a webhook (00000000-0000-4000-8000-000000000000)' },
    ]);
    expect((await viewer.post('/v1/budgets', { name: 'x', amount_usd: '5', period: 'day' })).status).toBe(403);
    expect((await viewer.get('/v1/budgets/00000000-0000-4000-8000-000000000000/status')).status).toBe(404);
  });
});
