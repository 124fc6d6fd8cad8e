import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';
import { eventually } from '../support/eventually';

/**
 * Partly priced, unpriced and per-image priced events (issue 10, items 5 and 6),
 * with figures computed by hand from the built-in catalog:
 * gpt-image-1 on openai: text in $5, image in $10, image out $40 per 1M, no text-output rate.
 */
describe('partly priced and per-image priced events', () => {
  let t: TestApp;
  let admin: HttpClient;
  let viewer: HttpClient;
  let ingest: HttpClient;
  let db: DataSource;

  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  // 50 x $5 + 4,160 x $40 per 1M = $0.16665; the 100 text output tokens have no rate.
  const partly = usageEvent({
    model: 'gpt-image-1',
    timestamp: minutesAgo(3),
    usage: { input_text_tokens: 50, output_image_tokens: 4160, output_text_tokens: 100 },
  });
  // Nothing of this call has a rate: unpriced, not $0.
  const textOnly = usageEvent({
    model: 'gpt-image-1',
    timestamp: minutesAgo(3),
    usage: { output_text_tokens: 100 },
    images: 0,
  });
  // 120 x $5 + 1,290 x $8 + 4,160 x $30 per 1M = $0.13572
  const priced = usageEvent({
    model: 'gpt-image-2',
    timestamp: minutesAgo(3),
    usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
  });

  beforeAll(async () => {
    t = await startTestApp();
    admin = t.http;
    viewer = await viewerClient(admin);
    ({ client: ingest } = await projectWithIngestKey(admin));
    db = t.app.get(DataSource);
  });
  afterAll(async () => t?.close());

  const spendOf = async (model: string) =>
    (await viewer.get(`/v1/reports/spend?model=${model}&group_by=model&from=${minutesAgo(60)}`)).body;
  /** The rollups must agree with the events they were built from, partial counts included. */
  const expectRollupsMatchEvents = async () => {
    const [fromEvents] = await db.query(
      `SELECT trim_scale(coalesce(sum(cost_usd), 0))::text AS cost, count(*) FILTER (WHERE pricing = 'partial')::int AS partial,
              trim_scale(coalesce(sum(cost_usd) FILTER (WHERE pricing = 'partial'), 0))::text AS partial_cost, count(*) FILTER (WHERE pricing = 'unpriced')::int AS unpriced
       FROM usage_events`,
    );
    for (const table of ['usage_rollup_live', 'usage_rollup_user_live']) {
      const [fromRollup] = await db.query(
        `SELECT trim_scale(coalesce(sum(cost_usd), 0))::text AS cost, coalesce(sum(partial_events), 0)::int AS partial,
                trim_scale(coalesce(sum(partial_cost_usd), 0))::text AS partial_cost, coalesce(sum(unpriced_events), 0)::int AS unpriced
         FROM ${table}`,
      );
      expect(fromRollup).toEqual(fromEvents);
    }
  };

  it('stores the cost of the kinds that have rates, marks the event partial and names the kinds without', async () => {
    const res = await ingest.post('/v1/events', { events: [partly, textOnly, priced] });
    expect(res.status).toBe(202);
    expect(res.body.results).toEqual([
      {
        event_id: partly.event_id,
        status: 'accepted',
        cost_usd: '0.166650',
        priced: false,
        pricing: 'partial',
        unpriced_kinds: ['output_text'],
        pricing_note: 'partly priced: no rate for output_text',
      },
      {
        event_id: textOnly.event_id,
        status: 'accepted',
        cost_usd: null,
        priced: false,
        pricing: 'unpriced',
        unpriced_kinds: ['output_text'],
        pricing_note: 'no rate for output_text',
      },
      { event_id: priced.event_id, status: 'accepted', cost_usd: '0.135720', priced: true, pricing: 'priced' },
    ]);
    // A replay answers what was stored.
    const replay = await ingest.post('/v1/events', partly);
    expect(replay.body.results[0]).toMatchObject({
      status: 'duplicate',
      cost_usd: '0.166650',
      pricing: 'partial',
      unpriced_kinds: ['output_text'],
    });
    await expectRollupsMatchEvents();
  });

  it('counts partly priced events in totals and says how many there are and how much they hold', async () => {
    const spend = await spendOf('gpt-image-1');
    expect(spend).toMatchObject({
      total: '0.166650',
      events: 2,
      partial_events: 1,
      partial_cost_usd: '0.166650',
      unpriced_events: 1,
    });
    const both = (await viewer.get(`/v1/reports/spend?group_by=none&from=${minutesAgo(60)}`)).body;
    // $0.16665 + $0.13572: the partly priced call is in the total.
    expect(both).toMatchObject({
      total: '0.302370',
      events: 3,
      partial_events: 1,
      partial_cost_usd: '0.166650',
      unpriced_events: 1,
    });

    const summary = (await viewer.get('/v1/reports/summary?period=month')).body;
    expect(summary).toMatchObject({
      spent: '0.302370',
      partial_events: 1,
      partial_cost_usd: '0.166650',
      unpriced_events: 1,
    });

    const tokens = (await viewer.get(`/v1/reports/tokens?model=gpt-image-1&from=${minutesAgo(60)}`)).body;
    expect(tokens.breakdown).toEqual([
      expect.objectContaining({
        model: 'gpt-image-1',
        cost_usd: '0.166650',
        partial_events: 1,
        partial_cost_usd: '0.166650',
        unpriced_events: 1,
      }),
    ]);

    const listed = (await viewer.get('/v1/events?pricing=partial')).body.data;
    expect(listed).toEqual([
      expect.objectContaining({
        event_id: partly.event_id,
        cost_usd: '0.166650',
        priced: false,
        pricing: 'partial',
        unpriced_kinds: ['output_text'],
        pricing_note: 'partly priced: no rate for output_text',
      }),
    ]);

    // Each series says how many of its calls are not wholly in its total.
    expect(spend.series).toEqual([
      expect.objectContaining({ key: 'gpt-image-1', total: '0.166650', partial_events: 1, unpriced_events: 1 }),
    ]);
    // The actual cost leaves out the unpriced kinds: no saving is computed against it.
    const compare = (await viewer.get(`/v1/reports/compare-providers?model=gpt-image-1&from=${minutesAgo(60)}`)).body;
    expect(compare.models).toEqual([
      expect.objectContaining({
        model: 'gpt-image-1',
        actual_total_usd: '0.166650',
        actual_complete: false,
        actual: [{ provider: 'openai', cost_usd: '0.166650', unpriced_events: 1, partial_events: 1 }],
      }),
    ]);
    expect(compare.models[0].at_each_provider.every((p: any) => p.saving_usd === null)).toBe(true);

    const coverage = (await viewer.get('/v1/pricing/coverage')).body;
    expect(coverage.events).toMatchObject({ total: 3, priced: 1, partial: 1, unpriced: 1 });
    // Tokens of fully priced events only: 120 + 1,290 + 4,160 of 5,570 + 4,310 + 100.
    expect(coverage.tokens).toEqual({ total: 9980, in_priced_events: 5570, priced_share: '0.5581' });
    expect(coverage.partial_cost_usd).toBe('0.166650');
    expect(coverage.partial_models).toEqual([
      expect.objectContaining({
        provider: 'openai',
        model: 'gpt-image-1',
        events: 1,
        cost_usd: '0.166650',
        unpriced_kinds: ['output_text'],
      }),
    ]);
    expect(coverage.unpriced_models).toEqual([
      expect.objectContaining({ provider: 'openai', model: 'gpt-image-1', events: 1, unpriced_kinds: ['output_text'] }),
    ]);

    const csv = (await viewer.get(`/v1/reports/export.csv?raw=1&from=${minutesAgo(60)}`)).text;
    const header = csv
      .replace(/^\ufeff/, '')
      .split('\r\n')[0]
      .split(',');
    const row = csv
      .split('\r\n')
      .find((line) => line.includes(partly.event_id))!
      .split(',');
    expect(row[header.indexOf('pricing')]).toBe('partial');
    expect(row[header.indexOf('unpriced_kinds')]).toBe('output_text');
    expect(row[header.indexOf('cost_usd')]).toBe('0.166650');
  });

  it('re-prices partly priced and unpriced events when the missing rate arrives', async () => {
    const override = await admin.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-1',
      effective_from: minutesAgo(60),
      prices: {
        input_text: '5.00',
        cached_input_text: '1.25',
        input_image: '10.00',
        cached_input_image: '2.50',
        output_image: '40.00',
        output_text: '10.00',
      },
    });
    expect(override.status).toBe(200);
    // $0.16665 + 100 x $10 per 1M = $0.16765; the text-only call: $0.001.
    await eventually(async () =>
      expect(await spendOf('gpt-image-1')).toMatchObject({
        total: '0.168650',
        partial_events: 0,
        partial_cost_usd: '0.000000',
        unpriced_events: 0,
      }),
    );
    const [stored] = await db.query(
      `SELECT cost_usd::text AS cost, pricing, unpriced_kinds, cost_ingested_usd::text AS ingested FROM usage_events WHERE event_id = $1`,
      [partly.event_id],
    );
    // The as-ingested cost stays beside the restated one, and every report can add it up (basis=ingested).
    expect(stored).toEqual({ cost: '0.16765', pricing: 'priced', unpriced_kinds: null, ingested: '0.16665' });
    const ingested = `model=gpt-image-1&basis=ingested&from=${minutesAgo(60)}`;
    expect((await viewer.get(`/v1/reports/spend?${ingested}`)).body.total).toBe('0.166650');
    expect((await viewer.get(`/v1/reports/tokens?${ingested}`)).body.breakdown[0].cost_usd).toBe('0.166650');
    expect((await viewer.get(`/v1/reports/compare-providers?${ingested}`)).body.actual_total_usd).toBe('0.166650');
    // The month: $0.16665 + $0.13572 as ingested, $0.16865 + $0.13572 restated.
    expect((await viewer.get('/v1/reports/summary?period=month&basis=ingested')).body.spent).toBe('0.302370');
    expect((await viewer.get('/v1/reports/summary?period=month')).body.spent).toBe('0.304370');
    await expectRollupsMatchEvents();
  });

  it('prices images per image by size and quality, and leaves a size with no price unpriced, never $0', async () => {
    await admin.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'dall-e-3',
      effective_from: minutesAgo(60),
      prices: { per_image: '0.04', image_prices: { 'hd/1024x1024': '0.08', 'hd/1024x1792': '0.12' } },
    });
    await admin.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'dall-e-2',
      effective_from: minutesAgo(60),
      prices: { image_prices: { '*/1024x1024': '0.02' } },
    });
    const image = (model: string, images: number, size: string | null, quality: string | null) =>
      usageEvent({ model, timestamp: minutesAgo(2), usage: null, images, image_size: size, image_quality: quality });
    const tall = image('dall-e-3', 2, '1024x1792', 'hd');
    const anySize = image('dall-e-3', 1, '512x512', null);
    const small = image('dall-e-2', 1, '256x256', null);
    // A Responses image tool call that carried no usage: images made, tokens unknown; gpt-image-2 has no per-image
    // price.
    const toolCall = image('gpt-image-2', 1, '1024x1024', 'high');
    const res = await ingest.post('/v1/events', { events: [tall, anySize, small, toolCall] });
    expect(
      res.body.results.map((r: any) => [r.cost_usd, r.pricing, r.unpriced_kinds ?? null, r.pricing_note ?? null]),
    ).toEqual([
      ['0.240000', 'priced', null, null],
      ['0.040000', 'priced', null, null],
      // The override names only 1024x1024: the list (built-in catalog, OpenAI's $0.016 for 256x256) prices the rest.
      ['0.016000', 'priced', null, null],
      [null, 'unpriced', ['per_image'], 'no per-image price for high 1024x1024 and no image output tokens'],
    ]);
    // What the same usage costs at each provider: per-image usage is priced per image too.
    const compare = (await viewer.get(`/v1/reports/compare-providers?model=dall-e-3&from=${minutesAgo(60)}`)).body;
    expect(compare.models).toEqual([
      expect.objectContaining({
        model: 'dall-e-3',
        actual_total_usd: '0.280000',
        at_each_provider: [expect.objectContaining({ provider: 'openai', cost_usd: '0.280000' })],
      }),
    ]);
    await expectRollupsMatchEvents();
  });

  it('lets an override of one rate keep the list price of the others', async () => {
    // A negotiated image output rate for gpt-image-1-mini: $6 instead of $8; text input stays at the list's $2.
    const deal = await admin.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-1-mini',
      effective_from: minutesAgo(60),
      prices: { output_image: '6.00' },
    });
    expect(deal.status).toBe(200);
    const call = usageEvent({
      model: 'gpt-image-1-mini',
      timestamp: minutesAgo(1),
      usage: { input_text_tokens: 1_000_000, output_image_tokens: 1_000_000 },
    });
    // 1M x $2 + 1M x $6 per 1M
    expect((await ingest.post('/v1/events', call)).body.results[0]).toMatchObject({
      cost_usd: '8.000000',
      pricing: 'priced',
    });
    const coverage = (await viewer.get('/v1/pricing/coverage')).body;
    expect(coverage.rate_sources.find((m: any) => m.model === 'gpt-image-1-mini').kinds).toEqual([
      {
        kind: 'input_text',
        quantity: 1_000_000,
        priced_with: 'input_text',
        basis: 'own',
        rate_usd: '2.000000',
        source: 'catalog',
      },
      {
        kind: 'output_image',
        quantity: 1_000_000,
        priced_with: 'output_image',
        basis: 'own',
        rate_usd: '6.000000',
        source: 'override',
      },
    ]);
  });

  it('refuses malformed per-image override keys with the field named', async () => {
    const res = await admin.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'dall-e-3',
      prices: { image_prices: { 'hd-1024': '0.08' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'prices.image_prices.hd-1024' })]);
  });

  it('stores a successful call with no tokens and no images as unpriced, never a priced $0; a failed one costs $0', async () => {
    const nothing = (status: string) =>
      usageEvent({
        model: 'dall-e-3',
        timestamp: minutesAgo(2),
        usage: null,
        images: 0,
        image_size: '1024x1024',
        image_quality: 'hd',
        status,
      });
    const res = await ingest.post('/v1/events', { events: [nothing('ok'), nothing('error')] });
    expect(
      res.body.results.map((r: any) => [r.cost_usd, r.pricing, r.unpriced_kinds ?? null, r.pricing_note ?? null]),
    ).toEqual([
      [null, 'unpriced', ['usage'], 'a successful call that reported no tokens and no images: nothing to price it by'],
      ['0.000000', 'priced', null, null],
    ]);
    await expectRollupsMatchEvents();
  });
});
