import { ChartRenderer } from '@tokentally/reporting';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

/**
 * Reports at their edges (issue 10, item 7): every granularity on every
 * report, local days around daylight saving time, real dates only, one
 * forecast for budgets and the summary, and ranges bounded by the number of
 * buckets they make.
 *
 * Events carry image output tokens only, which cost $30 per million on openai
 * and on vercel: 1,000 tokens = $0.030000. Expected figures are hand-computed.
 */
const event = (id: string, timestamp: string, outputTokens: number, extra: Record<string, unknown> = {}) =>
  usageEvent({
    event_id: id,
    timestamp,
    usage: { output_image_tokens: outputTokens },
    images: 1,
    dimensions: {},
    tags: {},
    ...extra,
  });

const ZERO = '0.000000';
/** `n` values, all zero but the ones given by index. */
function valuesAt<T>(n: number, zero: T, at: Record<number, T>): T[] {
  return Array.from({ length: n }, (_, i) => at[i] ?? zero);
}
const hoursFrom = (startIso: string, n: number) =>
  Array.from({ length: n }, (_, i) => new Date(Date.parse(startIso) + i * 3_600_000).toISOString());
const csvLines = (text: string) =>
  text
    .replace(/^\ufeff/, '')
    .trim()
    .split('\r\n');

async function ingest(client: HttpClient, events: Array<Record<string, unknown>>): Promise<void> {
  const res = await client.post('/v1/events', { events });
  if (res.status !== 202 || res.body.accepted !== events.length) throw new Error(`ingest: ${res.status} ${res.text}`);
}

