import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';

/**
 * A cost the provider reported for a call itself (OpenRouter's `usage.cost`),
 * sent as `provider_cost_usd`: stored exactly beside our own cost, refused
 * when it is not an exact decimal, and compared with ours by
 * GET /v1/reports/provider-cost. Figures are computed by hand from the events.
 */
describe('provider-reported cost', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let ingest: HttpClient;
  let projectId: string;

  // openai gpt-image-2: 120 text tokens in at $5/1M and 4160 image tokens out at $30/1M = $0.125400 each.
  const call = (id: string, extra: Record<string, unknown> = {}) =>
    usageEvent({ event_id: id, timestamp: '2026-11-10T10:00:00Z', tags: {}, ...extra });

  beforeAll(async () => {
    t = await startTestApp({ RUN_JOBS: 'false' });
    viewer = await viewerClient(t.http);
    ({ client: ingest, projectId } = await projectWithIngestKey(t.http));
  });
  afterAll(() => t?.close());

  const report = async (query: string) => {
    const res = await viewer.get(`/v1/reports/provider-cost?project=${projectId}&${query}`);
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${res.text}`);
    return res.body;
  };

  it('refuses a provider cost that is not an exact non-negative decimal string, naming the field, and keeps the valid events of the batch', async () => {
    const bad: Array<[unknown, string]> = [
      [0.0387, 'must be a decimal string such as "0.0387" (USD; a JSON number would carry money in a float)'],
      [
        '-0.01',
        'must be a non-negative decimal such as "0.0387", with at most 12 digits before the point and 24 after',
      ],
      ['1e-3', 'must be a non-negative decimal such as "0.0387", with at most 12 digits before the point and 24 after'],
      [
        '0.1234567890123456789012345', // 25 decimals
        'must be a non-negative decimal such as "0.0387", with at most 12 digits before the point and 24 after',
      ],
      ['', 'must be a non-negative decimal such as "0.0387", with at most 12 digits before the point and 24 after'],
      [
        '1234567890123',
        'must be a non-negative decimal such as "0.0387", with at most 12 digits before the point and 24 after',
      ],
    ];
    const res = await ingest.post('/v1/events', {
      events: [
        call('kept', { provider_cost_usd: '0.123456789012' }),
        ...bad.map(([value], i) => call(`bad-${i}`, { provider_cost_usd: value })),
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected.map((r: { event_id: string; errors: unknown }) => [r.event_id, r.errors])).toEqual(
      bad.map(([, message], i) => [`bad-${i}`, [{ path: `events[${i + 1}].provider_cost_usd`, message }]]),
    );
    const stored = await viewer.get(`/v1/events?project=${projectId}&limit=10`);
    expect(stored.body.data.map((e: Record<string, unknown>) => [e.event_id, e.cost_usd, e.provider_cost_usd])).toEqual(
      [['kept', '0.125400', '0.123456789012']],
    );
  });

  it('compares the reported cost with ours per provider and model, over the calls we priced wholly, each call once', async () => {
    const batch = [
      // Two openai calls reported at $0.13 and $0.1254: theirs $0.2554, ours $0.2508, +$0.0046, +1.83 %.
      call('o1', { provider_cost_usd: '0.13' }),
      call('o2', { provider_cost_usd: '0.1254' }),
      // A call of a model we have no price for: its reported cost is counted apart, not compared.
      call('u1', { model: 'mystery-image-model', provider_cost_usd: '0.5' }),
      // A call whose provider reported nothing is not in this report.
      call('n1'),
    ];
    expect((await ingest.post('/v1/events', { events: batch })).body.accepted).toBe(4);
    // Sent again (a retry): nothing is counted twice.
    expect((await ingest.post('/v1/events', { events: batch })).body.duplicates).toBe(4);

    const body = await report('from=2026-11-10&to=2026-11-11');
    expect(body).toEqual({
      currency: 'USD',
      basis: 'restated',
      from: '2026-11-10T00:00:00.000Z',
      to: '2026-11-12T00:00:00.000Z', // a date `to` includes that day
      rows: [
        {
          provider: 'openai',
          model: 'gpt-image-2',
          // 'kept' of the test before: theirs $0.123456789012, ours $0.1254.
          events: 3,
          tracked_cost_usd: '0.376200',
          provider_cost_usd: '0.378856789012',
          difference_usd: '0.002656789012',
          difference_pct: '0.71',
          not_compared: { events: 0, provider_cost_usd: '0.000000' },
        },
        {
          provider: 'openai',
          model: 'mystery-image-model',
          events: 0,
          tracked_cost_usd: '0.000000',
          provider_cost_usd: '0.000000',
          difference_usd: '0.000000',
          difference_pct: null,
          not_compared: { events: 1, provider_cost_usd: '0.500000' },
        },
      ],
      total: {
        events: 3,
        tracked_cost_usd: '0.376200',
        provider_cost_usd: '0.378856789012',
        difference_usd: '0.002656789012',
        difference_pct: '0.71',
        not_compared: { events: 1, provider_cost_usd: '0.500000' },
      },
    });
  });

  it('takes the filters of every report, and a range without such calls answers empty', async () => {
    await ingest.post('/v1/events', {
      events: [call('t1', { provider_cost_usd: '0.2', tags: { campaign: 'spring' }, dimensions: { team: 'core' } })],
    });
    const tagged = await report('from=2026-11-10&to=2026-11-11&tag:campaign=spring');
    expect(tagged.total).toMatchObject({ events: 1, tracked_cost_usd: '0.125400', provider_cost_usd: '0.200000' });
    // 0.0746 / 0.1254 = 59.489...%
    expect(tagged.total.difference_pct).toBe('59.49');
    expect((await report('from=2026-11-10&to=2026-11-11&team=core')).total.events).toBe(1);
    expect(await report('from=2026-10-01&to=2026-10-02')).toMatchObject({
      rows: [],
      total: { events: 0, tracked_cost_usd: '0.000000', difference_pct: null },
    });
    const bad = await viewer.get('/v1/reports/provider-cost?from=2026-13-01');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('from');
  });
  it('with basis=ingested compares the cost given at ingest: a re-pricing moves the restated figures only', async () => {
    // gpt-image-1-mini at openai, 120 text in at $2 and 4,160 image out at $8 per 1M: $0.03352 a call at ingest.
    const mini = (id: string, timestamp: string) =>
      call(id, { model: 'gpt-image-1-mini', timestamp, provider_cost_usd: '0.04' });
    await ingest.post('/v1/events', {
      events: [mini('m1', '2026-11-20T10:00:00Z'), mini('m2', '2026-11-20T11:00:00Z')],
    });
    // A negotiated image output rate of $4 from Nov 20 and the range re-priced: 120 x $2 + 4,160 x $4 = $0.01688.
    const put = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-1-mini',
      prices: { output_image: '4.00' },
      effective_from: '2026-11-20T00:00:00Z',
    });
    expect(put.status).toBe(200);
    const reprice = await t.http.post('/v1/pricing/reprice', {
      from: '2026-11-20T00:00:00Z',
      to: '2026-11-21T00:00:00Z',
      model: 'gpt-image-1-mini',
    });
    expect(reprice.body).toMatchObject({
      events_changed: 2,
      total_before_usd: '0.067040',
      total_after_usd: '0.033760',
    });

    const restated = await report('from=2026-11-20&to=2026-11-20');
    expect(restated.basis).toBe('restated');
    expect(restated.total).toEqual({
      events: 2,
      tracked_cost_usd: '0.033760',
      provider_cost_usd: '0.080000',
      difference_usd: '0.046240',
      difference_pct: '136.97',
      not_compared: { events: 0, provider_cost_usd: '0.000000' },
    });
    const ingested = await report('from=2026-11-20&to=2026-11-20&basis=ingested');
    expect(ingested.basis).toBe('ingested');
    expect(ingested.total).toEqual({
      events: 2,
      tracked_cost_usd: '0.067040',
      provider_cost_usd: '0.080000',
      difference_usd: '0.012960',
      difference_pct: '19.33',
      not_compared: { events: 0, provider_cost_usd: '0.000000' },
    });
  });

  it('with basis=ingested leaves out of the comparison a call given no cost at ingest, priced since', async () => {
    // No price at ingest (a model nobody prices yet); a price arrives and prices it: $0.0416 by 4,160 x $10 per 1M.
    await ingest.post('/v1/events', {
      events: [
        call('late', {
          model: 'late-image-model',
          timestamp: '2026-11-22T10:00:00Z',
          usage: { output_image_tokens: 4160 },
          provider_cost_usd: '0.05',
        }),
      ],
    });
    const put = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'late-image-model',
      prices: { output_image: '10.00' },
      effective_from: '2026-11-01T00:00:00Z',
    });
    expect(put.status).toBe(200);
    const rows = async (query: string) => (await report(`from=2026-11-22&to=2026-11-22&${query}`)).rows;
    await eventually(async () => expect((await rows('basis=restated'))[0]?.events).toBe(1));
    expect((await rows('basis=restated'))[0]).toMatchObject({
      tracked_cost_usd: '0.041600',
      provider_cost_usd: '0.050000',
    });
    expect((await rows('basis=ingested'))[0]).toMatchObject({
      events: 0,
      tracked_cost_usd: '0.000000',
      not_compared: { events: 1, provider_cost_usd: '0.050000' },
    });
  });

  it('exports each raw event with the cost its provider reported, every digit, and an empty cell when it reported none', async () => {
    const csv = (await viewer.get(`/v1/reports/export.csv?raw=1&project=${projectId}&from=2026-11-10&to=2026-11-10`))
      .text;
    const [header, ...lines] = csv
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    const columns = header.split(',');
    expect(columns.slice(columns.indexOf('cost_usd'), columns.indexOf('cost_usd') + 4)).toEqual([
      'cost_usd',
      'cost_ingested_usd',
      'provider_cost_usd',
      'priced',
    ]);
    const cell = (id: string, name: string) =>
      lines.map((line) => line.split(',')).find((row) => row[3] === id)![columns.indexOf(name)];
    expect([cell('kept', 'provider_cost_usd'), cell('kept', 'cost_usd')]).toEqual(['0.123456789012', '0.125400']);
    expect(cell('o1', 'provider_cost_usd')).toBe('0.130000');
    // Unpriced here: no cost of ours, the provider's all the same.
    expect([cell('u1', 'cost_usd'), cell('u1', 'provider_cost_usd')]).toEqual(['', '0.500000']);
    expect(cell('n1', 'provider_cost_usd')).toBe('');
  });
});
