import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
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
      ['-0.01', 'must be a non-negative decimal such as "0.0387", with at most 12 digits before and after the point'],
      ['1e-3', 'must be a non-negative decimal such as "0.0387", with at most 12 digits before and after the point'],
      [
        '0.1234567890123',
        'must be a non-negative decimal such as "0.0387", with at most 12 digits before and after the point',
      ],
      ['', 'must be a non-negative decimal such as "0.0387", with at most 12 digits before and after the point'],
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
});