describe('reports at their edges', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let alpha: string; // the New York data set around the end of daylight saving time (and its start, in March)
  let gamma: string; // Kolkata, Tokyo and Berlin edges

  beforeAll(async () => {
    t = await startTestApp();
    viewer = await viewerClient(t.http);
    const a = await projectWithIngestKey(t.http, 'alpha');
    const g = await projectWithIngestKey(t.http, 'gamma');
    alpha = a.projectId;
    gamma = g.projectId;
    await ingest(a.client, [
      // 2026-11-01 in New York has 25 hours: 01:00-02:00 happens twice (EDT, then EST).
      event('e1', '2026-11-01T03:30:00Z', 1000), // Sat Oct 31, 23:30 EDT: $0.03
      event('e2', '2026-11-01T05:30:00Z', 2000), // Sun Nov 1, 01:30 EDT: $0.06
      event('e3', '2026-11-01T06:30:00Z', 3000), // Sun Nov 1, 01:30 EST (the second one): $0.09
      event('e4', '2026-11-02T04:30:00Z', 4000), // Sun Nov 1, 23:30 EST, the day's 25th hour: $0.12
      event('e5', '2026-11-02T05:30:00Z', 5000, { provider: 'vercel' }), // Mon Nov 2, 00:30 EST: $0.15
      // 2026-03-08 in New York has 23 hours (02:00-03:00 does not exist).
      event('s0', '2026-03-08T04:30:00Z', 100), // Sat Mar 7, 23:30 EST: $0.003
      event('s1', '2026-03-08T06:00:00Z', 200), // Sun Mar 8, 01:00 EST: $0.006
      event('s2', '2026-03-09T03:30:00Z', 300), // Sun Mar 8, 23:30 EDT, the day's last hour: $0.009
      event('s3', '2026-03-09T04:30:00Z', 400), // Mon Mar 9, 00:30 EDT: $0.012
    ]);
    await ingest(g.client, [
      event('k1', '2026-11-10T18:00:00Z', 1000), // Kolkata: Tue Nov 10, 23:30 IST
      event('k2', '2026-11-10T19:00:00Z', 2000), // Kolkata: Wed Nov 11, 00:30 IST
      event('t1', '2026-11-22T14:30:00Z', 3000), // Tokyo: Sun Nov 22, 23:30 JST (UTC: Sunday too)
      event('t2', '2026-11-22T15:30:00Z', 4000), // Tokyo: Mon Nov 23, 00:30 JST (UTC: still Sunday)
      event('b1', '2026-10-31T22:30:00Z', 5000), // Berlin: Sat Oct 31, 23:30 CET (after the change back on Oct 25)
      event('b2', '2026-10-31T23:30:00Z', 6000), // Berlin: Sun Nov 1, 00:30 CET
    ]);
  });
  afterAll(() => t?.close());

  const ok = async (path: string) => {
    const res = await viewer.get(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res;
  };

  /** Three New York days, Oct 31 to Nov 2, with the 25-hour day in the middle. */
  const RANGE = 'from=2026-10-31&to=2026-11-02&tz=America/New_York';
  const EXPECTED = {
    hour: {
      // 24 + 25 + 24 UTC hours from Oct 31 00:00 EDT.
      buckets: hoursFrom('2026-10-31T04:00:00.000Z', 73),
      openai: valuesAt(73, ZERO, { 23: '0.030000', 25: '0.060000', 26: '0.090000', 48: '0.120000' }),
      vercel: valuesAt(73, ZERO, { 49: '0.150000' }),
      tokens: valuesAt(73, 0, { 23: 1000, 25: 2000, 26: 3000, 48: 4000, 49: 5000 }),
      labels: null as string[] | null,
    },
    day: {
      buckets: ['2026-10-31T04:00:00.000Z', '2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z'],
      openai: ['0.030000', '0.270000', ZERO],
      vercel: [ZERO, ZERO, '0.150000'],
      tokens: [1000, 9000, 5000],
      labels: ['Oct 31', 'Nov 1', 'Nov 2'],
    },
    week: {
      // Mondays at local midnight: Oct 26 (EDT) and Nov 2 (EST).
      buckets: ['2026-10-26T04:00:00.000Z', '2026-11-02T05:00:00.000Z'],
      openai: ['0.300000', ZERO],
      vercel: [ZERO, '0.150000'],
      tokens: [10000, 5000],
      // A week reads as the days of the range it holds (never its Monday before the range), cut weeks marked.
      labels: ['Oct 31 – Nov 1 (partial)', 'Nov 2 (partial)'],
    },
    month: {
      buckets: ['2026-10-01T04:00:00.000Z', '2026-11-01T04:00:00.000Z'],
      openai: ['0.030000', '0.270000'],
      vercel: [ZERO, '0.150000'],
      tokens: [1000, 14000],
      // The range holds Oct 31 to Nov 2: both months are cut.
      labels: ['Oct 2026 (partial)', 'Nov 2026 (partial)'],
    },
  };
  const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;

  describe.each(GRANULARITIES)('granularity=%s on every report', (granularity) => {
    const expected = EXPECTED[granularity];
    // A function: the project exists only once beforeAll has run.
    const query = () => `project=${alpha}&${RANGE}&granularity=${granularity}`;

    it('spend: buckets and values per provider, totals that add up', async () => {
      const { body } = await ok(`/v1/reports/spend?${query()}&group_by=provider`);
      expect(body).toMatchObject({
        granularity,
        tz: 'America/New_York',
        from: '2026-10-31T04:00:00.000Z',
        to: '2026-11-03T05:00:00.000Z',
        total: '0.450000',
        events: 5,
      });
      expect(body.buckets).toEqual(expected.buckets);
      expect(body.series).toEqual([
        {
          key: 'openai',
          label: 'openai',
          values: expected.openai,
          total: '0.300000',
          unpriced_events: 0,
          partial_events: 0,
        },
        {
          key: 'vercel',
          label: 'vercel',
          values: expected.vercel,
          total: '0.150000',
          unpriced_events: 0,
          partial_events: 0,
        },
      ]);
    });

    it('tokens: image output per bucket and cost per image', async () => {
      const { body } = await ok(`/v1/reports/tokens?${query()}`);
      expect(body.buckets).toEqual(expected.buckets);
      expect(body.series.find((s: any) => s.kind === 'output_image').values).toEqual(expected.tokens);
      expect(body.series.find((s: any) => s.kind === 'input_text').values).toEqual(expected.tokens.map(() => 0));
      expect(
        body.breakdown.map((r: any) => [
          r.provider,
          r.events,
          r.images,
          r.cost_usd,
          r.cost_per_image_usd,
          r.output_image_tokens_per_image,
        ]),
      ).toEqual([
        ['openai', 4, 4, '0.300000', '0.075000', 2500],
        ['vercel', 1, 1, '0.150000', '0.150000', 5000],
      ]);
    });

    it('export.csv aggregated: one row per bucket and provider', async () => {
      const res = await ok(`/v1/reports/export.csv?${query()}&group_by=provider`);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const rows = (['openai', 'vercel'] as const).flatMap((provider) =>
        expected.buckets.map(
          (bucket, i) =>
            `${bucket},America/New_York,provider,${provider},${provider},${expected[provider][i]},restated`,
        ),
      );
      expect(csvLines(res.text)).toEqual(['bucket_start,timezone,group_by,group,label,cost_usd,basis', ...rows]);
    });

    it('export.csv raw=1: every event of the range, whatever the granularity', async () => {
      const res = await ok(`/v1/reports/export.csv?${query()}&raw=1`);
      const rows = csvLines(res.text)
        .slice(1)
        .map((line) => line.split(','));
      expect(rows.map((r) => [r[0], r[3], r[4]])).toEqual([
        ['2026-11-01T03:30:00.000000Z', 'e1', 'openai'],
        ['2026-11-01T05:30:00.000000Z', 'e2', 'openai'],
        ['2026-11-01T06:30:00.000000Z', 'e3', 'openai'],
        ['2026-11-02T04:30:00.000000Z', 'e4', 'openai'],
        ['2026-11-02T05:30:00.000000Z', 'e5', 'vercel'],
      ]);
      expect(res.text).toContain(',0.120000,0.120000,');
    });

    it('charts spend.png and tokens.png draw these very figures', async () => {
      const renderer = t.app.get(ChartRenderer);
      const png = jest.spyOn(renderer, 'png');
      try {
        for (const name of ['spend', 'tokens'] as const) {
          const res = await fetch(`${t.url}/v1/charts/${name}.png?${query()}&group_by=provider&width=640&height=320`, {
            headers: { authorization: `Bearer ${viewer.key}` },
          });
          expect(res.status).toBe(200);
          expect(res.headers.get('content-type')).toBe('image/png');
          const image = Buffer.from(await res.arrayBuffer());
          expect(image.subarray(1, 4).toString()).toBe('PNG');
          expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([640, 320]);
          const config = png.mock.calls.at(-1)![0];
          expect(config.data.labels).toHaveLength(expected.buckets.length);
          if (expected.labels) expect(config.data.labels).toEqual(expected.labels);
          // Chart.js draws numbers; the figures people read are the strings above.
          const drawn = config.data.datasets.map((d: any) => [d.label, d.data]);
          if (name === 'spend') {
            expect(drawn).toEqual([
              ['openai', expected.openai.map(Number)],
              ['vercel', expected.vercel.map(Number)],
            ]);
          } else {
            expect(drawn).toEqual([['Image out', expected.tokens]]);
          }
        }
      } finally {
        png.mockRestore();
      }
    });

    it('summary and compare-providers take the parameter and do not depend on it', async () => {
      const compare = (await ok(`/v1/reports/compare-providers?${query()}`)).body;
      expect(compare).toMatchObject({
        from: '2026-10-31T04:00:00.000Z',
        to: '2026-11-03T05:00:00.000Z',
        actual_total_usd: '0.450000',
      });
      expect(compare.models).toEqual([
        {
          model: 'gpt-image-2',
          actual: expect.arrayContaining([
            { provider: 'openai', cost_usd: '0.300000', unpriced_events: 0, partial_events: 0 },
            { provider: 'vercel', cost_usd: '0.150000', unpriced_events: 0, partial_events: 0 },
          ]),
          actual_total_usd: '0.450000',
          actual_complete: true,
          // 15,000 image output tokens at $30 per million at both providers.
          at_each_provider: expect.arrayContaining([
            { provider: 'openai', cost_usd: '0.450000', saving_usd: ZERO },
            { provider: 'vercel', cost_usd: '0.450000', saving_usd: ZERO },
          ]),
          cheapest: expect.objectContaining({ cost_usd: '0.450000' }),
          not_compared: [],
        },
      ]);
      const summary = (
        await ok(`/v1/reports/summary?project=${alpha}&period=month&tz=America/New_York&granularity=${granularity}`)
      ).body;
      expect(summary).toMatchObject({
        period: 'month',
        tz: 'America/New_York',
        forecast_method: expect.stringMatching(/^(weekly_rhythm|linear)$/),
      });
    });
  });

  describe('a date-only `to` is the end of that local day (libs/core periods)', () => {
    const ny = (from: string, to: string, granularity: string) =>
      `/v1/reports/spend?project=${alpha}&from=${from}&to=${to}&tz=America/New_York&granularity=${granularity}&group_by=none`;

    it('2026-11-01 in New York by day: 25 hours, its 23:30 EST event in, Nov 2 out', async () => {
      const { body } = await ok(ny('2026-11-01', '2026-11-01', 'day'));
      expect([body.from, body.to]).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
      expect(body.buckets).toEqual(['2026-11-01T04:00:00.000Z']);
      // e2 + e3 + e4 (the last hour, dropped when `to` was local midnight + 24 h); not e1 (Oct 31) nor e5 (Nov 2).
      expect(body.series).toEqual([
        {
          key: 'total',
          label: 'total',
          values: ['0.270000'],
          total: '0.270000',
          unpriced_events: 0,
          partial_events: 0,
        },
      ]);
      expect(body.events).toBe(3);
    });

    it('2026-11-01 in New York by hour: 25 hourly buckets, the last holding 23:30 EST', async () => {
      const { body } = await ok(ny('2026-11-01', '2026-11-01', 'hour'));
      expect(body.buckets).toEqual(hoursFrom('2026-11-01T04:00:00.000Z', 25));
      expect(body.series[0].values).toEqual(valuesAt(25, ZERO, { 1: '0.060000', 2: '0.090000', 24: '0.120000' }));
      expect(body.total).toBe('0.270000');
    });

    it('2026-03-08 in New York by day: 23 hours, its 23:30 EDT event in, Mar 9 00:30 out', async () => {
      const { body } = await ok(ny('2026-03-08', '2026-03-08', 'day'));
      expect([body.from, body.to]).toEqual(['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
      expect(body.buckets).toEqual(['2026-03-08T05:00:00.000Z']);
      // s1 + s2; not s0 (Mar 7) nor s3 (Mar 9, counted when `to` was local midnight + 24 h).
      expect(body.series[0].values).toEqual(['0.015000']);
      expect(body.events).toBe(2);
    });

    it('2026-03-08 in New York by hour: 23 hourly buckets', async () => {
      const { body } = await ok(ny('2026-03-08', '2026-03-08', 'hour'));
      expect(body.buckets).toEqual(hoursFrom('2026-03-08T05:00:00.000Z', 23));
      expect(body.series[0].values).toEqual(valuesAt(23, ZERO, { 1: '0.006000', 22: '0.009000' }));
      expect(body.total).toBe('0.015000');
    });

    it('the same dates in the raw export and compare-providers select the same events', async () => {
      const raw = await ok(
        `/v1/reports/export.csv?project=${alpha}&from=2026-11-01&to=2026-11-01&tz=America/New_York&raw=1`,
      );
      expect(
        csvLines(raw.text)
          .slice(1)
          .map((line) => line.split(',')[3]),
      ).toEqual(['e2', 'e3', 'e4']);
      const spring = await ok(
        `/v1/reports/export.csv?project=${alpha}&from=2026-03-08&to=2026-03-08&tz=America/New_York&raw=1`,
      );
      expect(
        csvLines(spring.text)
          .slice(1)
          .map((line) => line.split(',')[3]),
      ).toEqual(['s1', 's2']);
      const compare = await ok(
        `/v1/reports/compare-providers?project=${alpha}&from=2026-11-01&to=2026-11-01&tz=America/New_York`,
      );
      expect(compare.body.actual_total_usd).toBe('0.270000');
    });
  });

  describe('dates and date-times must be real', () => {
    it.each(['2026-02-30', '2026-04-31', '2026-13-01', '2026-02-29', '0000-01-01', '2026-00-10'])(
      'refuses the date %s as from and as to, naming the field',
      async (date) => {
        for (const field of ['from', 'to']) {
          const other = field === 'from' ? 'to=2026-12-31' : 'from=2026-01-01';
          const res = await viewer.get(`/v1/reports/spend?${field}=${date}&${other}`);
          expect(res.status).toBe(400);
          expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(res.body.errors).toEqual([
            { path: field, message: expect.stringContaining(`${date} does not exist`) },
          ]);
        }
      },
    );

    it.each([
      '2026-02-30T10:00:00Z',
      '2026-11-01T24:00:00Z',
      '2026-11-01T10:60:00Z',
      '2026-11-01T10:00:60Z',
      '2026-11-01T10:00:00+24:00',
      '2026-11-01T10:00:00', // no offset: which zone?
      '2026-11-01T10:00Z',
      'yesterday',
    ])('refuses the date-time %s', async (value) => {
      const res = await viewer.get(`/v1/reports/spend?from=${encodeURIComponent(value)}&to=2026-12-31`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'from', message: expect.any(String) }]);
    });

    it('takes a leap day, offsets and fractions of a second', async () => {
      expect((await ok(`/v1/reports/spend?from=2028-02-29&to=2028-02-29`)).body.buckets).toEqual([
        '2028-02-29T00:00:00.000Z',
      ]);
      const res = await ok(
        `/v1/reports/spend?project=${alpha}&from=${encodeURIComponent('2026-11-01T01:30:00-04:00')}&to=${encodeURIComponent('2026-11-01T01:30:00.000001-05:00')}&granularity=hour&group_by=none`,
      );
      // 05:30Z to 06:30Z: the hours 05:00 (e2) and 06:00 (e3), whole.
      expect([res.body.from, res.body.to, res.body.buckets, res.body.total]).toEqual([
        '2026-11-01T05:30:00.000Z',
        '2026-11-01T06:30:00.000Z',
        ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z'],
        '0.150000',
      ]);
    });

    it('refuses from equal to to, and from after to', async () => {
      for (const q of [
        'from=2026-11-01T10:00:00Z&to=2026-11-01T10:00:00Z',
        'from=2026-11-02&to=2026-11-01',
        'from=2026-11-01T10:00:00Z&to=2026-11-01T09:59:59Z',
      ]) {
        for (const report of ['spend', 'tokens', 'summary', 'compare-providers', 'export.csv']) {
          const res = await viewer.get(`/v1/reports/${report}?${q}`);
          expect([report, q, res.status, res.body.errors]).toEqual([
            report,
            q,
            400,
            [{ path: 'to', message: 'must be after from' }],
          ]);
        }
      }
      // A date-only from and to of the same day is that whole day.
      expect((await ok(`/v1/reports/spend?from=2026-11-01&to=2026-11-01`)).body.buckets).toHaveLength(1);
    });
  });

  describe('other time zones and bucket sizes', () => {
    it('Asia/Kolkata (UTC+05:30): day buckets start at local midnight, 18:30 UTC', async () => {
      const { body } = await ok(
        `/v1/reports/spend?project=${gamma}&from=2026-11-10&to=2026-11-11&tz=Asia/Kolkata&group_by=none`,
      );
      expect(body.buckets).toEqual(['2026-11-09T18:30:00.000Z', '2026-11-10T18:30:00.000Z']);
      expect(body.series[0].values).toEqual(['0.030000', '0.060000']);
    });

    it('week buckets start on Monday at local midnight (Asia/Tokyo)', async () => {
      const tokyo = await ok(
        `/v1/reports/spend?project=${gamma}&from=2026-11-16&to=2026-11-29&tz=Asia/Tokyo&granularity=week&group_by=none`,
      );
      expect(tokyo.body.buckets).toEqual(['2026-11-15T15:00:00.000Z', '2026-11-22T15:00:00.000Z']);
      // t1 is Sunday night in Tokyo, t2 already Monday.
      expect(tokyo.body.series[0].values).toEqual(['0.090000', '0.120000']);
      // In UTC both are on Sunday Nov 22: the week of Monday Nov 16.
      const utc = await ok(
        `/v1/reports/spend?project=${gamma}&from=2026-11-16&to=2026-11-29&granularity=week&group_by=none`,
      );
      expect(utc.body.buckets).toEqual(['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
      expect(utc.body.series[0].values).toEqual(['0.210000', ZERO]);
    });

    it('month buckets in a daylight saving zone (Europe/Berlin) start at local midnight of the 1st', async () => {
      const { body } = await ok(
        `/v1/reports/spend?project=${gamma}&from=2026-10-01&to=2026-11-30&tz=Europe/Berlin&granularity=month&group_by=none`,
      );
      // Oct 1 is in summer time (+02:00), Nov 1 in winter time (+01:00).
      expect(body.buckets).toEqual(['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z']);
      // October: b1. November: b2 and the Kolkata and Tokyo events.
      expect(body.series[0].values).toEqual(['0.150000', '0.480000']);
      expect(
        (
          await ok(
            `/v1/reports/tokens?project=${gamma}&from=2026-10-01&to=2026-11-30&tz=Europe/Berlin&granularity=month`,
          )
        ).body.series.find((s: any) => s.kind === 'output_image').values,
      ).toEqual([5000, 16000]);
    });
  });

  describe('a week or month bucket that starts before `from` holds only the range', () => {
    it("by week and by month from a Wednesday: the totals are the sum of the range's events, not of the whole bucket", async () => {
      // New York, from Wed 2026-11-04: e1-e4 (Oct 31 - Nov 1) happened before `from`, e5 (Mon Nov 2) too. Nothing is in
      // range.
      for (const granularity of ['day', 'week', 'month']) {
        const { body } = await ok(
          `/v1/reports/spend?project=${alpha}&from=2026-11-04&to=2026-11-05&tz=America/New_York&granularity=${granularity}&group_by=none`,
        );
        expect({ granularity, total: body.total, events: body.events }).toEqual({
          granularity,
          total: ZERO,
          events: 0,
        });
      }
      // From Sun Nov 1: e2, e3, e4 (Nov 1) and e5 (Nov 2), whatever the bucket size; e1 (Oct 31) is before `from`.
      for (const granularity of ['day', 'week', 'month']) {
        const { body } = await ok(
          `/v1/reports/spend?project=${alpha}&from=2026-11-01&to=2026-11-02&tz=America/New_York&granularity=${granularity}&group_by=none`,
        );
        // $0.06 + $0.09 + $0.12 + $0.15
        expect({ granularity, total: body.total, events: body.events }).toEqual({
          granularity,
          total: '0.420000',
          events: 4,
        });
        const tokens = (
          await ok(
            `/v1/reports/tokens?project=${alpha}&from=2026-11-01&to=2026-11-02&tz=America/New_York&granularity=${granularity}`,
          )
        ).body;
        const out = tokens.series
          .find((k: any) => k.kind === 'output_image')
          .values.reduce((a: number, b: number) => a + b, 0);
        expect({ granularity, out }).toEqual({ granularity, out: 14000 });
      }
    });
  });

  describe('a range edge inside an hour counts that hour whole, in every report alike', () => {
    it('spend, tokens and compare-providers all count e1 (03:30) for a range from 03:45 (its rollup hour is 03:00)', async () => {
      const range = `project=${alpha}&from=2026-11-01T03:45:00Z&to=2026-11-01T04:00:00Z`;
      expect((await ok(`/v1/reports/spend?${range}&granularity=hour&group_by=none`)).body).toMatchObject({
        total: '0.030000',
        events: 1,
      });
      expect((await ok(`/v1/reports/tokens?${range}&granularity=hour`)).body.breakdown).toEqual([
        expect.objectContaining({ cost_usd: '0.030000', events: 1 }),
      ]);
      expect((await ok(`/v1/reports/compare-providers?${range}`)).body.actual_total_usd).toBe('0.030000');
    });
  });

  describe('a project is named by its id', () => {
    it('refuses a project name (it would match nothing and read as $0), naming project, in every report and export', async () => {
      for (const path of [
        '/v1/reports/spend',
        '/v1/reports/summary',
        '/v1/reports/tokens',
        '/v1/reports/compare-providers',
        '/v1/reports/export.csv',
        '/v1/charts/spend.png',
      ]) {
        const res = await viewer.get(`${path}?project=alpha`);
        expect([path, res.status, res.body.errors?.[0]?.path]).toEqual([path, 400, 'project']);
        expect(res.body.errors[0].message).toContain('"alpha" is not one');
        const mixed = await viewer.get(`${path}?project=${alpha},not-an-id`);
        expect([path, mixed.status]).toEqual([path, 400]);
      }
    });

    it('takes an id in capitals as the same project', async () => {
      const lower = await viewer.get(`/v1/reports/spend?project=${alpha}&from=2026-10-01&to=2026-11-30&tz=UTC`);
      const upper = await viewer.get(
        `/v1/reports/spend?project=${alpha.toUpperCase()}&from=2026-10-01&to=2026-11-30&tz=UTC`,
      );
      expect(lower.body.events).toBeGreaterThan(0);
      expect(upper.body).toEqual(lower.body);
    });
  });

  describe('every range is bounded by the buckets it makes', () => {
    const problem = (res: { status: number; headers: Headers; body: any }) => {
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      return res.body.errors;
    };

    it('refuses 0001-01-01 to 9999-12-31 by day at once, without a 500 or a crash', async () => {
      const started = Date.now();
      const res = await viewer.get('/v1/reports/spend?from=0001-01-01&to=9999-12-31&granularity=day');
      expect(problem(res)).toEqual([
        {
          path: 'from',
          message:
            'this range makes 3,652,059 daily buckets; at most 3,700 (narrow from/to or choose a coarser granularity)',
        },
      ]);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await viewer.get('/health')).status).toBe(200);
    });

    it.each([
      ['spend', '/v1/reports/spend'],
      ['tokens', '/v1/reports/tokens'],
      ['aggregated export', '/v1/reports/export.csv'],
      ['spend chart', '/v1/charts/spend.png'],
      ['tokens chart', '/v1/charts/tokens.png'],
    ])('applies to %s, for every granularity', async (_name, path) => {
      const cases: Array<[string, string, string]> = [
        ['from=0001-01-01&to=9999-12-31&granularity=month', 'from', 'this range makes 119,988 monthly buckets'],
        ['from=0001-01-01&to=9999-12-31&granularity=week', 'from', 'this range makes 521,723 weekly buckets'],
        ['from=0001-01-01&to=9999-12-31&granularity=hour', 'from', 'this range makes 87,649,416 hourly buckets'],
        [
          'from=2016-01-01&to=2026-12-31&granularity=day',
          'granularity',
          'this range makes 4,018 daily buckets; at most 3,700',
        ],
        [
          'from=2026-01-01&to=2026-06-30&granularity=hour',
          'granularity',
          'this range makes 4,344 hourly buckets; at most 3,700',
        ],
      ];
      for (const [query, field, message] of cases) {
        expect([query, problem(await viewer.get(`${path}?${query}`))]).toEqual([
          query,
          [{ path: field, message: expect.stringContaining(message) }],
        ]);
      }
    });

    it('allows ten years by day and 154 days by hour', async () => {
      const days = await ok(`/v1/reports/spend?project=${alpha}&from=2016-11-01&to=2026-10-31&group_by=none`);
      expect(days.body.buckets).toHaveLength(3652);
      expect(days.body.buckets[0]).toBe('2016-11-01T00:00:00.000Z');
      expect(days.body.buckets.at(-1)).toBe('2026-10-31T00:00:00.000Z');
      // s0..s3 happened in this range, e1..e5 after it.
      expect(days.body.total).toBe('0.030000');
      const hours = await ok(`/v1/reports/tokens?project=${alpha}&from=2026-06-01&to=2026-11-01&granularity=hour`);
      expect(hours.body.buckets).toHaveLength(154 * 24);
      expect(
        hours.body.series.find((s: any) => s.kind === 'output_image').values.reduce((a: number, b: number) => a + b, 0),
      ).toBe(1000 + 2000 + 3000);
      // The largest charts still render.
      for (const chart of [
        `spend.png?project=${alpha}&from=2016-11-01&to=2026-10-31`,
        `tokens.png?project=${alpha}&from=2026-06-01&to=2026-11-01&granularity=hour`,
      ]) {
        const res = await fetch(`${t.url}/v1/charts/${chart}`, { headers: { authorization: `Bearer ${viewer.key}` } });
        expect([chart, res.status]).toEqual([chart, 200]);
      }
      const months = await ok(
        `/v1/reports/export.csv?project=${alpha}&from=1800-01-01&to=2026-12-31&granularity=month&group_by=none`,
      );
      expect(csvLines(months.text)).toHaveLength(1 + 227 * 12);
    });

    it('answers ranges that do not bucket correctly: summary, compare-providers, the raw export and providers.png', async () => {
      const all = 'from=0001-01-01&to=9999-12-31&granularity=hour';
      const compare = await ok(`/v1/reports/compare-providers?project=${alpha}&${all}`);
      expect([compare.body.from, compare.body.to, compare.body.actual_total_usd]).toEqual([
        '0001-01-01T00:00:00.000Z',
        '+010000-01-01T00:00:00.000Z',
        '0.480000',
      ]);
      const raw = await ok(`/v1/reports/export.csv?project=${alpha}&${all}&raw=1`);
      expect(
        csvLines(raw.text)
          .slice(1)
          .map((line) => line.split(',')[3]),
      ).toEqual(['s0', 's1', 's2', 's3', 'e1', 'e2', 'e3', 'e4', 'e5']);
      const summary = await ok(`/v1/reports/summary?project=${alpha}&${all}`);
      expect(summary.body.period).toBe('month');
      const chart = await fetch(`${t.url}/v1/charts/providers.png?project=${alpha}&${all}`, {
        headers: { authorization: `Bearer ${viewer.key}` },
      });
      expect(chart.status).toBe(200);
      // Far dates that make few buckets are answered too, in every zone.
      const first = await ok(`/v1/reports/spend?from=0001-01-01&to=0001-01-03&group_by=none`);
      expect(first.body.buckets).toEqual([
        '0001-01-01T00:00:00.000Z',
        '0001-01-02T00:00:00.000Z',
        '0001-01-03T00:00:00.000Z',
      ]);
      const last = await ok(
        `/v1/reports/spend?from=9999-12-30&to=9999-12-31&tz=America/New_York&granularity=hour&group_by=none`,
      );
      expect([last.body.buckets.length, last.body.to]).toEqual([48, '+010000-01-01T05:00:00.000Z']);
      const tokyo = await ok(`/v1/reports/spend?from=0001-01-01&to=0001-01-01&tz=Asia/Tokyo&group_by=none`);
      expect(tokyo.body.buckets).toHaveLength(1);
    });
  });
});

