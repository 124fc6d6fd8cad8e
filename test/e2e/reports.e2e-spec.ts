import { parseReportQuery, ReportsService } from '@tokentally/reporting';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

/** Every report against hand-computed figures; a gpt-image-2 edit costs $0.13572 on openai and $0.13185 on vercel. */
describe('reports', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let alpha: string;

  const edit = (id: string, timestamp: string, extra: Record<string, unknown> = {}) =>
    usageEvent({
      event_id: id,
      timestamp,
      usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      dimensions: { team: 'growth', feature: 'avatars' },
      tags: {},
      ...extra,
    });

  beforeAll(async () => {
    t = await startTestApp();
    const a = await projectWithIngestKey(t.http, 'alpha');
    const b = await projectWithIngestKey(t.http, 'beta');
    alpha = a.projectId;
    viewer = await viewerClient(t.http);
    await a.client.post('/v1/events', {
      events: [
        // Around the end of daylight saving time in New York (2026-11-01 has 25 hours there).
        edit('dst-1', '2026-11-01T03:30:00Z', { tags: { campaign: 'halloween' } }), // Oct 31, 23:30 EDT
        edit('dst-2', '2026-11-01T04:30:00Z', { tags: { campaign: 'halloween' } }), // Nov 1, 00:30 EDT
        edit('dst-3', '2026-11-02T04:30:00Z', { tags: { campaign: 'launch' } }), // Nov 1, 23:30 EST
        edit('dst-4', '2026-11-02T05:30:00Z', { provider: 'vercel', dimensions: { team: 'core', feature: 'banners' } }), // Nov 2, 00:30 EST
        // Around the start of daylight saving time (2026-03-08 has 23 hours there).
        edit('spring-1', '2026-03-08T06:00:00Z'), // Mar 8, 01:00 EST
        edit('spring-2', '2026-03-09T04:30:00Z'), // Mar 9, 00:30 EDT
      ],
    });
    await b.client.post('/v1/events', {
      events: [edit('beta-1', '2026-11-01T12:00:00Z', { provider: 'vercel', tags: { campaign: 'launch' } })],
    });
  });
  afterAll(() => t?.close());

  const spend = async (query: string) => {
    const res = await viewer.get(`/v1/reports/spend?${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  it('buckets days at local midnight, with a 25-hour day when daylight saving ends', async () => {
    const report = await spend(`project=${alpha}&from=2026-10-31&to=2026-11-02&tz=America/New_York&group_by=none`);
    expect(report.buckets).toEqual([
      '2026-10-31T04:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
    ]);
    expect(report.series).toEqual([
      {
        key: 'total',
        label: 'total',
        values: ['0.135720', '0.271440', '0.131850'],
        total: '0.539010',
        unpriced_events: 0,
        partial_events: 0,
      },
    ]);
    expect(report.total).toBe('0.539010');
  });

  it('puts the same events in other days in UTC', async () => {
    const report = await spend(`project=${alpha}&from=2026-11-01&to=2026-11-02&group_by=none`);
    expect(report.buckets).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z']);
    expect(report.series[0].values).toEqual(['0.271440', '0.267570']);
  });

  it('handles the 23-hour day when daylight saving starts', async () => {
    const report = await spend(`project=${alpha}&from=2026-03-08&to=2026-03-09&tz=America/New_York&group_by=none`);
    expect(report.buckets).toEqual(['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
    expect(report.series[0].values).toEqual(['0.135720', '0.135720']);
  });

  it('groups by provider, project (with names) and tag, with totals that add up', async () => {
    const range = 'from=2026-10-31&to=2026-11-02&tz=America/New_York';
    const byProvider = await spend(`${range}&group_by=provider`);
    expect(byProvider.series.map((s: any) => [s.key, s.total])).toEqual([
      ['openai', '0.407160'],
      ['vercel', '0.263700'],
    ]);
    expect(byProvider.total).toBe('0.670860');

    const byProject = await spend(`${range}&group_by=project`);
    expect(byProject.series.map((s: any) => [s.label, s.total])).toEqual([
      ['alpha', '0.539010'],
      ['beta', '0.131850'],
    ]);

    const byTag = await spend(`${range}&group_by=tag:campaign`);
    expect(byTag.series.map((s: any) => [s.key, s.values])).toEqual([
      ['halloween', ['0.135720', '0.135720', '0.000000']],
      ['launch', ['0.000000', '0.267570', '0.000000']],
    ]);
    const filtered = await spend(`${range}&group_by=provider&tag:campaign=launch`);
    expect(filtered.series.map((s: any) => [s.key, s.total])).toEqual([
      ['openai', '0.135720'],
      ['vercel', '0.131850'],
    ]);
  });

  it('filters by dimension and merges the series beyond the limit into (other)', async () => {
    const core = await spend(`from=2026-10-31&to=2026-11-02&team=core&group_by=feature`);
    expect(core.series.map((s: any) => [s.key, s.total])).toEqual([['banners', '0.131850']]);
    const limited = await spend(`from=2026-10-31&to=2026-11-02&group_by=project&limit=1`);
    expect(limited.series.map((s: any) => [s.label, s.total])).toEqual([
      ['alpha', '0.539010'],
      ['(other)', '0.131850'],
    ]);
    expect(limited.total).toBe('0.670860');
  });

  it('groups by user from the user rollup, and says which filters it cannot combine with user', async () => {
    const c = await projectWithIngestKey(t.http, 'delta');
    await c.client.post('/v1/events', {
      events: [
        edit('user-1', '2026-11-10T10:00:00Z', { dimensions: { user: 'u_1', team: 'growth' } }),
        edit('user-2', '2026-11-10T11:00:00Z', { dimensions: { user: 'u_1' } }),
        edit('user-3', '2026-11-10T12:00:00Z', { provider: 'vercel', dimensions: { user: 'u_2' } }),
      ],
    });
    const byUser = await spend(`project=${c.projectId}&from=2026-11-10&to=2026-11-10&group_by=user`);
    expect(byUser.series.map((s: any) => [s.key, s.total])).toEqual([
      ['u_1', '0.271440'],
      ['u_2', '0.131850'],
    ]);
    const oneUser = await spend(`project=${c.projectId}&from=2026-11-10&to=2026-11-10&user=u_2&group_by=provider`);
    expect(oneUser.total).toBe('0.131850');
    const refused = await viewer.get(`/v1/reports/spend?group_by=user&team=growth`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { path: 'team', message: expect.stringContaining('cannot be combined with user') },
    ]);
  });

  it('reports tokens over time and cost per image by model, size and quality', async () => {
    const res = await viewer.get(`/v1/reports/tokens?project=${alpha}&from=2026-11-01&to=2026-11-01`);
    expect(res.body.series.find((s: any) => s.kind === 'output_image').values).toEqual([8320]);
    expect(res.body.breakdown).toEqual([
      expect.objectContaining({
        provider: 'openai',
        model: 'gpt-image-2',
        image_size: '1024x1024',
        image_quality: 'high',
        images: 2,
        cost_usd: '0.271440',
        cost_per_image_usd: '0.135720',
        output_image_tokens_per_image: 4160,
      }),
    ]);
  });

  it('prices the same usage at every provider and shows the saving', async () => {
    const res = await viewer.get(
      `/v1/reports/compare-providers?project=${alpha}&from=2026-11-01T04:00:00Z&to=2026-11-02T06:00:00Z`,
    );
    const [model] = res.body.models;
    expect(model.model).toBe('gpt-image-2');
    expect(model.actual).toEqual(
      expect.arrayContaining([
        { provider: 'openai', cost_usd: '0.271440', unpriced_events: 0, partial_events: 0 },
        { provider: 'vercel', cost_usd: '0.131850', unpriced_events: 0, partial_events: 0 },
      ]),
    );
    expect(model.actual_total_usd).toBe('0.403290');
    // Azure's catalog rates for these kinds are OpenAI's ($5 text in, $8 image in, $30 image out): 3 x $0.13572.
    expect(model.at_each_provider).toEqual([
      { provider: 'vercel', cost_usd: '0.395550', saving_usd: '0.007740' },
      { provider: 'azure', cost_usd: '0.407160', saving_usd: '-0.003870' },
      { provider: 'openai', cost_usd: '0.407160', saving_usd: '-0.003870' },
    ]);
    expect(model.cheapest.provider).toBe('vercel');
  });

  it('summarises the period to date against the previous period', async () => {
    const now = Date.now();
    const c = await projectWithIngestKey(t.http, 'gamma');
    await c.client.post('/v1/events', {
      events: [
        edit('now-1', new Date(now - 60_000).toISOString()),
        edit('now-2', new Date(now - 120_000).toISOString(), { provider: 'vercel' }),
      ],
    });
    const res = await viewer.get(`/v1/reports/summary?project=${c.projectId}&period=month`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      period: 'month',
      spent: '0.267570',
      events: 2,
      unpriced_events: 0,
      previous_period: { spent: '0.000000' },
    });
    expect(Number(res.body.forecast)).toBeGreaterThanOrEqual(0.26757); // a bound, not money arithmetic
    expect(res.body.top_movers[0]).toMatchObject({ dimension: 'project', label: 'gamma', change: '0.267570' });
    expect(res.body.pricing).toHaveProperty('next_refresh');
  });

  it('exports CSV that opens cleanly in a spreadsheet, aggregated and raw', async () => {
    const agg = await viewer.get(
      `/v1/reports/export.csv?project=${alpha}&from=2026-11-01&to=2026-11-01&group_by=provider`,
    );
    expect(agg.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = agg.text
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('bucket_start,timezone,group_by,group,label,cost_usd,basis');
    expect(lines).toContain('2026-11-01T00:00:00.000Z,UTC,provider,openai,openai,0.271440,restated');
    const raw = await viewer.get(`/v1/reports/export.csv?project=${alpha}&from=2026-11-01&to=2026-11-01&raw=1`);
    const rows = raw.text
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(
      /^2026-11-01T03:30:00\.000000Z,[0-9a-f-]{36},alpha,dst-1,openai,gpt-image-2,images\.generate,ok,120,0,1290,0,4160,0,1,/,
    );
  });

  it('names bad report parameters', async () => {
    const res = await viewer.get('/v1/reports/spend?granularity=minute&tz=Mars/Olympus&group_by=colour&from=yesterday');
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: any) => e.path).sort()).toEqual(['from', 'granularity', 'group_by', 'tz']);
  });
});

describe('compare-providers around a price change', () => {
  it('prices each hour with the price in effect then, also on the day the price changes', async () => {
    const t = await startTestApp();
    try {
      const project = await projectWithIngestKey(t.http, 'epsilon');
      const usage = { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 };
      await project.client.post('/v1/events', {
        events: [
          usageEvent({ timestamp: '2026-11-05T10:00:00Z', usage }),
          usageEvent({ timestamp: '2026-11-05T14:00:00Z', usage }),
          usageEvent({ timestamp: '2026-11-06T10:00:00Z', usage }),
        ],
      });
      // Vercel's output rate becomes $24 from noon on Nov 5.
      const put = await t.http.request('PUT', '/v1/pricing/overrides', {
        provider: 'vercel',
        model: 'gpt-image-2',
        prices: { input: '5.00', output: '24.00' },
        effective_from: '2026-11-05T12:00:00Z',
      });
      expect(put.status).toBe(200);
      const res = await t.http.get(
        `/v1/reports/compare-providers?project=${project.projectId}&from=2026-11-05&to=2026-11-06`,
      );
      const vercel = res.body.models[0].at_each_provider.find((p: any) => p.provider === 'vercel');
      // 10:00 at the list price (0.13185), 14:00 and the next day at the override (1,410 x 5 + 4,160 x 24 = 0.10689
      // each)
      expect(vercel.cost_usd).toBe('0.345630');
    } finally {
      await t.close();
    }
  });
});

describe('compare-providers: dated snapshots and the providers it leaves out', () => {
  let t: TestApp;
  let viewer: HttpClient;

  beforeAll(async () => {
    t = await startTestApp();
    viewer = await viewerClient(t.http);
  });
  afterAll(() => t?.close());

  const compare = async (projectId: string, range: string) => {
    const res = await viewer.get(`/v1/reports/compare-providers?project=${projectId}&${range}`);
    if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
    return res.body;
  };

  it("compares a dated snapshot at every provider that sells its base model, priced with the base model's version", async () => {
    const project = await projectWithIngestKey(t.http);
    // An edit (120 text in, 1,290 image in, 4,160 image out) of azure's gpt-image-2 snapshot: priced at ingest by
    // azure gpt-image-2's catalog version ($5, $8, $30), $0.13572; at openai the same, at vercel $0.13185.
    const ingest = await project.client.post('/v1/events', {
      events: [
        usageEvent({
          provider: 'azure',
          model: 'gpt-image-2-2026-04-21',
          timestamp: '2026-11-05T10:00:00Z',
          usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
        }),
      ],
    });
    expect(ingest.body.results[0]).toMatchObject({ cost_usd: '0.135720', pricing: 'priced' });
    const [model] = (await compare(project.projectId, 'from=2026-11-05&to=2026-11-05')).models;
    expect(model).toMatchObject({
      model: 'gpt-image-2-2026-04-21',
      actual: [{ provider: 'azure', cost_usd: '0.135720', unpriced_events: 0, partial_events: 0 }],
      actual_complete: true,
      cheapest: { provider: 'vercel', cost_usd: '0.131850', saving_usd: '0.003870' },
      not_compared: [],
    });
    expect([...model.at_each_provider].sort((a: any, b: any) => a.provider.localeCompare(b.provider))).toEqual([
      { provider: 'azure', cost_usd: '0.135720', saving_usd: '0.000000' },
      { provider: 'openai', cost_usd: '0.135720', saving_usd: '0.000000' },
      { provider: 'vercel', cost_usd: '0.131850', saving_usd: '0.003870' },
    ]);
  });

  it('lists each provider it leaves out of a model with the reason: what could not be priced there, or no price at all', async () => {
    const project = await projectWithIngestKey(t.http);
    const at = '2026-11-10T10:00:00Z';
    await project.client.post('/v1/events', {
      events: [
        // gemini-2.5-flash-image at google: 100 text in at $0.30 and 1,290 image out at $30 per 1M = $0.03873; and a
        // call with no usage and no size (unpriced: no per-image price), which neither google nor openrouter can price.
        usageEvent({
          provider: 'google',
          model: 'gemini-2.5-flash-image',
          timestamp: at,
          usage: { input_text_tokens: 100, output_image_tokens: 1290 },
        }),
        usageEvent({
          provider: 'google',
          model: 'gemini-2.5-flash-image',
          timestamp: at,
          usage: null,
          images: 1,
          image_size: null,
          image_quality: null,
        }),
        // gpt-image-1.5 with text output: openai has a text-output rate ($10), azure none. 100 x $5 + 4,160 x $32 +
        // 200 x $10 per 1M = $0.13562.
        usageEvent({
          model: 'gpt-image-1.5',
          timestamp: at,
          usage: { input_text_tokens: 100, output_image_tokens: 4160, output_text_tokens: 200 },
        }),
        // A model no provider has a price for.
        usageEvent({ model: 'gpt-image-9', timestamp: at }),
      ],
    });
    const byModel = Object.fromEntries(
      (await compare(project.projectId, 'from=2026-11-10&to=2026-11-10')).models.map((m: any) => [m.model, m]),
    );
    // One unpriced call leaves every provider out (a total without it would not compare), and says so.
    expect(byModel['gemini-2.5-flash-image']).toMatchObject({
      actual: [{ provider: 'google', cost_usd: '0.038730', unpriced_events: 1, partial_events: 0 }],
      actual_complete: false,
      at_each_provider: [],
      cheapest: null,
      not_compared: [
        {
          provider: 'google',
          reason: '1 image could not be priced at google: no per-image price for an image of unknown size',
        },
        {
          provider: 'openrouter',
          reason: '1 image could not be priced at openrouter: no per-image price for an image of unknown size',
        },
      ],
    });
    expect(byModel['gpt-image-1.5']).toMatchObject({
      actual_complete: true,
      at_each_provider: [{ provider: 'openai', cost_usd: '0.135620', saving_usd: '0.000000' }],
      not_compared: [
        { provider: 'azure', reason: '200 output_text tokens could not be priced at azure: no rate for output_text' },
      ],
    });
    expect(byModel['gpt-image-9']).toMatchObject({
      at_each_provider: [],
      not_compared: [{ provider: 'openai', reason: 'openai has no price for gpt-image-9' }],
    });
  });

  it('leaves out a provider that had no price yet for some hours of use, with the calls and days it could not price', async () => {
    const project = await projectWithIngestKey(t.http);
    const usage = { input_text_tokens: 120, output_image_tokens: 4160 };
    await project.client.post('/v1/events', {
      events: [
        usageEvent({ model: 'gpt-image-1-mini', timestamp: '2026-11-12T10:00:00Z', usage }),
        usageEvent({ model: 'gpt-image-1-mini', timestamp: '2026-11-12T11:00:00Z', usage }),
        usageEvent({ model: 'gpt-image-1-mini', timestamp: '2026-11-14T10:00:00Z', usage }),
      ],
    });
    // A negotiated price at a provider with no list price for the model, from Nov 13 on: it sells the model now,
    // but not on Nov 12.
    const put = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'acme',
      model: 'gpt-image-1-mini',
      prices: { input_text: '2.00', output_image: '8.00' },
      effective_from: '2026-11-13T00:00:00Z',
    });
    expect(put.status).toBe(200);
    const [model] = (await compare(project.projectId, 'from=2026-11-12&to=2026-11-14')).models;
    // 120 x $2 + 4,160 x $8 per 1M = $0.03352 a call at openai and azure alike.
    expect(model.at_each_provider.map((p: any) => [p.provider, p.cost_usd]).sort()).toEqual([
      ['azure', '0.100560'],
      ['openai', '0.100560'],
    ]);
    expect(model.not_compared).toEqual([
      {
        provider: 'acme',
        reason: '2 calls could not be priced at acme: no price for gpt-image-1-mini there on 2026-11-12 (UTC)',
      },
    ]);
  });
});

describe('basis=ingested in the summary', () => {
  it('forecasts the period on the costs given at ingest, not on the restated ones', async () => {
    const t = await startTestApp();
    try {
      const project = await projectWithIngestKey(t.http);
      const reports = t.app.get(ReportsService);
      // A Wednesday noon; a call on each of the 25 days before it (weekly-rhythm forecast: 21 or more of 28 days).
      const now = new Date('2026-11-18T12:00:00Z');
      const events = Array.from({ length: 25 }, (_, i) =>
        usageEvent({ timestamp: new Date(now.getTime() - (i + 1) * 86_400_000).toISOString() }),
      );
      expect((await project.client.post('/v1/events', { events })).body.accepted).toBe(25);
      const summary = (basis: string) =>
        reports.summary(parseReportQuery({ project: project.projectId, basis }, { buckets: false }), 'month', now);
      const before = await summary('ingested');
      expect(before.forecast_method).toBe('weekly_rhythm');
      expect((await summary('restated')).forecast).toBe(before.forecast);

      // Image output at $15 instead of $30 from Oct 1, and the calls re-priced: restated costs halve, ingested stay.
      const put = await t.http.request('PUT', '/v1/pricing/overrides', {
        provider: 'openai',
        model: 'gpt-image-2',
        prices: { output_image: '15.00' },
        effective_from: '2026-10-01T00:00:00Z',
      });
      expect(put.status).toBe(200);
      const reprice = await t.http.post('/v1/pricing/reprice', { from: '2026-10-01', to: '2026-11-19' });
      expect(reprice.body.events_changed).toBe(25);

      const ingested = await summary('ingested');
      expect([ingested.spent, ingested.forecast, ingested.forecast_method]).toEqual([
        before.spent,
        before.forecast,
        'weekly_rhythm',
      ]);
      const restated = await summary('restated');
      expect(restated.spent).not.toBe(before.spent);
      expect(restated.forecast).not.toBe(before.forecast);
    } finally {
      await t.close();
    }
  });
});
