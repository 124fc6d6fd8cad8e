import * as path from 'node:path';
import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { RECONCILIATION_JOB, ReconciliationJob } from '@tokentally/reconciliation';
import { violations } from '../conformance/openai-schema';
import { FakeOpenAiAdmin, startFakeOpenAiAdmin } from '../fakes/openai-admin-server';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { startTestApp, TestApp } from '../support/app';
import { eventually } from '../support/eventually';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

/**
 * Reconciliation with OpenAI's bill, end to end: events ingested through
 * POST /v1/events, OpenAI's organization Costs and Usage APIs played by a
 * local fake that answers in the published schemas (and is checked against
 * them here), the real app on a fresh database.
 *
 * Costs are worked by hand from the built-in catalog, gpt-image-2 on openai,
 * USD per 1M tokens: text in 5, image in 8, image out 30. One edit (120 text
 * in, 1,290 image in, 4,160 image out) costs 0.0006 + 0.01032 + 0.1248 =
 * $0.13572.
 */

const EDIT = { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 };
const DAY_MS = 86_400_000;
const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const TODAY = new Date().toISOString().slice(0, 10);
const D1 = addDays(TODAY, -4);
const D2 = addDays(TODAY, -3);
const D3 = addDays(TODAY, -2);
const unix = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CHROMIUM = '/usr/bin/chromium';
const itWithChromium = fs.existsSync(CHROMIUM) ? it : it.skip;

