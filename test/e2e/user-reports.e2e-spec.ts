import fc from 'fast-check';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Decimal, formatUsd } from '@tokentally/core';
import { RollupCompactor } from '@tokentally/ingest';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

/**
 * Spend by user, read by ranking users on the daily user rollup first
 * (docs/reports.md, "How user reports stay fast"), gives exactly the figures
 * of adding up the events themselves, bucketed as the report buckets them
 * (each event in its UTC hour, the hour in the local day, week or month of
 * `tz` holding its start): for random ranges (dates and date-times), time
 * zones with half- and quarter-hour offsets and daylight saving changes
 * inside the data, granularities, limits, filters and bases; with rollups in
 * the compacted tables and still in the deltas, and after a restatement.
 */
const ZONES = [
  'UTC',
  'Asia/Kolkata',
  'America/St_Johns',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/Sao_Paulo',
  'Pacific/Kiritimati',
];
const USERS = [
  'u_01',
  'u_02',
  'u_03',
  'u_04',
  'u_05',
  'u_06',
  'u_07',
  'u_08',
  'u_09',
  'u_10',
  'u_11',
  'u_12',
  'u_13',
  '(none)',
  '',
];
const DATA_FROM = Date.parse('2026-09-26T00:00:00Z');
const DATA_TO = Date.parse('2026-11-26T00:00:00Z');
const HOUR = 3_600_000;

/** A deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Random events; with `edges`, one in each hour that starts or ends a local
 * day of a test zone on some day (22:00 and 23:00 UTC for Berlin, 18:00 for
 * Kolkata, 04:00 and 05:00 for New York, 02:00 and 03:00 for St. John's)
 * instead of a random time, so that counting such an hour or not shows.
 */
function events(count: number, seed: number, prefix: string, edges = false): Array<Record<string, unknown>> {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const days = (DATA_TO - DATA_FROM) / (24 * HOUR);
  return Array.from({ length: count }, (_, i) => {
    const at = edges
      ? DATA_FROM + Math.floor(r() * days) * 24 * HOUR + pick([22, 23, 18, 4, 5, 2, 3]) * HOUR + Math.floor(r() * HOUR)
      : DATA_FROM + Math.floor(r() * (DATA_TO - DATA_FROM));
    const user = pick(USERS);
    const kind = r();
    // Mostly priced gpt-image-2; some partly priced (gpt-image-1 has no text-output rate) and unpriced (an unknown
    // provider).
    const provider = kind < 0.05 ? 'acme' : kind < 0.3 ? 'vercel' : 'openai';
    const model = kind > 0.95 ? 'gpt-image-1' : 'gpt-image-2';
    return usageEvent({
      event_id: `${prefix}-${i}`,
      timestamp: new Date(at).toISOString(),
      provider,
      model,
      usage: {
        input_text_tokens: 1 + Math.floor(r() * 500),
        output_image_tokens: Math.floor(r() * 5000),
        ...(model === 'gpt-image-1' ? { output_text_tokens: 100 } : {}),
      },
      dimensions: user === '' ? { team: 'growth' } : { user, team: 'growth' },
      tags: {},
      status: r() < 0.1 ? 'error' : 'ok',
      latency_ms: r() < 0.2 ? null : Math.floor(r() * 20000),
    });
  });
}