/**
 * The summary's month-end forecast is libs/core's forecastPeriodEnd with the
 * inputs budgets give it. Both are asked at the same instant (the clock is
 * pinned, Date only) on the same data, in New York.
 *
 * Data: one event a day at local noon from Wed Sep 16 to Tue Oct 20, $0.03 on
 * weekdays and $0.003 at weekends, and $0.03 on Wed Oct 21 at 10:00 EDT.
 */
describe('one forecast for budgets and the summary', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let budgetId: string;
  const TZ = 'America/New_York';

  beforeAll(async () => {
    t = await startTestApp();
    viewer = await viewerClient(t.http);
    const project = await projectWithIngestKey(t.http, 'forecast');
    const events: Array<Record<string, unknown>> = [];
    for (let day = Date.parse('2026-09-16T16:00:00Z'); day <= Date.parse('2026-10-20T16:00:00Z'); day += 86_400_000) {
      const weekday = new Date(day).getUTCDay();
      events.push(
        event(
          `noon-${new Date(day).toISOString().slice(0, 10)}`,
          new Date(day).toISOString(),
          weekday === 0 || weekday === 6 ? 100 : 1000,
        ),
      );
    }
    events.push(event('morning-2026-10-21', '2026-10-21T14:00:00Z', 1000));
    await ingest(project.client, events);
    const budget = await t.http.post('/v1/budgets', {
      name: 'Everything, monthly',
      amount_usd: '1.00',
      period: 'month',
      timezone: TZ,
    });
    expect(budget.status).toBe(201);
    budgetId = budget.body.id;
  });
  afterAll(() => t?.close());

  /** Summary and budget status at `now`, with Date (only) pinned there. */
  async function bothAt(now: string) {
    jest.useFakeTimers({
      now: new Date(now),
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      const summary = await viewer.get(`/v1/reports/summary?period=month&tz=${TZ}`);
      const status = await viewer.get(`/v1/budgets/${budgetId}/status`);
      expect([summary.status, status.status]).toEqual([200, 200]);
      return { summary: summary.body, budget: status.body };
    } finally {
      jest.useRealTimers();
    }
  }

  it('uses the weekly rhythm with 28 days of history, and both say the same figure', async () => {
    // Wed Oct 21, 14:00 EDT. Spent: 14 weekdays and 6 weekend days of October, and this morning: 0.468.
    // History Sep 23..Oct 20: total 0.624, last 7 days 0.156; a weekday ahead: 0.156 x 0.12 / 0.624 = 0.03, a weekend
    // day 0.003.
    // Ahead: 10 of today's 24 hours (0.0125), 7 weekdays and 3 weekend days to Oct 31: 0.2315.
    const { summary, budget } = await bothAt('2026-10-21T18:00:00Z');
    expect(summary).toMatchObject({
      period_start: '2026-10-01T04:00:00.000Z',
      period_end: '2026-11-01T04:00:00.000Z',
      spent: '0.468000',
      forecast: '0.699500',
      forecast_method: 'weekly_rhythm',
    });
    expect(summary.forecast_explanation).toMatch(/weekday rhythm/);
    expect(budget).toMatchObject({ spent_usd: '0.468000', forecast_usd: '0.699500', forecast_method: 'weekly_rhythm' });
  });

  it('is linear without enough history, and both say the same figure', async () => {
    // Sun Sep 20, 14:00 EDT: spend on 4 of the last 28 days. Spent 0.096 (Wed-Fri 0.03, Sat and today 0.003),
    // over 19 days 14 hours of September's 30: 0.096 x 2,592,000 / 1,692,000 = 0.1470638... -> 0.147064.
    const { summary, budget } = await bothAt('2026-09-20T18:00:00Z');
    expect(summary).toMatchObject({ spent: '0.096000', forecast: '0.147064', forecast_method: 'linear' });
    expect(summary.forecast_explanation).toMatch(/linear/);
    expect(budget).toMatchObject({ spent_usd: '0.096000', forecast_usd: '0.147064', forecast_method: 'linear' });
  });

  it('answers the same forecast at the real clock too', async () => {
    const summary = (await viewer.get(`/v1/reports/summary?period=month&tz=${TZ}`)).body;
    const budget = (await viewer.get(`/v1/budgets/${budgetId}/status`)).body;
    // Today (late November 2026): no spend in November, none in the last 28 days.
    expect([summary.forecast, summary.forecast_method, budget.forecast_usd, budget.forecast_method]).toEqual([
      ZERO,
      'linear',
      ZERO,
      'linear',
    ]);
  });
});