/** The dashboard's reconciliation panel in headless Chromium, signed in with `key`, once every panel has settled. */
async function panelIn(
  url: string,
  key: string,
  query: string,
): Promise<{ state: string; text: string; rows: string[] }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${url}/?${query}`);
    await page.fill('#key', key);
    await page.click('#signin-form button');
    await page.waitForSelector('body[data-loaded=true]');
    expect(errors).toEqual([]);
    const state = (await page.getAttribute('#reconciliation', 'data-state')) ?? '';
    await page
      .locator('#reconciliation')
      .screenshot({ path: path.join(__dirname, '../artifacts', `dashboard-reconciliation-${state}.png`) });
    // The title as written (CSS shows headings in capitals), then what a person reads.
    const text =
      `${await page.textContent('#reconciliation-title')} ${await page.innerText('#reconciliation .panel-body')}`.replace(
        /\s+/g,
        ' ',
      );
    const rows = (
      await page.$$eval('#reconciliation-table tbody tr', (trs) =>
        trs.map((tr) => (tr as unknown as { innerText: string }).innerText),
      )
    ).map((r) => r.replace(/\s+/g, ' ').trim());
    return { state, text, rows };
  } finally {
    await browser.close();
  }
}

type Row = Record<string, any>;

describe('reconciliation with the OpenAI bill', () => {
  let t: TestApp;
  let fake: FakeOpenAiAdmin;
  let receiver: WebhookReceiver;
  let viewer: HttpClient;
  const projects: Record<'studio' | 'mobile' | 'print' | 'lab', { projectId: string; client: HttpClient }> =
    {} as never;

  const ingest = async (
    who: keyof typeof projects,
    day: string,
    count: number,
    extra: Record<string, unknown> = {},
  ) => {
    const events = Array.from({ length: count }, (_, i) =>
      usageEvent({ timestamp: `${day}T10:${String(i).padStart(2, '0')}:00Z`, usage: EDIT, ...extra }),
    );
    const res = await projects[who].client.post('/v1/events', { events });
    expect([res.status, res.body.accepted]).toEqual([202, count]);
  };
  const run = async (from = D1, to = D3) => {
    const res = await t.http.post('/v1/reconciliation/run', { from, to });
    expect([res.status, res.text]).toEqual([201, expect.any(String)]);
    return res.body;
  };
  const report = async (client: HttpClient = viewer, query = `from=${D1}&to=${D3}`) => {
    const res = await client.get(`/v1/reconciliation?${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const rowOf = (body: { rows: Row[] }, day: string, key: string): Row => {
    const row = body.rows.find((r) => r.day === day && (r.openai_project_id === key || r.project_id === key));
    if (!row)
      throw new Error(
        `no row for ${day} ${key} in ${JSON.stringify(body.rows.map((r) => [r.day, r.scope, r.openai_project_id]))}`,
      );
    return row;
  };

  beforeAll(async () => {
    fake = await startFakeOpenAiAdmin();
    fake.pageSize = 1; // one day per page: every run crosses pages
    receiver = await new WebhookReceiver().start();
    t = await startTestApp({
      WEBHOOK_ALLOW_PRIVATE: 'true',
      OPENAI_ADMIN_KEY: fake.adminKey,
      OPENAI_ADMIN_BASE_URL: fake.url,
      RECONCILE_TIMEOUT_MS: '1500',
    });
    viewer = await viewerClient(t.http);
    for (const name of ['studio', 'mobile', 'print', 'lab'] as const)
      projects[name] = await projectWithIngestKey(t.http, `${name}-${randomUUID().slice(0, 6)}`);
    const hook = await t.http.post('/v1/webhooks', { url: receiver.url, events: ['reconciliation.drift'] });
    expect(hook.status).toBe(201);
    receiver.secrets = [hook.body.secret];
    for (const [openai, name] of [
      ['proj_studio', 'studio'],
      ['proj_mobile', 'mobile'],
      ['proj_print', 'print'],
    ] as const) {
      const mapped = await t.http.request('PUT', `/v1/reconciliation/projects/${openai}`, {
        project_id: projects[name].projectId,
      });
      expect([mapped.status, mapped.body.openai_project_id, mapped.body.project_id]).toEqual([
        200,
        openai,
        projects[name].projectId,
      ]);
    }

    // What TokenTally tracks.
    await ingest('studio', D1, 2); // matches the bill exactly
    await ingest('mobile', D1, 2); // OpenAI billed 3 calls
    await ingest('print', D1, 1); // OpenAI billed image output at $32 per 1M instead of $30
    await ingest('studio', D2, 1, { model: 'gpt-image-9' }); // a model with no price: unpriced
    await ingest('lab', D2, 1); // a project no OpenAI project is mapped to
    await ingest('studio', D3, 1); // billed partly in euros

    // What OpenAI bills.
    const usd = (
      day: string,
      projectId: string | null,
      lineItem: string,
      amount: string,
      quantity?: string,
      unit = 'tokens',
    ) =>
      fake.costs.push({
        day,
        projectId,
        lineItem,
        amount,
        quantity: quantity ?? null,
        quantityUnit: quantity ? unit : null,
      });
    usd(D1, 'proj_studio', 'gpt-image-2, text input', '0.0012', '240');
    usd(D1, 'proj_studio', 'gpt-image-2, image input', '0.02064', '2580');
    usd(D1, 'proj_studio', 'gpt-image-2, image output', '0.2496', '8.32', '1000_tokens');
    fake.images.push({ day: D1, projectId: 'proj_studio', model: 'gpt-image-2', images: 2, requests: 2 });
    usd(D1, 'proj_mobile', 'gpt-image-2, text input', '0.0018', '360');
    usd(D1, 'proj_mobile', 'gpt-image-2, image input', '0.03096', '3870');
    usd(D1, 'proj_mobile', 'gpt-image-2, image output', '0.3744', '12480');
    fake.images.push({ day: D1, projectId: 'proj_mobile', model: 'gpt-image-2', images: 3, requests: 3 });
    usd(D1, 'proj_print', 'gpt-image-2, text input', '0.0006', '120');
    usd(D1, 'proj_print', 'gpt-image-2, image input', '0.01032', '1290');
    usd(D1, 'proj_print', 'gpt-image-2, image output', '0.13312', '4160');
    fake.images.push({ day: D1, projectId: 'proj_print', model: 'gpt-image-2', images: 1, requests: 1 });
    usd(D2, 'proj_studio', 'gpt-image-9, image output', '0.2');
    fake.images.push({ day: D2, projectId: 'proj_studio', model: 'gpt-image-9', images: 1, requests: 1 });
    usd(D2, 'proj_other', 'gpt-image-2, image output', '0.1234567890123');
    usd(D2, 'proj_other', 'gpt-image-2, text input', '1e-7');
    // More digits than a float keeps (it would read 98765432.12345679).
    usd(D2, 'proj_other', 'gpt-image-2, image input', '98765432.123456789012345678');
    usd(D3, 'proj_studio', 'gpt-image-2, image output', '0.13572');
    fake.costs.push({
      day: D3,
      projectId: 'proj_studio',
      lineItem: 'gpt-image-2, image output',
      amount: '0.12',
      currency: 'eur',
    });
    fake.images.push({ day: D3, projectId: 'proj_studio', model: 'gpt-image-2', images: 1, requests: 1 });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await fake?.close();
    await receiver?.stop();
  });

  it('reads the bill page by page with the admin key, as the published API is asked', async () => {
    const done = await run();
    expect(done).toMatchObject({
      trigger: 'manual',
      from: D1,
      to: D3,
      status: 'succeeded',
      comparison: 'projects',
      error: null,
      pages_read: 6, // 3 days, one per page, from each endpoint
      drift_rows: 3,
      alerts_fired: 3,
    });
    const costs = fake.received.filter((r) => r.path === '/v1/organization/costs');
    const images = fake.received.filter((r) => r.path === '/v1/organization/usage/images');
    expect([costs.length, images.length]).toEqual([3, 3]);
    for (const r of [...costs, ...images]) {
      expect(r.authorization).toBe(`Bearer ${fake.adminKey}`);
      expect([r.params.get('start_time'), r.params.get('end_time'), r.params.get('bucket_width')]).toEqual([
        String(unix(D1)),
        String(unix(addDays(D3, 1))),
        '1d',
      ]);
      expect(r.params.get('limit')).toBe('3');
    }
    expect(costs[0].params.getAll('group_by[]')).toEqual(['project_id', 'line_item']);
    expect(images[0].params.getAll('group_by[]')).toEqual(['project_id', 'model']);
    expect(costs.map((r) => r.params.get('page'))).toEqual([null, 'page_1', 'page_2']);
  });

  it("answers only in OpenAI's published schemas (the fake checked against the fixture), money written as literals", () => {
    expect(fake.answers.length).toBeGreaterThanOrEqual(6);
    for (const { path, body } of fake.answers) {
      const page = JSON.parse(body);
      expect([path, violations('UsageResponse', page)]).toEqual([path, []]);
      const schema = path.endsWith('/costs') ? 'CostsResult' : 'UsageImagesResult';
      for (const bucket of page.data)
        for (const result of bucket.results) expect([path, violations(schema, result)]).toEqual([path, []]);
    }
    // The literals crossed the wire as written: what JSON.parse would have rounded never reached a JS number.
    const wire = fake.answers.map((a) => a.body).join('\n');
    expect(wire).toContain('"value":0.1234567890123,');
    expect(wire).toContain('"value":1e-7,');
    expect(wire).toContain('"value":98765432.123456789012345678,');
    // The checker does catch a departure from the schema.
    expect(violations('CostsResult', { object: 'organization.costs.result', amount: { value: '0.06' } })).toEqual([
      '$.amount.value: string, schema says number',
    ]);
    expect(violations('UsageImagesResult', { object: 'organization.usage.images.result', images: 1 })).toEqual([
      '$.num_model_requests: required, missing',
    ]);
  });

  it('reports an exact match as matching, with difference 0', async () => {
    const row = rowOf(await report(), D1, 'proj_studio');
    expect(row).toMatchObject({
      scope: 'project',
      project_id: projects.studio.projectId,
      status: 'match',
      billed_usd: '0.271440',
      tracked_usd: '0.271440',
      difference_usd: '0.000000',
      percent: '0.00',
      causes: [],
      billed: { requests: 2, images: 2, tokens: '11140' },
      tracked: { calls: 2, images: 2, tokens: 11140, unpriced_events: 0 },
      alert: null,
    });
  });

  it('finds the call OpenAI billed and TokenTally never saw, and names it untracked_calls', async () => {
    const row = rowOf(await report(), D1, 'proj_mobile');
    expect(row).toMatchObject({
      status: 'drift',
      billed_usd: '0.407160',
      tracked_usd: '0.271440',
      difference_usd: '0.135720',
      percent: '33.33',
      billed: { requests: 3, images: 3 },
      tracked: { calls: 2, images: 2 },
    });
    expect(row.causes.map((c: Row) => c.cause)).toEqual(['untracked_calls']);
    expect(row.causes[0]).toMatchObject({ missing_calls: 1 });
    expect(row.causes[0].detail).toContain('gpt-image-2: 3 requests billed, 2 tracked');
    expect(row.alert).toEqual({ event_id: expect.any(String), fired_at: expect.any(String) });
  });

  it('finds the price drift (same tokens, different cost) and says which rate differs', async () => {
    const row = rowOf(await report(), D1, 'proj_print');
    expect(row).toMatchObject({
      status: 'drift',
      billed_usd: '0.144040',
      tracked_usd: '0.135720',
      difference_usd: '0.008320',
      percent: '5.78',
    });
    expect(row.causes.map((c: Row) => c.cause)).toEqual(['price_drift']);
    expect(row.causes[0].rates).toEqual([
      {
        line_item: 'gpt-image-2, image output',
        model: 'gpt-image-2',
        kind: 'output_image',
        tokens: '4160',
        billed_usd: '0.13312',
        expected_usd: '0.1248',
        billed_per_1m_usd: '32',
        tracked_per_1m_usd: '30',
      },
    ]);
  });

  it('names unpriced events, shows unmapped projects apart, keeps other currencies out of the sum', async () => {
    const body = await report();
    const unpriced = rowOf(body, D2, 'proj_studio');
    expect(unpriced).toMatchObject({ status: 'drift', billed_usd: '0.200000', tracked_usd: '0.000000' });
    expect(unpriced.causes.map((c: Row) => c.cause)).toEqual(['unpriced_events']);

    const other = rowOf(body, D2, 'proj_other');
    expect(other).toMatchObject({ scope: 'unmapped_openai_project', status: 'unmapped', project_id: null });
    expect(other.tracked_usd).toBeNull();
    const lab = rowOf(body, D2, projects.lab.projectId);
    expect(lab).toMatchObject({ scope: 'unmapped_tracked_project', status: 'unmapped', tracked_usd: '0.135720' });
    expect(lab.billed_usd).toBeNull();

    const euros = rowOf(body, D3, 'proj_studio');
    expect(euros).toMatchObject({
      status: 'not_comparable',
      billed_usd: '0.135720',
      other_currencies: [{ currency: 'eur', amount: '0.12' }],
      difference_usd: null,
      percent: null,
      alert: null,
    });
    expect(body).toMatchObject({
      configured: true,
      currency: 'USD',
      threshold_pct: '2',
      comparison: 'projects',
      limited_to_projects: false,
      days_reconciled: [D1, D2, D3],
      days_not_reconciled: [],
    });
    // Totals over the rows compared (not the unmapped ones, not the one billed partly in euros).
    expect(body.totals).toEqual({
      billed_usd: '1.022640',
      tracked_usd: '0.678600',
      difference_usd: '0.344040',
      percent: '33.64',
    });
  });

  it('keeps money from the bill exact: 0.1234567890123, 1e-7 and 26 digits survive digit for digit', async () => {
    const other = rowOf(await report(), D2, 'proj_other');
    expect(other.billed_usd).toBe('98765432.246913678024645678');
    expect(other.line_items.map((l: Row) => l.amount)).toEqual([
      '0.1234567890123',
      '0.0000001',
      '98765432.123456789012345678',
    ]);
  });

  it('delivers each drift once as a signed Standard Webhook, and a re-run sends nothing again', async () => {
    await eventually(async () => expect(receiver.received).toHaveLength(3), 10_000);
    expect(receiver.rejected).toEqual([]);
    for (const r of receiver.received) {
      expect(r.verified).toEqual(r.json); // checked with the standardwebhooks package and the endpoint's secret
      expect(r.headers['webhook-id']).toMatch(/^msg_/);
      expect(r.json).toMatchObject({ type: 'reconciliation.drift', version: 1 });
    }
    const byProject = Object.fromEntries(
      receiver.received.map((r) => [`${r.json.data.day} ${r.json.data.openai_project_id}`, r.json.data]),
    );
    expect(Object.keys(byProject).sort()).toEqual(
      [`${D1} proj_mobile`, `${D1} proj_print`, `${D2} proj_studio`].sort(),
    );
    expect(byProject[`${D1} proj_mobile`]).toMatchObject({
      scope: 'project',
      project_id: projects.mobile.projectId,
      project_name: expect.stringMatching(/^mobile-/),
      billed_usd: '0.407160',
      tracked_usd: '0.271440',
      difference_usd: '0.135720',
      percent: '33.33',
      threshold_pct: '2',
      causes: ['untracked_calls'],
      billed_requests: 3,
      tracked_calls: 2,
    });
    expect(byProject[`${D1} proj_mobile`].dashboard_url).toMatch(
      new RegExp(`^${t.config.publicUrl}/\\?.*#reconciliation$`),
    );
    expect(byProject[`${D1} proj_print`].causes).toEqual(['price_drift']);

    const again = await run();
    expect(again).toMatchObject({ status: 'succeeded', drift_rows: 3, alerts_fired: 0 });
    await sleep(1500);
    expect(receiver.received).toHaveLength(3);
  });

  it('fires again, once, when a re-run finds other figures (the bill settled), and not for a drift now resolved', async () => {
    await ingest('mobile', D1, 1, { timestamp: `${D1}T11:00:00Z` }); // the missing call arrives: mobile now matches
    fake.costs.find((c) => c.projectId === 'proj_print' && c.lineItem === 'gpt-image-2, image output')!.amount =
      '0.13728'; // $33
    const done = await run();
    expect(done).toMatchObject({ status: 'succeeded', drift_rows: 2, alerts_fired: 1 });
    const body = await report();
    expect(rowOf(body, D1, 'proj_mobile')).toMatchObject({ status: 'match', difference_usd: '0.000000', alert: null });
    expect(rowOf(body, D1, 'proj_print').causes[0].rates[0].billed_per_1m_usd).toBe('33');
    await eventually(async () => expect(receiver.received).toHaveLength(4), 10_000);
    expect(receiver.received[3].json.data).toMatchObject({ openai_project_id: 'proj_print', billed_usd: '0.148200' });
    await run();
    await sleep(1500);
    expect(receiver.received).toHaveLength(4);
  });

  itWithChromium(
    'shows the rows in the dashboard panel "Reconciliation with OpenAI", drift and causes in words',
    async () => {
      const panel = await panelIn(t.url, viewer.key!, `preset=custom&from=${D1}&to=${D3}&tz=UTC`);
      expect(panel.state).toBe('ready');
      expect(panel.text).toContain(`Reconciliation with OpenAI: ${D1} – ${D3} (UTC days)`);
      expect(panel.text).toMatch(/Drift is a difference above 2% of the bill/);
      const print = panel.rows.find((r) => r.includes('proj_print'))!;
      expect(print).toMatch(/drift/);
      expect(print).toContain('price drift');
      expect(panel.rows.find((r) => r.includes(D3) && r.includes('proj_studio'))).toMatch(/0\.12 EUR.*not comparable/);
      expect(panel.rows.find((r) => r.includes(D1) && r.includes('proj_studio'))).toContain('matches');
    },
  );

  it('shows a viewer key limited to projects only the rows of its mapped projects', async () => {
    const key = await t.http.post('/v1/keys', {
      name: 'studio finance',
      role: 'viewer',
      project_ids: [projects.studio.projectId],
    });
    const scoped = t.http.as(key.body.key);
    const body = await report(scoped);
    expect(body.limited_to_projects).toBe(true);
    expect(body.rows.length).toBeGreaterThan(0);
    expect([...new Set(body.rows.map((r: Row) => r.project_id))]).toEqual([projects.studio.projectId]);
    expect(body.rows.every((r: Row) => r.scope === 'project')).toBe(true);
    expect(body.days_reconciled).toEqual([D1, D2, D3]);
    // Runs and mappings are for admins.
    expect((await scoped.get('/v1/reconciliation/runs')).status).toBe(403);
    expect((await viewer.get('/v1/reconciliation/projects')).status).toBe(403);
  });

  it('refuses bad input with problem+json naming the field', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ from: D3, to: D1 }, 'from', /must not be after to/],
      [{ from: '2026-02-30', to: D1 }, 'from', /must be a date YYYY-MM-DD/],
      [{ from: 'yesterday', to: D1 }, 'from', /must be a date/],
      [{ from: D1 }, 'to', /is required/],
      [{ from: addDays(D1, -92), to: D1 }, 'to', /at most 92 days/],
      [{ from: D1, to: addDays(TODAY, 1) }, 'to', /must not be after today/],
      [{ from: D1, to: D3, project: 'x' }, 'project', /is not a known field/],
    ];
    for (const [body, path, message] of cases) {
      const res = await t.http.post('/v1/reconciliation/run', body);
      expect([JSON.stringify(body), res.status, res.headers.get('content-type')]).toEqual([
        JSON.stringify(body),
        400,
        expect.stringMatching(/^application\/problem\+json/),
      ]);
      expect(res.body.errors).toEqual([{ path, message: expect.stringMatching(message) }]);
    }
    const malformed = await t.http.request('POST', '/v1/reconciliation/run', undefined, {
      raw: '{"from": "2026-11-01", ',
      headers: { 'content-type': 'application/json' },
    });
    expect([malformed.status, malformed.body.errors]).toEqual([
      400,
      [{ path: '(body)', message: 'is not valid JSON' }],
    ]);
    const badQuery = await viewer.get('/v1/reconciliation?from=2026-13-01');
    expect([badQuery.status, badQuery.body.errors[0].path]).toEqual([400, 'from']);
    const unknownProject = await t.http.request('PUT', '/v1/reconciliation/projects/proj_new', {
      project_id: '00000000-0000-4000-8000-000000000000',
    });
    expect([unknownProject.status, unknownProject.body.errors]).toEqual([
      400,
      [{ path: 'project_id', message: 'is not a known project' }],
    ]);
    const badId = await t.http.request('PUT', '/v1/reconciliation/projects/proj%20new', {
      project_id: projects.lab.projectId,
    });
    expect([badId.status, badId.body.errors[0].path]).toEqual([400, 'openai_project_id']);
    const taken = await t.http.request('PUT', '/v1/reconciliation/projects/proj_second', {
      project_id: projects.studio.projectId,
    });
    expect([taken.status, taken.body.errors]).toEqual([
      409,
      [{ path: 'project_id', message: expect.stringContaining('is already mapped to OpenAI project proj_studio') }],
    ]);
    expect((await t.http.delete('/v1/reconciliation/projects/proj_nobody')).status).toBe(404);
  });

  it('records a failing, hanging or nonsensical admin API as a failed run with a clear reason; the service stays up', async () => {
    const failures: Array<[FakeOpenAiAdmin['fault'] | 'wrong-key', RegExp]> = [
      [
        { kind: 'status', status: 500 },
        /GET \/organization\/costs \(page 1\) answered HTTP 500: The server had an error/,
      ],
      [{ kind: 'hang' }, /GET \/organization\/costs \(page 1\) did not answer within 1500 ms/],
      [
        { kind: 'garbage', body: '<html><body>Bad gateway</body></html>' },
        /not a page of the published schema: the answer is not JSON/,
      ],
      [{ kind: 'garbage', body: '{"data": "none"}' }, /\$\.object must be "page"/],
      [
        {
          kind: 'garbage',
          body: '{"object":"page","data":[{"object":"bucket","start_time":1,"end_time":86401,"results":[]}],"has_more":false,"next_page":null}',
        },
        /a bucket starts at 1, not a UTC day/,
      ],
      [
        {
          kind: 'garbage',
          body: `{"object":"page","data":[{"object":"bucket","start_time":${Date.parse(`${D1}T00:00:00Z`) / 1000},"end_time":${Date.parse(`${D1}T00:00:00Z`) / 1000 + 172800},"results":[]}],"has_more":false,"next_page":null}`,
        },
        /end_time must be one day \(86400 s\) after start_time/,
      ],
      // Upstream text that quotes the key (an error message, a redirect's Location) is stored and shown without it.
      [
        {
          kind: 'status',
          status: 401,
          body: JSON.stringify({
            error: { message: `Incorrect API key provided: ${fake.adminKey}. Or ...${fake.adminKey.slice(-12)}.` },
          }),
        },
        /answered HTTP 401: Incorrect API key provided: \[redacted\]\. Or \.\.\.\[redacted\]/,
      ],
      [
        { kind: 'status', status: 302, headers: { location: `http://127.0.0.1:9/v1/x?k=${fake.adminKey}` } },
        /answered a redirect \(HTTP 302\) to http:\/\/127\.0\.0\.1:9\/v1\/x\?k=\[redacted\]; not followed/,
      ],
      [{ kind: 'repeat-cursor' }, /next_page repeats an earlier cursor/],
      [{ kind: 'endless' }, /still had more pages after 200; gave up/],
      ['wrong-key', /answered HTTP 401: Incorrect API key provided.*check OPENAI_ADMIN_KEY/],
    ];
    const key = fake.adminKey;
    for (const [fault, reason] of failures) {
      if (fault === 'wrong-key') fake.adminKey = 'sk-admin-rotated0123456789abcdefghijkl';
      else fake.fault = fault;
      try {
        const failed = await run();
        expect([reason.source, failed.status]).toEqual([reason.source, 'failed']);
        expect(failed.error).toMatch(reason);
        expect(failed.error).not.toContain(key);
        expect(failed.error).not.toContain(key.slice(-12));
        expect(failed.finished_at).toEqual(expect.any(String));
        // Nor in the report a viewer reads.
        expect(JSON.stringify((await report()).last_run)).not.toContain(key.slice(-12));
      } finally {
        fake.fault = null;
        fake.adminKey = key;
      }
      expect((await t.http.get('/health')).status).toBe(200);
    }
    const runs = await t.http.get('/v1/reconciliation/runs?limit=3');
    expect(runs.body.data.map((r: Row) => r.status)).toEqual(['failed', 'failed', 'failed']);
    // The report still shows the last good run's figures, and the failure as the last run.
    const body = await report();
    expect(body.last_run).toMatchObject({ status: 'failed', error: expect.stringMatching(/HTTP 401/) });
    expect(rowOf(body, D1, 'proj_studio').status).toBe('match');
    // And a run works again once OpenAI answers.
    expect((await run()).status).toBe('succeeded');
  });

  it('keeps a line item whose name holds a NUL or a lone surrogate (valid JSON escapes) instead of failing the run', async () => {
    const odd = {
      day: D1,
      projectId: 'proj_other',
      lineItem: 'gpt-image-2, odd \u0000 name \ud800',
      amount: '0.01',
      currency: 'usd',
    };
    fake.costs.push(odd);
    try {
      const done = await run(D1, D1);
      expect([done.status, done.error]).toEqual(['succeeded', null]);
      const items = rowOf(await report(t.http, `from=${D1}&to=${D1}`), D1, 'proj_other').line_items;
      expect(items.map((i: Row) => i.line_item)).toContain('gpt-image-2, odd \ufffd name \ufffd');
    } finally {
      fake.costs.splice(fake.costs.indexOf(odd), 1);
      await run();
    }
  });

  it('runs daily over the days before today, once however many times the job ticks', async () => {
    expect(t.app.get(SchedulerRegistry).getCronJob(RECONCILIATION_JOB)).toBeDefined();
    const job = t.app.get(ReconciliationJob);
    const now = new Date();
    const first = await job.reconcileDaily(now);
    expect(first).toMatchObject({
      trigger: 'schedule',
      from: addDays(TODAY, -3),
      to: addDays(TODAY, -1),
      status: 'succeeded',
    });
    // Another replica ticking for the same day: no second run.
    expect(await job.reconcileDaily(now)).toBeNull();
    const runs = await t.http.get('/v1/reconciliation/runs?limit=50');
    expect(runs.body.data.filter((r: Row) => r.trigger === 'schedule')).toHaveLength(1);
  });

  it('compares the whole organization with every project when nothing is mapped, and says so', async () => {
    for (const openai of ['proj_studio', 'proj_mobile', 'proj_print'])
      expect((await t.http.delete(`/v1/reconciliation/projects/${openai}`)).status).toBe(204);
    expect((await t.http.get('/v1/reconciliation/projects')).body.data).toEqual([]);
    const done = await run(D1, D1);
    expect(done).toMatchObject({ status: 'succeeded', comparison: 'organization' });
    const body = await report(viewer, `from=${D1}&to=${D1}`);
    expect(body.comparison).toBe('organization');
    expect(body.rows).toHaveLength(1);
    // Every project's D1 calls (studio 2, mobile 3, print 1) against the whole bill of the day.
    expect(body.rows[0]).toMatchObject({
      scope: 'organization',
      openai_project_id: null,
      tracked: { calls: 6 },
      billed: { requests: 6 },
      tracked_usd: '0.814320',
      billed_usd: '0.826800',
      difference_usd: '0.012480',
      percent: '1.51',
      status: 'within_threshold',
    });
    // Print's image output at $33 per 1M, averaged over the organization's image output tokens.
    expect(body.rows[0].causes.map((c: Row) => c.cause)).toEqual(['price_drift']);
    expect(body.rows[0].causes[0].rates).toEqual([
      expect.objectContaining({
        kind: 'output_image',
        tokens: '24960',
        billed_per_1m_usd: '30.5',
        tracked_per_1m_usd: '30',
      }),
    ]);
  });
});

describe('reconciliation without OPENAI_ADMIN_KEY', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('is off: no daily job, a run is a 409 that says how to turn it on, the report says it is not configured', async () => {
    expect(() => t.app.get(SchedulerRegistry).getCronJob(RECONCILIATION_JOB)).toThrow();
    const res = await t.http.post('/v1/reconciliation/run', { from: addDays(TODAY, -2), to: addDays(TODAY, -1) });
    expect([res.status, res.headers.get('content-type')]).toEqual([
      409,
      expect.stringMatching(/^application\/problem\+json/),
    ]);
    expect(res.body.detail).toMatch(/set OPENAI_ADMIN_KEY/);
    const body = (await t.http.get('/v1/reconciliation')).body;
    expect(body).toMatchObject({ configured: false, last_run: null, rows: [], days_reconciled: [] });
    expect(body.days_not_reconciled).toHaveLength(7);
  });

  itWithChromium('says in the dashboard panel how to set it up', async () => {
    const viewer = await viewerClient(t.http);
    const panel = await panelIn(t.url, viewer.key!, 'preset=7d&tz=UTC');
    expect(panel.state).toBe('empty');
    expect(panel.text).toContain('set OPENAI_ADMIN_KEY on the server to an OpenAI organization admin key');
  });
});