interface Query {
  from: string;
  to: string;
  tz: string;
  granularity: 'hour' | 'day' | 'week' | 'month';
  limit: number;
  basis: 'restated' | 'ingested';
  provider: string | null;
  project: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const date = (ms: number) => iso(ms).slice(0, 10);

/** Ranges inside and around the data, as dates (local days of tz) or as instants at any minute. */
const queries = fc
  .record({
    start: fc.integer({ min: DATA_FROM - 3 * 24 * HOUR, max: DATA_TO }),
    length: fc.integer({ min: 1, max: 70 * 24 * 60 }), // minutes: up to 70 days, so whole months too
    asDates: fc.boolean(),
    tz: fc.constantFrom(...ZONES),
    granularity: fc.constantFrom('hour' as const, 'day' as const, 'week' as const, 'month' as const),
    limit: fc.integer({ min: 1, max: 16 }),
    basis: fc.constantFrom('restated' as const, 'ingested' as const),
    provider: fc.constantFrom(null, null, 'openai', 'vercel,acme'),
    project: fc.constantFrom(null, null, 0, 1, 2),
  })
  .map(({ start, length, asDates, ...rest }): Query => {
    const from = Math.floor(start / 60_000) * 60_000;
    const to = from + length * 60_000;
    return asDates ? { ...rest, from: date(from), to: date(to) } : { ...rest, from: iso(from), to: iso(to) };
  });

describe('spend by user, exactly as the events add up', () => {
  let t: TestApp;
  let db: DataSource;
  let viewer: HttpClient;
  const projects: string[] = [];

  beforeAll(async () => {
    // Compaction by hand, so that some rollup rows are in the deltas and some in the tables.
    t = await startTestApp({ RUN_JOBS: 'false' });
    db = t.app.get(DataSource);
    viewer = await viewerClient(t.http);
    for (const name of ['p-one', 'p-two']) {
      const p = await projectWithIngestKey(t.http, name);
      projects.push(p.projectId);
      const compacted = [
        ...events(300, name === 'p-one' ? 1 : 2, `${name}-a`),
        ...events(300, name === 'p-one' ? 5 : 6, `${name}-e`, true),
      ];
      for (let i = 0; i < compacted.length; i += 100) await expectAccepted(p.client, compacted.slice(i, i + 100));
      await t.app.get(RollupCompactor).compactOnce();
      await expectAccepted(p.client, events(100, name === 'p-one' ? 3 : 4, `${name}-b`));
    }
    // Ties: users with the very same spend, and two with none (unpriced calls), cut by the limit in the middle.
    const ties = await projectWithIngestKey(t.http, 'p-ties');
    projects.push(ties.projectId);
    const same = (user: string, i: number, provider = 'openai') =>
      usageEvent({
        event_id: `tie-${i}`,
        timestamp: '2026-10-20T10:15:00Z',
        provider,
        usage: { output_image_tokens: 1000 },
        dimensions: { user },
        tags: {},
      });
    await expectAccepted(ties.client, [
      ...['u_b', 'U_a', 'u_a', 'é', 'e', 'z', 'Z'].map((user, i) => same(user, i)),
      same('zero-1', 10, 'acme'),
      same('zero-2', 11, 'acme'),
    ]);
  });
  afterAll(() => t?.close());

  // The ranked reading checks its parts against each other and falls back to adding up every user's
  // rows when they disagree: that must never happen here, or the fast path would go untested.
  const errors = jest.spyOn(Logger.prototype, 'error');
  afterEach(() => {
    expect(errors.mock.calls.filter(([message]) => String(message).startsWith('spend by user'))).toEqual([]);
  });

  async function expectAccepted(client: HttpClient, batch: Array<Record<string, unknown>>) {
    const res = await client.post('/v1/events', { events: batch });
    if (res.status !== 202 || res.body.accepted !== batch.length) throw new Error(`ingest: ${res.status} ${res.text}`);
  }

  function path(q: Query): string {
    const p = new URLSearchParams({
      from: q.from,
      to: q.to,
      tz: q.tz,
      granularity: q.granularity,
      group_by: 'user',
      limit: String(q.limit),
      basis: q.basis,
    });
    if (q.provider) p.set('provider', q.provider);
    if (q.project !== null) p.set('project', projects[q.project]);
    return `/v1/reports/spend?${p}`;
  }

  /**
   * The report computed from usage_events directly: each event in its UTC
   * hour (a range edge inside an hour counts that hour whole), the hour in
   * the bucket of `tz` holding its start, only the buckets of the report
   * counted; series by user ('' is '(none)'), biggest first, beyond `limit`
   * summed into '(other)'.
   */
  async function fromEvents(q: Query, report: { from: string; to: string; buckets: string[] }) {
    const params: unknown[] = [new Date(Math.floor(Date.parse(report.from) / HOUR) * HOUR), report.to];
    const where = [`hour >= $1`, `hour < $2`];
    if (q.provider) {
      params.push(q.provider.split(','));
      where.push(`provider = ANY($${params.length}::text[])`);
    }
    if (q.project !== null) {
      params.push(projects[q.project]);
      where.push(`project_id = $${params.length}`);
    }
    if (q.granularity !== 'hour') params.push(q.tz);
    const bucket =
      q.granularity === 'hour'
        ? 'hour'
        : `date_trunc('${q.granularity}', hour AT TIME ZONE $${params.length}::text) AT TIME ZONE $${params.length}::text`;
    const cost = q.basis === 'ingested' ? 'cost_ingested_usd' : 'cost_usd';
    const rows: Array<{
      b: Date;
      user_id: string;
      cost: string;
      events: number;
      unpriced: number;
      partial: number;
      partial_cost: string;
    }> = await db.query(
      `SELECT ${bucket} AS b, user_id, coalesce(sum(${cost}), 0)::text AS cost, count(*)::int AS events,
         count(*) FILTER (WHERE pricing = 'unpriced')::int AS unpriced, count(*) FILTER (WHERE pricing = 'partial')::int AS partial,
         coalesce(sum(cost_usd) FILTER (WHERE pricing = 'partial'), 0)::text AS partial_cost
       FROM (SELECT *, date_trunc('hour', occurred_at, 'UTC') AS hour FROM usage_events) e
       WHERE ${where.join(' AND ')}
       GROUP BY 1, 2`,
      params,
    );
    const index = new Map(report.buckets.map((b, i) => [Date.parse(b), i]));
    const series = new Map<string, { values: Decimal[]; unpriced: number; partial: number }>();
    let events = 0;
    let unpriced = 0;
    let partial = 0;
    let partialCost = Decimal.ZERO;
    for (const row of rows) {
      const i = index.get(new Date(row.b).getTime());
      if (i === undefined) continue;
      const key = row.user_id === '' ? '(none)' : row.user_id;
      const s = series.get(key) ?? { values: report.buckets.map(() => Decimal.ZERO), unpriced: 0, partial: 0 };
      s.values[i] = s.values[i].add(Decimal.parse(row.cost));
      s.unpriced += row.unpriced;
      s.partial += row.partial;
      series.set(key, s);
      events += row.events;
      unpriced += row.unpriced;
      partial += row.partial;
      partialCost = partialCost.add(Decimal.parse(row.partial_cost));
    }
    const sum = (values: Decimal[]) => values.reduce((a, b) => a.add(b), Decimal.ZERO);
    const sorted = [...series.entries()]
      .map(([key, s]) => ({ key, ...s, total: sum(s.values) }))
      .sort((a, b) => b.total.compare(a.total) || a.key.localeCompare(b.key));
    const kept = sorted.slice(0, q.limit);
    const rest = sorted.slice(q.limit);
    if (rest.length > 0) {
      const values = report.buckets.map((_, i) => sum(rest.map((s) => s.values[i])));
      kept.push({
        key: '(other)',
        values,
        total: sum(values),
        unpriced: rest.reduce((n, s) => n + s.unpriced, 0),
        partial: rest.reduce((n, s) => n + s.partial, 0),
      });
    }
    return {
      series: kept.map((s) => ({
        key: s.key,
        label: s.key,
        values: s.values.map(formatUsd),
        total: formatUsd(s.total),
        unpriced_events: s.unpriced,
        partial_events: s.partial,
      })),
      total: formatUsd(sum(kept.map((s) => s.total))),
      events,
      partial_events: partial,
      partial_cost_usd: formatUsd(partialCost),
      unpriced_events: unpriced,
    };
  }

  async function check(q: Query): Promise<void> {
    const res = await viewer.get(path(q));
    // A range the report refuses (to before from, too many buckets): not this test's subject.
    if (res.status === 400) return;
    expect(res.status).toBe(200);
    const { series, total, events, partial_events, partial_cost_usd, unpriced_events } = res.body;
    expect({ series, total, events, partial_events, partial_cost_usd, unpriced_events }).toEqual(
      await fromEvents(q, res.body),
    );
  }

  it('has users beyond any limit, rows in the deltas and in the tables, and some events without a user', async () => {
    const [{ users, deltas, daily }] = await db.query(
      `SELECT (SELECT count(DISTINCT user_id) FROM usage_events)::int AS users, (SELECT count(*) FROM usage_rollup_user_deltas)::int AS deltas,
         (SELECT count(*) FROM usage_rollup_user_daily)::int AS daily`,
    );
    expect(users).toBe(USERS.length + 9);
    expect(deltas).toBeGreaterThan(0);
    expect(daily).toBeGreaterThan(0);
  });

  // 300 reports and their checks: a minute on a quiet machine was enough, not beside another test pass and a
  // benchmark on two cores (CI of 2026-11-30 timed out here with every figure right so far).
  it('gives the figures of the events for random ranges, zones, granularities, limits and filters', async () => {
    await fc.assert(fc.asyncProperty(queries, check), { numRuns: 300, seed: 1201, endOnFailure: true });
  }, 240_000);

  it("gives them for the edge cases by name: Kolkata and St. John's days, a range inside one hour, a limit of one", async () => {
    const cases: Query[] = [
      {
        from: '2026-10-02',
        to: '2026-11-20',
        tz: 'Asia/Kolkata',
        granularity: 'day',
        limit: 5,
        basis: 'restated',
        provider: null,
        project: null,
      },
      {
        from: '2026-10-30',
        to: '2026-11-03',
        tz: 'America/St_Johns',
        granularity: 'day',
        limit: 3,
        basis: 'restated',
        provider: null,
        project: null,
      },
      {
        from: '2026-10-30',
        to: '2026-11-03',
        tz: 'America/St_Johns',
        granularity: 'hour',
        limit: 12,
        basis: 'restated',
        provider: null,
        project: null,
      },
      {
        from: '2026-10-10T10:05:00Z',
        to: '2026-10-10T10:40:00Z',
        tz: 'UTC',
        granularity: 'hour',
        limit: 1,
        basis: 'restated',
        provider: null,
        project: null,
      },
      {
        from: '2026-10-01T18:30:00Z',
        to: '2026-11-25T18:29:00Z',
        tz: 'Asia/Kolkata',
        granularity: 'month',
        limit: 1,
        basis: 'ingested',
        provider: null,
        project: 0,
      },
      {
        from: '2026-09-01',
        to: '2026-12-31',
        tz: 'Australia/Lord_Howe',
        granularity: 'week',
        limit: 100,
        basis: 'restated',
        provider: null,
        project: null,
      },
      // October whole in UTC (a month of the monthly rollup) and in Berlin (not: its days start at 22:00 or 23:00 UTC).
      {
        from: '2026-10-01',
        to: '2026-10-31',
        tz: 'UTC',
        granularity: 'day',
        limit: 4,
        basis: 'restated',
        provider: 'openai',
        project: null,
      },
      {
        from: '2026-10-01',
        to: '2026-10-31',
        tz: 'Europe/Berlin',
        granularity: 'month',
        limit: 4,
        basis: 'restated',
        provider: null,
        project: 1,
      },
      // Ties at the cut, settled by key in the report's order; users without spend.
      ...[1, 3, 5, 7, 8].map((limit): Query => ({
        from: '2026-10-20',
        to: '2026-10-20',
        tz: 'UTC',
        granularity: 'hour',
        limit,
        basis: 'restated',
        provider: null,
        project: 2,
      })),
      // To the end of the data and beyond: September and November hold data on some days only, and count whole.
      {
        from: '2026-09-20',
        to: '2026-12-05',
        tz: 'UTC',
        granularity: 'week',
        limit: 6,
        basis: 'ingested',
        provider: null,
        project: null,
      },
    ];
    for (const q of cases) await check(q);
  });

  /** Rows of the daily (monthly) user rollup that differ from the hourly one summed by UTC day (month). */
  const differences = (grain: 'day' | 'month') =>
    db.query(`
      SELECT bucket, project_id, provider, model, user_id FROM (
        SELECT date_trunc('${grain}', bucket, 'UTC') AS bucket, project_id, provider, model, user_id, sum(events) AS events, sum(cost_usd) AS cost,
          sum(cost_ingested_usd) AS ingested, sum(unpriced_events) AS unpriced, sum(partial_events) AS partial, sum(partial_cost_usd) AS partial_cost,
          sum(latency_ms_sum) AS latency, sum(latency_events) AS latency_n
        FROM usage_rollup_user_hourly GROUP BY 1, 2, 3, 4, 5
      ) h FULL JOIN (
        SELECT bucket, project_id, provider, model, user_id, events, cost_usd AS cost, cost_ingested_usd AS ingested, unpriced_events AS unpriced,
          partial_events AS partial, partial_cost_usd AS partial_cost, latency_ms_sum AS latency, latency_events AS latency_n
        FROM usage_rollup_user_${grain === 'day' ? 'daily' : 'monthly'}
      ) d USING (bucket, project_id, provider, model, user_id)
      WHERE (h.events, h.cost, h.ingested, h.unpriced, h.partial, h.partial_cost, h.latency, h.latency_n)
        IS DISTINCT FROM (d.events, d.cost, d.ingested, d.unpriced, d.partial, d.partial_cost, d.latency, d.latency_n)`);

  it('keeps the daily and monthly user rollups equal to the hourly one by UTC day and month, and gives the same figures after compaction', async () => {
    await t.app.get(RollupCompactor).compactOnce();
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_rollup_user_deltas`);
    expect(n).toBe(0);
    expect(await differences('day')).toEqual([]);
    expect(await differences('month')).toEqual([]);
    await fc.assert(fc.asyncProperty(queries, check), { numRuns: 30, seed: 1202, endOnFailure: true });
  });

  it('follows a restatement (re-priced events move the daily rollup too)', async () => {
    const put = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-2',
      prices: { input_text: '4', output_image: '21' },
      effective_from: '2026-01-01T00:00:00Z',
    });
    expect(put.status).toBe(200);
    const restated = await t.http.post('/v1/pricing/reprice', {
      from: '2026-10-15T00:00:00Z',
      to: '2026-11-05T07:30:00Z',
      provider: 'openai',
      model: 'gpt-image-2',
    });
    expect(restated.status).toBe(201);
    expect(restated.body.events_changed).toBeGreaterThan(0);
    // Part of the restatement folded in, part still in the deltas.
    await fc.assert(fc.asyncProperty(queries, check), { numRuns: 20, seed: 1203, endOnFailure: true });
    await t.app.get(RollupCompactor).compactOnce();
    expect(await differences('day')).toEqual([]);
    expect(await differences('month')).toEqual([]);
    await fc.assert(fc.asyncProperty(queries, check), { numRuns: 20, seed: 1204, endOnFailure: true });
  });
});

describe('spend by user without any data', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RUN_JOBS: 'false' });
  });
  afterAll(() => t?.close());

  it('answers the longest range by month at once: no hours are generated where no rollup row is', async () => {
    const started = Date.now();
    const res = await t.http.get(
      '/v1/reports/spend?from=0001-01-01&to=0308-12-31&granularity=month&group_by=user&tz=Asia/Kolkata',
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ series: [], total: '0.000000', events: 0 });
    expect(res.body.buckets).toHaveLength(3696);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
