import fc from 'fast-check';
import { Decimal, formatUsd } from '@tokentally/core';
import { startTestApp, TestApp } from '../support/app';
import { eventually } from '../support/eventually';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient, HttpResponse } from '../support/http';

/**
 * The events explorer's server side (issue 12): the events behind a bar of
 * the spend chart, a series total or a cell of the cost-per-image table add
 * up to that figure to the digit, in every granularity and in zones with
 * whole- and half-hour offsets; the list pages in four orders; one event
 * shows how its cost was made.
 */

const sum = (values: Array<string | null>) =>
  formatUsd(values.reduce<Decimal>((total, v) => (v === null ? total : total.add(Decimal.parse(v))), Decimal.ZERO));

function expectProblem(res: HttpResponse, status: number, paths: string[], context = '') {
  expect({ context, status: res.status, type: res.headers.get('content-type')?.split(';')[0] }).toEqual({
    context,
    status,
    type: 'application/problem+json',
  });
  expect({ context, paths: [...new Set(res.body.errors.map((e: { path: string }) => e.path))].sort() }).toEqual({
    context,
    paths: [...paths].sort(),
  });
}

/** A small deterministic generator, so a failure can be replayed. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('events explorer', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let alpha: { projectId: string; client: HttpClient };
  let beta: { projectId: string; client: HttpClient };
  let projects: string;

  const ok = async (path: string) => {
    const res = await viewer.get(path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
    return res.body;
  };

  /** Every event of a query, page by page, with a cursor. */
  const allEvents = async (query: string, limit = 4) => {
    const events: any[] = [];
    for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
      const page: any = await ok(`/v1/events?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      events.push(...page.data);
      cursor = page.next_cursor;
      if (pages > 1000) throw new Error('the cursor never ends');
    }
    return events;
  };

  // Events near the edges that matter: an hour (11:59:59.999999 / 12:00), a UTC day, a local midnight
  // in Kolkata (18:30 UTC: 18:15 is 23:45 there, 18:45 is 00:15 the next day, both in the hour 18:00),
  // the end of daylight saving in Berlin (2026-10-25) and New York (2026-11-01), a month's end.
  const EDGES = [
    '2026-10-19T18:15:00Z',
    '2026-10-19T18:45:00Z',
    '2026-10-20T00:00:00Z',
    '2026-10-25T00:30:00Z',
    '2026-10-25T01:30:00Z',
    '2026-10-31T11:01:00Z',
    '2026-10-31T11:59:59.999999Z',
    '2026-10-31T12:00:00Z',
    '2026-10-31T18:15:00Z',
    '2026-10-31T18:45:00Z',
    '2026-10-31T22:59:59Z',
    '2026-10-31T23:30:00Z',
    '2026-11-01T00:00:00Z',
    '2026-11-01T04:30:00Z',
    '2026-11-01T05:30:00Z',
    '2026-11-01T06:30:00Z',
    '2026-11-03T23:59:59.5Z',
  ];

  beforeAll(async () => {
    // The sweep below asks a few thousand questions as one viewer, faster than a person's 200 a second.
    t = await startTestApp({ RATE_LIMIT_VIEWER_PER_SECOND: '100000' });
    viewer = await viewerClient(t.http);
    alpha = await projectWithIngestKey(t.http, 'alpha');
    beta = await projectWithIngestKey(t.http, 'beta');
    projects = `${alpha.projectId},${beta.projectId}`;

    const random = prng(12);
    const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)];
    const start = Date.parse('2026-10-19T12:00:00Z');
    const span = Date.parse('2026-11-04T00:00:00Z') - start;
    const times = [
      ...EDGES,
      ...Array.from({ length: 45 }, () =>
        new Date(start + Math.floor(random() * span)).toISOString().replace('Z', `${Math.floor(random() * 1000)}Z`),
      ),
    ];
    const byProject = new Map<HttpClient, any[]>([
      [alpha.client, []],
      [beta.client, []],
    ]);
    times.forEach((timestamp, i) => {
      const kind = i % 9 === 4 ? 'unpriced' : i % 9 === 7 ? 'partial' : 'priced';
      const usage =
        kind === 'partial'
          ? // gpt-image-1 has no text-output rate
            { input_text_tokens: 50, output_image_tokens: 4160, output_text_tokens: 100 }
          : {
              input_text_tokens: pick([0, 120, 333]),
              input_image_tokens: pick([0, 1290]),
              cached_input_text_tokens: pick([0, 64]),
              output_image_tokens: pick([1056, 4160, 6240]),
            };
      const event = usageEvent({
        event_id: `drill-${String(i).padStart(3, '0')}`,
        timestamp,
        provider: kind === 'unpriced' ? 'acme' : kind === 'partial' ? 'openai' : pick(['openai', 'vercel']),
        model: kind === 'unpriced' ? 'mystery' : kind === 'partial' ? 'gpt-image-1' : 'gpt-image-2',
        usage,
        dimensions: { team: pick(['growth', 'core', '']), feature: pick(['avatars', 'banners']) },
        image_size: pick(['1024x1024', '1536x1024', null]),
        image_quality: pick(['high', 'medium']),
        tags: { campaign: pick(['launch', 'none']) },
      });
      byProject.get(i % 3 === 0 ? beta.client : alpha.client)!.push(event);
    });
    for (const [client, events] of byProject) {
      const res = await client.post('/v1/events', { events });
      expect(res.body).toMatchObject({ accepted: events.length, rejected: [] });
    }
  });
  afterAll(() => t?.close());

  describe('drill-down: the events behind a figure add up to it exactly', () => {
    const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
    // Hours over two local days (New York's 25-hour day among them); days, weeks and months over a
    // range that starts on a Tuesday, in the middle of a week and a month.
    const RANGES: Record<string, string> = {
      hour: 'from=2026-10-31&to=2026-11-01',
      day: 'from=2026-10-20&to=2026-11-03',
      week: 'from=2026-10-20&to=2026-11-03',
      month: 'from=2026-10-20&to=2026-11-03',
    };
    const filterOf = (groupBy: string, key: string) => `${groupBy}=${encodeURIComponent(key === '(none)' ? '' : key)}`;

    it.each(ZONES.flatMap((tz) => Object.keys(RANGES).map((granularity) => [tz, granularity])))(
      '%s, by %s: every bar, series and bucket',
      async (tz, granularity) => {
        const report = `${RANGES[granularity]}&tz=${encodeURIComponent(tz)}&granularity=${granularity}&project=${projects}`;
        for (const groupBy of ['provider', 'team']) {
          const spend = await ok(`/v1/reports/spend?${report}&group_by=${groupBy}&limit=100`);
          expect(spend.series.length).toBeGreaterThan(1);
          const counted = new Map<string, { events: number; unpriced: number; partial: number }>();
          let events = 0;
          for (const [i, bucket] of spend.buckets.entries()) {
            // The whole bar (every series), then each series' part of it: cost, and paging through the list.
            const whole = await ok(`/v1/events/totals?${report}&bucket=${encodeURIComponent(bucket)}`);
            expect({ bucket, cost: whole.cost_usd }).toEqual({
              bucket,
              cost: sum(spend.series.map((s: any) => s.values[i])),
            });
            events += whole.events;
            if (whole.events === 0) continue;
            for (const series of spend.series) {
              const query = `${report}&bucket=${encodeURIComponent(bucket)}&${filterOf(groupBy, series.key)}`;
              const part = await ok(`/v1/events/totals?${query}`);
              expect({ bucket, series: series.key, cost: part.cost_usd }).toEqual({
                bucket,
                series: series.key,
                cost: series.values[i],
              });
              const listed = await allEvents(query);
              expect({
                bucket,
                series: series.key,
                events: listed.length,
                cost: sum(listed.map((e) => e.cost_usd)),
              }).toEqual({ bucket, series: series.key, events: part.events, cost: series.values[i] });
              const c = counted.get(series.key) ?? { events: 0, unpriced: 0, partial: 0 };
              counted.set(series.key, {
                events: c.events + part.events,
                unpriced: c.unpriced + part.unpriced_events,
                partial: c.partial + part.partial_events,
              });
            }
          }
          // Nothing leaks between buckets: the counts add up to the report's, series by series.
          expect(events).toBe(spend.events);
          for (const series of spend.series) {
            const c = counted.get(series.key) ?? { events: 0, unpriced: 0, partial: 0 };
            expect({ series: series.key, unpriced: c.unpriced, partial: c.partial }).toEqual({
              series: series.key,
              unpriced: series.unpriced_events,
              partial: series.partial_events,
            });
            // A row of a top list: the series over the whole range.
            const row = await ok(`/v1/events/totals?${report}&${filterOf(groupBy, series.key)}`);
            expect({ series: series.key, cost: row.cost_usd, events: row.events }).toEqual({
              series: series.key,
              cost: series.total,
              events: c.events,
            });
          }
          const all = await ok(`/v1/events/totals?${report}`);
          expect([all.cost_usd, all.events, all.unpriced_events, all.partial_events, all.partial_cost_usd]).toEqual([
            spend.total,
            spend.events,
            spend.unpriced_events,
            spend.partial_events,
            spend.partial_cost_usd,
          ]);
        }
      },
    );

    it.each(ZONES)(
      '%s: a cell of the cost-per-image table (provider, model, size, quality) is its events',
      async (tz) => {
        const report = `from=2026-10-20&to=2026-11-03&tz=${encodeURIComponent(tz)}&project=${projects}`;
        const tokens = await ok(`/v1/reports/tokens?${report}`);
        expect(tokens.breakdown.length).toBeGreaterThan(3);
        for (const row of tokens.breakdown) {
          const cell = `provider=${row.provider}&model=${row.model}&image_size=${row.image_size ?? ''}&image_quality=${row.image_quality ?? ''}`;
          const totals = await ok(`/v1/events/totals?${report}&edges=hour&${cell}`);
          expect({
            cell,
            cost: totals.cost_usd,
            events: totals.events,
            images: totals.images,
            output_image: totals.tokens.output_image,
          }).toEqual({
            cell,
            cost: row.cost_usd,
            events: row.events,
            images: row.images,
            output_image: row.tokens.output_image,
          });
        }
      },
    );

    it('Kolkata: the hour before the first local midnight is outside a daily report, and the list says so too', async () => {
      // 2026-10-20 starts at 18:30 UTC on the 19th there. Its hour 18:00 (18:15 and 18:45) is 23:30 on the 19th.
      const report = `from=2026-10-20&to=2026-10-21&tz=Asia/Kolkata&project=${projects}`;
      const listed = (await allEvents(`${report}&granularity=day&sort=time`, 100)).map((e) => e.timestamp);
      expect(listed).not.toContain('2026-10-19T18:45:00.000000Z');
      expect(listed[0] >= '2026-10-19T19:00:00').toBe(true);
      // Without a granularity the hour rule alone counts the hour holding `from` whole, as the summary and tokens
      // reports do.
      const byHour = (await allEvents(`${report}&edges=hour&sort=time`, 100)).map((e) => e.timestamp);
      expect(byHour.slice(0, 2)).toEqual(['2026-10-19T18:15:00.000000Z', '2026-10-19T18:45:00.000000Z']);
      // Exactly: from 18:30.
      const exact = (await allEvents(`${report}&sort=time`, 100)).map((e) => e.timestamp);
      expect(exact[0]).toBe('2026-10-19T18:45:00.000000Z');
    });

    it('a range of date-times inside hours: the report counts the hours whole, and so does the list with granularity; edges=exact does not', async () => {
      const report = `from=2026-10-31T11:02:00Z&to=2026-10-31T12:00:00.5Z&granularity=hour&project=${projects}`;
      const spend = await ok(`/v1/reports/spend?${report}&group_by=none`);
      expect(spend.buckets).toEqual(['2026-10-31T11:00:00.000Z', '2026-10-31T12:00:00.000Z']);
      const bars = await Promise.all(spend.buckets.map((b: string) => ok(`/v1/events/totals?${report}&bucket=${b}`)));
      expect(bars.map((b) => b.cost_usd)).toEqual(spend.series[0].values);
      const listed = (await allEvents(report)).map((e) => e.timestamp);
      expect(listed).toEqual(
        expect.arrayContaining([
          '2026-10-31T11:01:00.000000Z',
          '2026-10-31T11:59:59.999999Z',
          '2026-10-31T12:00:00.000000Z',
        ]),
      );
      const exact = (await allEvents(`${report}&edges=exact`)).map((e) => e.timestamp);
      expect(exact).not.toContain('2026-10-31T11:01:00.000000Z');
      expect(exact).toEqual(expect.arrayContaining(['2026-10-31T11:59:59.999999Z', '2026-10-31T12:00:00.000000Z']));
      // 11:59:59.999999 and 12:00 fall in different hour bars.
      const hour11 = (await allEvents(`${report}&bucket=2026-10-31T11:00:00.000Z`)).map((e) => e.timestamp);
      expect(hour11).toContain('2026-10-31T11:59:59.999999Z');
      expect(hour11).not.toContain('2026-10-31T12:00:00.000000Z');
    });

    it('keeps what callers of the list relied on: single values, date-times as exact instants, tags', async () => {
      const single = await allEvents(
        `project=${alpha.projectId}&provider=vercel&team=growth&tag:campaign=launch`,
        1000,
      );
      expect(single.length).toBeGreaterThan(0);
      expect(
        single.every(
          (e) =>
            e.project_id === alpha.projectId &&
            e.provider === 'vercel' &&
            e.dimensions.team === 'growth' &&
            e.tags.campaign === 'launch',
        ),
      ).toBe(true);
      const range = await allEvents(`project=${projects}&from=2026-10-31T11:59:59Z&to=2026-10-31T12:00:00Z`);
      expect(range.map((e) => e.event_id)).toEqual(['drill-006']);
      // `team=` (an empty value) is the events without a team: the reports' "(none)".
      const none = await allEvents(`project=${projects}&team=`, 1000);
      expect(none.length).toBeGreaterThan(0);
      expect(none.every((e) => e.dimensions.team === undefined)).toBe(true);
      const both = await ok(`/v1/events/totals?project=${projects}&pricing=partial,unpriced`);
      const partial = await ok(`/v1/events/totals?project=${projects}&pricing=partial`);
      const unpriced = await ok(`/v1/events/totals?project=${projects}&pricing=unpriced`);
      expect(both.events).toBe(partial.events + unpriced.events);
      expect([partial.partial_events, unpriced.unpriced_events, unpriced.cost_usd]).toEqual([
        partial.events,
        unpriced.events,
        '0.000000',
      ]);
    });
  });

  describe('sorting and paging', () => {
    type Listed = { event_id: string; timestamp: string; project_id: string; cost_usd: string | null };
    const byTime = (a: Listed, b: Listed) =>
      a.timestamp < b.timestamp
        ? -1
        : a.timestamp > b.timestamp
          ? 1
          : a.project_id < b.project_id
            ? -1
            : a.project_id > b.project_id
              ? 1
              : a.event_id < b.event_id
                ? -1
                : a.event_id > b.event_id
                  ? 1
                  : 0;
    /** Cost ascending or descending, unpriced (null) last either way, ties in time order of the same direction. */
    const expectedOrder = (events: Listed[], sort: string) =>
      [...events].sort((a, b) => {
        const desc = sort.startsWith('-') ? -1 : 1;
        if (sort.endsWith('time')) return desc * byTime(a, b);
        if (a.cost_usd === null || b.cost_usd === null)
          return a.cost_usd === b.cost_usd ? desc * byTime(a, b) : a.cost_usd === null ? 1 : -1;
        return desc * (Decimal.parse(a.cost_usd).compare(Decimal.parse(b.cost_usd)) || byTime(a, b));
      });

    it('every sort pages through every event exactly once, in order, whatever the page size (property)', async () => {
      let run = 0;
      const event = fc.record({
        minute: fc.integer({ min: 0, max: 5 }), // few instants: many ties in time
        output: fc.constantFrom(0, 1056, 4160), // few costs: many ties in cost
        input: fc.constantFrom(0, 120),
        priced: fc.boolean(),
        project: fc.constantFrom(0, 1),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(event, { minLength: 1, maxLength: 25 }),
          fc.integer({ min: 1, max: 7 }),
          fc.constantFrom('-time', 'time', '-cost', 'cost'),
          async (events, limit, sort) => {
            run++;
            const tag = `sort-${run}`;
            const batches = new Map<HttpClient, any[]>([
              [alpha.client, []],
              [beta.client, []],
            ]);
            events.forEach((e, i) =>
              batches.get(e.project ? beta.client : alpha.client)!.push(
                usageEvent({
                  event_id: `${tag}-${String(i).padStart(3, '0')}`,
                  timestamp: new Date(Date.parse('2026-09-01T10:00:00Z') + e.minute * 60_000).toISOString(),
                  model: e.priced ? 'gpt-image-2' : 'unknown-model',
                  usage: { input_text_tokens: e.input, output_image_tokens: e.output },
                  images: e.output > 0 ? 1 : 0,
                  tags: { run: tag },
                }),
              ),
            );
            for (const [client, batch] of batches)
              if (batch.length) expect((await client.post('/v1/events', { events: batch })).status).toBe(202);
            const listed: Listed[] = await allEvents(`project=${projects}&tag:run=${tag}&sort=${sort}`, limit);
            expect(listed.map((e) => e.event_id).sort()).toEqual(
              events.map((_, i) => `${tag}-${String(i).padStart(3, '0')}`),
            );
            expect(listed.map((e) => e.event_id)).toEqual(expectedOrder(listed, sort).map((e) => e.event_id));
          },
        ),
        { numRuns: 25, seed: 1212, endOnFailure: true },
      );
    });

    it('-time is the default, and the cursor of the first API version still pages it', async () => {
      const first = await ok(`/v1/events?project=${projects}&limit=2`);
      expect(first.sort).toBe('-time');
      const [at, project, id] = [first.data[1].timestamp, first.data[1].project_id, first.data[1].event_id];
      const old = Buffer.from(JSON.stringify([at, project, id])).toString('base64url');
      const second = await ok(`/v1/events?project=${projects}&limit=2&cursor=${old}`);
      const next = await ok(`/v1/events?project=${projects}&limit=2&cursor=${first.next_cursor}`);
      expect(second.data).toEqual(next.data);
    });

    it('a cursor of one sort is refused for another, naming cursor', async () => {
      const page = await ok(`/v1/events?project=${projects}&limit=1&sort=-cost`);
      expectProblem(
        await viewer.get(`/v1/events?project=${projects}&limit=1&sort=cost&cursor=${page.next_cursor}`),
        400,
        ['cursor'],
      );
      expect(
        (await viewer.get(`/v1/events?project=${projects}&limit=1&sort=-cost&cursor=${page.next_cursor}`)).status,
      ).toBe(200);
    });
  });

  describe('one event', () => {
    const admin = () => t.http;
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    const detail = (projectId: string, eventId: string) =>
      viewer.get(`/v1/events/${projectId}/${encodeURIComponent(eventId)}`);

    it('shows the price version, the cost of each token kind adding up to the cost, and no restatement', async () => {
      // 120 x $5 + 1,290 x $8 + 4,160 x $30 per 1M = $0.13572
      const event = usageEvent({
        event_id: 'detail/1 é',
        usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
        timestamp: minutesAgo(30),
      });
      await alpha.client.post('/v1/events', event);
      const res = await detail(alpha.projectId, event.event_id);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        event_id: 'detail/1 é',
        cost_usd: '0.135720',
        cost_ingested_usd: '0.135720',
        restated: false,
        pricing: 'priced',
        restatements: [],
      });
      expect(res.body.price_version).toMatchObject({
        id: res.body.price_version_id,
        provider: 'openai',
        model: 'gpt-image-2',
        kind: 'list',
        prices: { input_text: '5.00', input_image: '8.00', output_image: '30.00' },
      });
      expect(res.body.cost_by_kind).toEqual([
        {
          kind: 'input_text',
          tokens: 120,
          rate_per_million_usd: '5.00',
          priced_with: 'input_text',
          basis: 'own',
          cost_usd: '0.000600',
        },
        {
          kind: 'cached_input_text',
          tokens: 0,
          rate_per_million_usd: '1.25',
          priced_with: 'cached_input_text',
          basis: 'own',
          cost_usd: '0.000000',
        },
        {
          kind: 'input_image',
          tokens: 1290,
          rate_per_million_usd: '8.00',
          priced_with: 'input_image',
          basis: 'own',
          cost_usd: '0.010320',
        },
        expect.objectContaining({ kind: 'cached_input_image', tokens: 0, cost_usd: '0.000000' }),
        {
          kind: 'output_image',
          tokens: 4160,
          rate_per_million_usd: '30.00',
          priced_with: 'output_image',
          basis: 'own',
          cost_usd: '0.124800',
        },
        expect.objectContaining({ kind: 'output_text', tokens: 0, cost_usd: '0.000000' }),
      ]);
      expect(sum(res.body.cost_by_kind.map((k: any) => k.cost_usd))).toBe(res.body.cost_usd);
      expect(res.body.cost_breakdown).toEqual({
        total_usd: '0.135720',
        exact: true,
        prices_from: 'price_book',
        note: null,
      });
    });

    it('opens an event whose id is the longest ingest takes, in 3-byte characters (1,800 characters percent-encoded)', async () => {
      const event = usageEvent({ event_id: '中'.repeat(200), timestamp: minutesAgo(31) });
      expect(encodeURIComponent(event.event_id)).toHaveLength(1800); // Fastify's default limit was 100
      expect((await alpha.client.post('/v1/events', event)).status).toBe(202);
      const res = await detail(alpha.projectId, event.event_id);
      expect([res.status, res.body.event_id]).toEqual([200, event.event_id]);
    });

    it('every drill-down event: the shares add up to its cost exactly (partly priced and unpriced ones too)', async () => {
      const listed = await allEvents(`project=${projects}&tag:campaign=launch`, 100);
      const states = new Set<string>();
      for (const e of listed) {
        const res = await detail(e.project_id, e.event_id);
        expect(res.status).toBe(200);
        states.add(res.body.pricing);
        const shares = [
          ...res.body.cost_by_kind.map((k: any) => k.cost_usd),
          res.body.cost_per_image?.cost_usd ?? null,
          res.body.cost_per_request?.cost_usd ?? null,
        ];
        expect({
          id: e.event_id,
          exact: res.body.cost_breakdown.exact,
          total: res.body.cost_breakdown.total_usd,
        }).toEqual({ id: e.event_id, exact: true, total: sum(shares) });
        if (res.body.pricing === 'unpriced') {
          expect([res.body.cost_usd, res.body.price_version]).toEqual([null, null]);
          expect(res.body.cost_by_kind.filter((k: any) => k.tokens > 0).every((k: any) => k.cost_usd === null)).toBe(
            true,
          );
        } else {
          expect(sum(shares)).toBe(res.body.cost_usd);
        }
        if (res.body.pricing === 'partial') {
          expect(res.body.cost_by_kind.find((k: any) => k.kind === 'output_text')).toMatchObject({
            tokens: 100,
            rate_per_million_usd: null,
            cost_usd: null,
          });
          expect(res.body.unpriced_kinds).toEqual(['output_text']);
        }
      }
      expect([...states].sort()).toEqual(['partial', 'priced', 'unpriced']);
    });

    it('shows a per-image price and its share', async () => {
      const put = await admin().request('PUT', '/v1/pricing/overrides', {
        provider: 'openai',
        model: 'dall-e-3',
        prices: { image_prices: { 'hd/1024x1024': '0.08' } },
        effective_from: minutesAgo(600),
      });
      expect(put.status).toBe(200);
      const event = usageEvent({
        model: 'dall-e-3',
        usage: {},
        images: 2,
        image_size: '1024x1024',
        image_quality: 'hd',
        timestamp: minutesAgo(20),
      });
      await alpha.client.post('/v1/events', event);
      const res = await detail(alpha.projectId, event.event_id);
      expect(res.body).toMatchObject({
        cost_usd: '0.160000',
        pricing: 'priced',
        cost_per_image: { images: 2, rate_usd: '0.08', price_key: 'hd/1024x1024', cost_usd: '0.160000' },
      });
      expect(res.body.price_version).toMatchObject({ kind: 'override', image_prices: { 'hd/1024x1024': '0.08' } });
      expect(res.body.cost_breakdown.exact).toBe(true);
    });

    it('after an override and a reprice: restated, both costs, the new version, and the restatement', async () => {
      const event = usageEvent({
        usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
        timestamp: minutesAgo(90),
      });
      await alpha.client.post('/v1/events', event);
      const put = await admin().request('PUT', '/v1/pricing/overrides', {
        provider: 'openai',
        model: 'gpt-image-2',
        prices: { input_text: '5', input_image: '8', output_image: '20' },
        effective_from: minutesAgo(120),
      });
      expect(put.status).toBe(200);
      try {
        // Not rewritten silently: the breakdown still explains the stored cost with the version that priced it.
        const before = await detail(alpha.projectId, event.event_id);
        expect(before.body).toMatchObject({
          cost_usd: '0.135720',
          restated: false,
          restatements: [],
          cost_breakdown: { exact: true, prices_from: 'stored_version' },
        });

        const restated = await admin().post('/v1/pricing/reprice', {
          from: minutesAgo(100),
          to: minutesAgo(80),
          provider: 'openai',
          model: 'gpt-image-2',
        });
        expect(restated.status).toBe(201);
        const res = await detail(alpha.projectId, event.event_id);
        expect(res.body).toMatchObject({
          cost_usd: '0.094120',
          cost_ingested_usd: '0.135720',
          restated: true,
          price_version_id: put.body.id,
        });
        expect(res.body.price_version).toMatchObject({
          id: put.body.id,
          kind: 'override',
          source: 'override',
          prices: { input_text: '5.00', input_image: '8.00', output_image: '20.00' },
        });
        expect(res.body.cost_by_kind.find((k: any) => k.kind === 'output_image')).toMatchObject({
          rate_per_million_usd: '20.00',
          cost_usd: '0.083200',
        });
        expect(sum(res.body.cost_by_kind.map((k: any) => k.cost_usd))).toBe('0.094120');
        expect(res.body.restatements).toEqual([
          expect.objectContaining({
            id: restated.body.id,
            reason: 'manual',
            provider: 'openai',
            model: 'gpt-image-2',
            events_changed: 1,
            total_before_usd: '0.135720',
            total_after_usd: '0.094120',
          }),
        ]);
        // The list says it too, and its totals keep both figures.
        const listed = await ok(`/v1/events?project=${alpha.projectId}&from=${minutesAgo(100)}&to=${minutesAgo(80)}`);
        expect(listed.data).toEqual([
          expect.objectContaining({
            event_id: event.event_id,
            restated: true,
            cost_usd: '0.094120',
            cost_ingested_usd: '0.135720',
          }),
        ]);
        const totals = await ok(
          `/v1/events/totals?project=${alpha.projectId}&from=${minutesAgo(100)}&to=${minutesAgo(80)}`,
        );
        expect([totals.cost_usd, totals.cost_ingested_usd]).toEqual(['0.094120', '0.135720']);
      } finally {
        await admin().delete(`/v1/pricing/overrides/${put.body.id}`);
      }
    });

    it('an event priced when its first price arrives shows that restatement', async () => {
      const event = usageEvent({
        provider: 'latecomer',
        model: 'late-model',
        usage: { input_text_tokens: 1000 },
        images: 0,
        timestamp: minutesAgo(10),
      });
      await alpha.client.post('/v1/events', event);
      expect((await detail(alpha.projectId, event.event_id)).body).toMatchObject({
        pricing: 'unpriced',
        cost_usd: null,
        restatements: [],
      });
      const put = await admin().request('PUT', '/v1/pricing/overrides', {
        provider: 'latecomer',
        model: 'late-model',
        prices: { input_text: '2' },
        effective_from: minutesAgo(60),
      });
      expect(put.status).toBe(200);
      const res = await eventually(async () => {
        const answer = await detail(alpha.projectId, event.event_id);
        expect(answer.body.restatements).toHaveLength(1);
        return answer;
      });
      // The restatement records what it changed: this one call (its instant to the next millisecond), its provider and
      // model.
      const at = Date.parse(event.timestamp);
      expect(res.body).toMatchObject({
        pricing: 'priced',
        cost_usd: '0.002000',
        cost_ingested_usd: null,
        restated: true,
        restatements: [
          expect.objectContaining({
            reason: 'new_price',
            from: new Date(at).toISOString(),
            to: new Date(at + 1).toISOString(),
            provider: 'latecomer',
            model: 'late-model',
          }),
        ],
      });
      expect(res.body.cost_by_kind[0]).toEqual({
        kind: 'input_text',
        tokens: 1000,
        rate_per_million_usd: '2.00',
        priced_with: 'input_text',
        basis: 'own',
        cost_usd: '0.002000',
      });
    });

    it('404 for an unknown event, 400 naming a malformed project_id or event_id', async () => {
      const unknown = await detail(alpha.projectId, 'no-such-event');
      expect([unknown.status, unknown.headers.get('content-type')?.split(';')[0]]).toEqual([
        404,
        'application/problem+json',
      ]);
      expect((await detail(beta.projectId, 'drill-001')).status).toBe(404); // drill-001 is alpha's
      expectProblem(await detail('not-a-uuid', 'drill-001'), 400, ['project_id']);
      // (An id longer than Fastify's maxParamLength, 100 characters as sent, is refused by the router: 414.)
      expectProblem(await viewer.get(`/v1/events/${alpha.projectId}/a%00b`), 400, ['event_id']);
    });
  });

  describe('bad parameters are 400 problem+json naming each', () => {
    const CASES: Array<[query: string, paths: string[]]> = [
      ['sort=price', ['sort']],
      ['sort=%2Bcost', ['sort']],
      [`project=${'0'.repeat(8)}-0000-0000-0000-000000000000,nope`, ['project']],
      ['tz=Mars/Olympus_Mons', ['tz']],
      ['cursor=bm90IGEgY3Vyc29y', ['cursor']],
      [
        `cursor=${Buffer.from(JSON.stringify([2, '-cost', '2026-10-01T00:00:00Z', '00000000-0000-0000-0000-000000000000', 'e', '1e999'])).toString('base64url')}`,
        ['cursor'],
      ],
      [
        `cursor=${Buffer.from(JSON.stringify([2, '-time', '2026-10-01T00:00:00Z', '00000000-0000-0000-0000-000000000000', 'e', '1.5'])).toString('base64url')}`,
        ['cursor'],
      ],
      [
        `cursor=${Buffer.from(JSON.stringify([2, 'cost', '2026-10-01', '00000000-0000-0000-0000-000000000000', 'e', null])).toString('base64url')}`,
        ['cursor'],
      ],
      ['team=a%00b', ['team']],
      ['tag:campaign=%00', ['tag:campaign']],
      ['edges=fuzzy', ['edges']],
      ['granularity=year', ['granularity']],
      ['bucket=2026-10-20T00:00:00Z', ['bucket']],
      ['granularity=day&tz=Asia/Kolkata&bucket=2026-10-20T00:00:00Z', ['bucket']],
      ['granularity=hour&bucket=2026-10-20T00:30:00Z', ['bucket']],
      ['from=2026-10-20&to=2026-10-19', ['to']],
      ['from=2026-02-30', ['from']],
      ['pricing=free', ['pricing']],
      ['status=ok,maybe', ['status']],
      ['provider=openai,', ['provider']],
      ['team=a&team=b', ['team']],
      ['limit=0&sort=up&colour=red', ['colour', 'limit', 'sort']],
    ];

    it.each(CASES)('GET /v1/events?%s', async (query, paths) => {
      expectProblem(await viewer.get(`/v1/events?${query}`), 400, paths, query);
    });

    it.each(CASES.filter(([query]) => !/cursor|sort|limit/.test(query)))(
      'GET /v1/events/totals?%s',
      async (query, paths) => {
        expectProblem(await viewer.get(`/v1/events/totals?${query}`), 400, paths, query);
      },
    );

    it('the totals take no page parameters', async () => {
      expectProblem(await viewer.get('/v1/events/totals?limit=5&sort=cost&cursor=x'), 400, ['cursor', 'limit', 'sort']);
    });
  });
});
