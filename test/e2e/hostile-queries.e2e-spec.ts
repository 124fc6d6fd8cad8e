import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient, HttpResponse } from '../support/http';

/**
 * Hostile and awkward queries a tester sent: each used to answer 500 or a
 * message that did not say what was wrong. Every one must be a 400 (or 409)
 * problem+json naming the field, before any query, or a right answer.
 *
 * Figures are hand-computed: gpt-image-2 image output costs $30 per 1M
 * tokens on openai, so 1,000 tokens = $0.030000.
 */
const NUL_MESSAGE = 'must not contain NUL characters';
const PROBLEM = /^application\/problem\+json/;

async function ingest(client: HttpClient, events: Array<Record<string, unknown>>): Promise<void> {
  const res = await client.post('/v1/events', { events });
  if (res.status !== 202 || res.body.accepted !== events.length) throw new Error(`ingest: ${res.status} ${res.text}`);
}

function expectProblem(
  res: HttpResponse,
  status: number,
  errors: Array<{ path: string; message: unknown }>,
  context = '',
) {
  expect({ context, status: res.status, type: res.headers.get('content-type'), errors: res.body?.errors }).toEqual({
    context,
    status,
    type: expect.stringMatching(PROBLEM),
    errors,
  });
}

describe('hostile queries', () => {
  let t: TestApp;
  let admin: HttpClient;
  let viewer: HttpClient;
  let ingestClient: HttpClient;
  const secondsAgo = (s: number) => new Date(Date.now() - s * 1000).toISOString();
  const event = (user: string, outputTokens: number, extra: Record<string, unknown> = {}) =>
    usageEvent({
      timestamp: secondsAgo(5),
      usage: { output_image_tokens: outputTokens },
      images: 1,
      dimensions: { user, team: 'growth', feature: 'avatars' },
      tags: {},
      ...extra,
    });

  beforeAll(async () => {
    t = await startTestApp();
    admin = t.http;
    viewer = await viewerClient(admin);
    const project = await projectWithIngestKey(admin, 'hostile');
    ingestClient = project.client;
    await ingest(ingestClient, [
      event('u1', 1000), // $0.03
      event('u1', 1000), // $0.03
      event('u2', 3000), // $0.09
    ]);
  });
  afterAll(() => t?.close());

  const ok = async (path: string) => {
    const res = await viewer.get(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body;
  };

  describe('the summary by user (was 500: column "team" does not exist in the user rollup)', () => {
    it("summary?user=u1 adds up only u1's spend, with movers by project and model (the user rollup has no team or feature)", async () => {
      const body = await ok('/v1/reports/summary?user=u1&period=month');
      expect(body).toMatchObject({ spent: '0.060000', events: 2, unpriced_events: 0, partial_events: 0 });
      expect(body.top_movers.map((m: any) => [m.dimension, m.label, m.current])).toEqual(
        expect.arrayContaining([
          ['project', 'hostile', '0.060000'],
          ['model', 'gpt-image-2', '0.060000'],
        ]),
      );
      expect(body.top_movers.map((m: any) => m.dimension).sort()).toEqual(['model', 'project']);
    });

    it('summary?user=u1,u2 and summary?group_by=user add up every user', async () => {
      expect(await ok('/v1/reports/summary?user=u1,u2')).toMatchObject({ spent: '0.150000', events: 3 });
      expect(await ok('/v1/reports/summary?group_by=user')).toMatchObject({ spent: '0.150000', events: 3 });
    });

    it('the summary without a user filter still has movers by team and feature (the main rollup), with the same total', async () => {
      const body = await ok('/v1/reports/summary');
      expect(body).toMatchObject({ spent: '0.150000', events: 3 });
      expect(body.top_movers.map((m: any) => [m.dimension, m.key, m.current])).toEqual(
        expect.arrayContaining([
          ['team', 'growth', '0.150000'],
          ['feature', 'avatars', '0.150000'],
        ]),
      );
    });

    it('a user filter still refuses the dimensions the user rollup does not have, naming them', async () => {
      expectProblem(await viewer.get('/v1/reports/summary?user=u1&team=growth'), 400, [
        { path: 'team', message: 'cannot be combined with user (user reports: provider, model and project)' },
      ]);
    });
  });

  describe('NUL characters in report filters (were 500, and a cut-off CSV stream)', () => {
    const ENDPOINTS = [
      '/v1/reports/spend',
      '/v1/reports/tokens',
      '/v1/reports/summary',
      '/v1/reports/compare-providers',
      '/v1/reports/export.csv',
      '/v1/reports/export.csv?raw=1',
      '/v1/charts/spend.png',
      '/v1/charts/tokens.png',
      '/v1/charts/providers.png',
    ];
    const HOSTILE: Array<[query: string, path: string]> = [
      ['model=%00', 'model'],
      ['team=a%00b', 'team'],
      ['provider=openai%00', 'provider'],
      ['user=u1%00', 'user'],
      ['project=%00', 'project'],
      ['feature=%00x', 'feature'],
      ['environment=prod%00', 'environment'],
      ['tag:x=%00', 'tag:x'],
      ['tag:%00=x', 'tag:\u0000'],
      ['group_by=tag:%00', 'group_by'],
      ['tz=UTC%00', 'tz'],
    ];

    it.each(ENDPOINTS)('%s refuses every filter with a NUL character: 400 naming the field', async (endpoint) => {
      for (const [query, path] of HOSTILE) {
        const url = `${endpoint}${endpoint.includes('?') ? '&' : '?'}${query}`;
        expectProblem(await viewer.get(url), 400, [{ path, message: NUL_MESSAGE }], url);
      }
    });

    it('names every field with a NUL at once, beside the other bad fields', async () => {
      const res = await viewer.get('/v1/reports/spend?model=%00&team=a%00b&granularity=fortnight');
      expectProblem(res, 400, [
        { path: 'model', message: NUL_MESSAGE },
        { path: 'team', message: NUL_MESSAGE },
        { path: 'granularity', message: 'must be one of hour, day, week, month' },
      ]);
    });

    it('the raw export answers a whole CSV again once the filter is clean', async () => {
      const res = await viewer.get(`/v1/reports/export.csv?raw=1&user=u1&from=${encodeURIComponent(secondsAgo(3600))}`);
      expect(res.status).toBe(200);
      expect(
        res.text
          .replace(/^\ufeff/, '')
          .trim()
          .split('\r\n'),
      ).toHaveLength(3); // header + u1's two events
    });
  });

  describe('NUL characters in the events list filters (were 500)', () => {
    const HOSTILE: Array<[query: string, path: string]> = [
      ['model=%00', 'model'],
      ['provider=%00', 'provider'],
      ['team=a%00b', 'team'],
      ['user=%00', 'user'],
      ['feature=%00', 'feature'],
      ['environment=%00', 'environment'],
      ['tag:x=%00', 'tag:x'],
      ['tag:%00=x', 'tag:\u0000'],
    ];

    // Titles show the path JSON-escaped: a raw NUL in a test name would make the output binary.
    it.each(HOSTILE.map(([query, path]) => [query, JSON.stringify(path), path]))(
      'GET /v1/events?%s: 400 naming %s',
      async (query, _shown, path) => {
        expectProblem(await viewer.get(`/v1/events?${query}`), 400, [{ path, message: NUL_MESSAGE }]);
      },
    );

    it('refuses a forged cursor whose parts cannot be queried (a NUL, a project that is no UUID): 400, not 500', async () => {
      const cursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
      for (const parts of [
        ['2026-05-01T00:00:00.000000Z', randomUUID(), 'a\u0000b'],
        ['2026-05-01T00:00:00.000000Z', 'not-a-uuid', 'e1'],
        ['Tuesday 10:00', randomUUID(), 'e1'],
      ]) {
        expectProblem(
          await viewer.get(`/v1/events?cursor=${cursor(parts)}`),
          400,
          [{ path: 'cursor', message: 'is not a cursor this API gave out' }],
          JSON.stringify(parts),
        );
      }
    });

    it('a cursor the API gave out still pages', async () => {
      const first = await ok('/v1/events?limit=2');
      expect(first.data).toHaveLength(2);
      const second = await ok(`/v1/events?limit=2&cursor=${first.next_cursor}`);
      expect(second.data).toHaveLength(1);
      expect(second.next_cursor).toBeNull();
    });
  });

  describe('numeric query parameters say what is wrong (was "must be a number" for limit=0)', () => {
    const CASES: Array<[value: string, message: string]> = [
      ['0', 'must be at least 1'],
      ['-3', 'must be at least 1'],
      ['1.5', 'must be a whole number'],
      ['101', 'must be at most 100'],
      ['1e400', 'must be at most 100'],
      ['abc', 'must be a number (a whole number from 1 to 100)'],
      ['', 'must be a number (a whole number from 1 to 100)'],
      ['0x10', 'must be a number (a whole number from 1 to 100)'],
    ];

    it.each(['spend', 'tokens', 'summary', 'compare-providers', 'export.csv'])(
      'reports/%s: limit=0, 1.5, 101, abc... each with its message',
      async (report) => {
        for (const [value, message] of CASES) {
          expectProblem(
            await viewer.get(`/v1/reports/${report}?limit=${value}`),
            400,
            [{ path: 'limit', message }],
            `limit=${value}`,
          );
        }
      },
    );

    it('reports take limit=1 (one series and the rest) and limit=100', async () => {
      const one = (await ok('/v1/reports/spend?limit=1&group_by=user')).series;
      expect([one.length, one[0].key, one[0].total]).toEqual([2, 'u2', '0.090000']);
      expect((await ok('/v1/reports/spend?limit=100&group_by=user')).series.map((s: any) => [s.key, s.total])).toEqual([
        ['u2', '0.090000'],
        ['u1', '0.060000'],
      ]);
    });

    it('the events list: limit=0, 1.5, 1001, abc each with its message; 1000 is taken', async () => {
      for (const [value, message] of [
        ['0', 'must be at least 1'],
        ['2.5', 'must be a whole number'],
        ['1001', 'must be at most 1000'],
        ['abc', 'must be a number (a whole number from 1 to 1000)'],
      ]) {
        expectProblem(
          await viewer.get(`/v1/events?limit=${value}`),
          400,
          [{ path: 'limit', message }],
          `limit=${value}`,
        );
      }
      expect((await ok('/v1/events?limit=1000')).data).toHaveLength(3);
    });
  });

  describe('overrides', () => {
    const FUTURE = '2031-01-01T00:00:00Z';

    it('a second override of the same provider and model from the same instant is a 409 problem+json that says so (was 500)', async () => {
      const first = await admin.request('PUT', '/v1/pricing/overrides', {
        provider: 'openai',
        model: 'gpt-image-1-mini',
        effective_from: FUTURE,
        prices: { output_image: '6.00' },
      });
      expect(first.status).toBe(200);
      // The same instant written another way, and the model as OpenRouter spells it.
      for (const again of [
        { provider: 'openai', model: 'gpt-image-1-mini', effective_from: FUTURE, prices: { output_image: '5.00' } },
        {
          provider: 'OpenAI',
          model: 'openai/GPT-Image-1-Mini',
          effective_from: '2031-01-01T01:00:00+01:00',
          prices: { output_image: '5.00' },
        },
      ]) {
        const res = await admin.request('PUT', '/v1/pricing/overrides', again);
        expectProblem(res, 409, [
          {
            path: 'effective_from',
            message: 'an override of this provider and model already starts at this instant (2031-01-01T00:00:00.000Z)',
          },
        ]);
        expect(res.body).toMatchObject({
          type: 'urn:tokentally:problem:conflict',
          title: 'Conflict',
          detail: expect.stringMatching(
            /^An override of openai\/gpt-image-1-mini already starts at 2031-01-01T00:00:00\.000Z/,
          ),
          existing_id: first.body.id,
        });
      }
      // The first one is untouched; a later start takes over from there.
      expect(
        (await viewer.get('/v1/pricing/overrides')).body.data.filter((o: any) => o.model === 'gpt-image-1-mini'),
      ).toEqual([expect.objectContaining({ id: first.body.id, prices: { output_image: '6.00' }, effective_to: null })]);
      const later = await admin.request('PUT', '/v1/pricing/overrides', {
        provider: 'openai',
        model: 'gpt-image-1-mini',
        effective_from: '2031-01-01T00:00:01Z',
        prices: { output_image: '5.00' },
      });
      expect(later.status).toBe(200);
      await admin.delete(`/v1/pricing/overrides/${later.body.id}`);
      await admin.delete(`/v1/pricing/overrides/${first.body.id}`);
    });

    it('overrides of the same start sent at once: one is stored, every other is a 409, none a 500', async () => {
      const put = () =>
        admin.request('PUT', '/v1/pricing/overrides', {
          provider: 'openai',
          model: 'gpt-image-1',
          effective_from: '2032-06-01T00:00:00Z',
          prices: { output_image: '30.00' },
        });
      const answers = await Promise.all([put(), put(), put(), put(), put()]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409]);
      for (const answer of answers.filter((a) => a.status === 409)) {
        expect(answer.body.detail).toMatch(
          /^An override of openai\/gpt-image-1 already starts at 2032-06-01T00:00:00\.000Z/,
        );
      }
      await admin.delete(`/v1/pricing/overrides/${answers.find((a) => a.status === 200)!.body.id}`);
    });

    it('a second discount of the same provider from the same instant is a 409 too', async () => {
      const first = await admin.request('PUT', '/v1/pricing/overrides', {
        provider: 'vercel',
        discount_pct: '10',
        effective_from: FUTURE,
      });
      expect(first.status).toBe(200);
      const res = await admin.request('PUT', '/v1/pricing/overrides', {
        provider: 'vercel',
        discount_pct: '12',
        effective_from: FUTURE,
      });
      expectProblem(res, 409, [
        {
          path: 'effective_from',
          message: 'a discount of this provider already starts at this instant (2031-01-01T00:00:00.000Z)',
        },
      ]);
      expect(res.body.detail).toMatch(/^A discount of provider vercel already starts at 2031-01-01T00:00:00\.000Z/);
      await admin.delete(`/v1/pricing/overrides/${first.body.id}`);
    });

    it('takes per-image keys in any case and the 1024-x-1024 spelling, stores the key ingest looks up, and prices by it', async () => {
      const put = await admin.request('PUT', '/v1/pricing/overrides', {
        provider: 'openai',
        model: 'dall-e-3',
        effective_from: secondsAgo(3600),
        prices: {
          image_prices: {
            'HIGH/1024X1024': '0.20',
            'hd/1024-x-1792': '0.12',
            'Standard/*': '0.04',
            '*/1792-X-1024': '0.10',
          },
        },
      });
      expect(put.status).toBe(200);
      expect(put.body.image_prices).toEqual({
        'high/1024x1024': '0.20',
        'hd/1024x1792': '0.12',
        'standard/*': '0.04',
        '*/1792x1024': '0.10',
      });
      const image = (size: string, quality: string) =>
        usageEvent({
          model: 'dall-e-3',
          timestamp: secondsAgo(2),
          usage: null,
          images: 1,
          image_size: size,
          image_quality: quality,
          dimensions: {},
          tags: {},
        });
      const res = await ingestClient.post('/v1/events', {
        events: [image('1024x1792', 'HD'), image('1024-x-1024', 'high'), image('1792x1024', 'low')],
      });
      expect(res.body.results.map((r: any) => [r.cost_usd, r.pricing])).toEqual([
        ['0.120000', 'priced'],
        ['0.200000', 'priced'],
        ['0.100000', 'priced'],
      ]);
      await admin.delete(`/v1/pricing/overrides/${put.body.id}`);
    });

    it('still refuses per-image keys that are not <quality>/<size>, and two spellings of one key', async () => {
      for (const key of ['hd-1024', 'hd/1024', 'hd/1024x1024/x', 'hd/x1024', 'hd/0x1024', '/1024x1024', 'hd/']) {
        const res = await admin.request('PUT', '/v1/pricing/overrides', {
          provider: 'openai',
          model: 'dall-e-3',
          prices: { image_prices: { [key]: '0.08' } },
        });
        expectProblem(
          res,
          400,
          [
            {
              path: `prices.image_prices.${key}`,
              message: expect.stringMatching(/^(must be <quality>\/<size>|the size must have)/),
            },
          ],
          key,
        );
      }
      const twice = await admin.request('PUT', '/v1/pricing/overrides', {
        provider: 'openai',
        model: 'dall-e-3',
        prices: { image_prices: { 'HD/1024x1024': '0.08', 'hd/1024-x-1024': '0.09' } },
      });
      expectProblem(twice, 400, [
        {
          path: 'prices.image_prices.hd/1024-x-1024',
          message: 'is the same price key as "HD/1024x1024" (both are hd/1024x1024); give it once',
        },
      ]);
    });
  });

  describe('coverage and reprice take dates like the reports (a date is a UTC day)', () => {
    const DAY = '2025-03-10';
    let inDay: Array<Record<string, any>>;

    beforeAll(async () => {
      const at = (timestamp: string, id: string) =>
        usageEvent({
          event_id: id,
          model: 'gpt-image-1',
          timestamp,
          usage: { output_image_tokens: 1000 },
          images: 1,
          dimensions: {},
          tags: {},
        });
      inDay = [
        at('2025-03-10T00:00:00Z', `day-start-${randomUUID()}`),
        at('2025-03-10T23:59:59.999Z', `day-end-${randomUUID()}`),
      ];
      await ingest(ingestClient, [
        ...inDay,
        at('2025-03-09T23:59:59.999Z', `before-${randomUUID()}`),
        at('2025-03-11T00:00:00Z', `after-${randomUUID()}`),
      ]);
    });

    it("GET /v1/pricing/coverage?from=<date>&to=<date>: from the day's start to the next midnight, that day's events only", async () => {
      const body = await ok(`/v1/pricing/coverage?from=${DAY}&to=${DAY}`);
      expect(body).toMatchObject({
        from: '2025-03-10T00:00:00.000Z',
        to: '2025-03-11T00:00:00.000Z',
        events: { total: 2 },
      });
      // $40 per 1M image output tokens for gpt-image-1: 2 x 1,000 tokens = $0.08.
      expect(body.cost_usd).toBe('0.080000');
      expect((await ok(`/v1/pricing/coverage?from=2025-03-09&to=2025-03-11`)).events.total).toBe(4);
      // A date beside a date-time.
      expect(await ok(`/v1/pricing/coverage?from=${DAY}&to=2025-03-10T12:00:00Z`)).toMatchObject({
        from: '2025-03-10T00:00:00.000Z',
        to: '2025-03-10T12:00:00.000Z',
        events: { total: 1 },
      });
    });

    it('coverage refuses dates that do not exist, other shapes, and a to before from, naming the field', async () => {
      expectProblem(await viewer.get('/v1/pricing/coverage?from=2025-02-30'), 400, [
        { path: 'from', message: 'is not a date of the calendar (years 0001 to 9999): 2025-02-30 does not exist' },
      ]);
      expectProblem(await viewer.get('/v1/pricing/coverage?to=10/03/2025'), 400, [
        {
          path: 'to',
          message: 'must be a date (2026-11-01) or an RFC 3339 date-time with an offset (2026-11-01T10:00:00Z)',
        },
      ]);
      expectProblem(await viewer.get('/v1/pricing/coverage?from=2025-03-11&to=2025-03-10'), 400, [
        { path: 'to', message: 'must be after from' },
      ]);
      expectProblem(await viewer.get('/v1/pricing/coverage?from=%00'), 400, [
        { path: 'from', message: expect.stringMatching(/^must be a date/) },
      ]);
    });

    it('POST /v1/pricing/reprice with from=<date>&to=<date> re-prices that UTC day', async () => {
      const res = await admin.post('/v1/pricing/reprice', { from: DAY, to: DAY, model: 'gpt-image-1' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        reason: 'manual',
        from: '2025-03-10T00:00:00.000Z',
        to: '2025-03-11T00:00:00.000Z',
        model: 'gpt-image-1',
        events_examined: 2,
      });
    });

    it('reprice refuses dates that do not exist and a to before from', async () => {
      expectProblem(await admin.post('/v1/pricing/reprice', { from: '2025-02-29', to: DAY }), 400, [
        { path: 'from', message: 'is not a date of the calendar (years 0001 to 9999): 2025-02-29 does not exist' },
      ]);
      expectProblem(await admin.post('/v1/pricing/reprice', { from: '2025-03-11', to: DAY }), 400, [
        { path: 'to', message: 'must be after from' },
      ]);
      expectProblem(await admin.post('/v1/pricing/reprice', { from: 20250310, to: DAY }), 400, [
        { path: 'from', message: expect.stringMatching(/^must be a date/) },
      ]);
      expectProblem(
        await admin.post('/v1/pricing/reprice', {
          from: DAY,
          to: DAY,
          provider: 'openai\u0000',
          model: 'gpt-image-1\u0000',
        }),
        400,
        [
          { path: 'provider', message: NUL_MESSAGE },
          { path: 'model', message: NUL_MESSAGE },
        ],
      );
    });

    it('the price history refuses a NUL in provider or model: 400 naming it', async () => {
      expectProblem(await viewer.get('/v1/pricing/history?provider=openai%00&model=%00x'), 400, [
        { path: 'provider', message: NUL_MESSAGE },
        { path: 'model', message: NUL_MESSAGE },
      ]);
    });
  });
});
