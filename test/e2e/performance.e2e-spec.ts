import { DataSource } from 'typeorm';
import { RollupCompactor } from '@tokentally/ingest';
import { AddUserDailyRollupAndLatency1795800600000 } from '../../migrations/1795800600000-AddUserDailyRollupAndLatency';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

/**
 * GET /v1/reports/performance: calls, errors, error rate and mean latency
 * per provider and model, with the filters of every report. Figures are
 * hand-computed from the events below.
 */
describe('performance report', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let alpha: string;

  const call = (id: string, timestamp: string, extra: Record<string, unknown> = {}) =>
    usageEvent({ event_id: id, timestamp, dimensions: { team: 'growth', user: 'u_1' }, tags: {}, ...extra });

  beforeAll(async () => {
    t = await startTestApp({ RUN_JOBS: 'false' });
    viewer = await viewerClient(t.http);
    const a = await projectWithIngestKey(t.http, 'alpha');
    const b = await projectWithIngestKey(t.http, 'beta');
    alpha = a.projectId;
    const accepted = async (client: HttpClient, events: Array<Record<string, unknown>>) => {
      const res = await client.post('/v1/events', { events });
      if (res.status !== 202 || res.body.accepted !== events.length)
        throw new Error(`ingest: ${res.status} ${res.text}`);
    };
    await accepted(a.client, [
      // openai gpt-image-2, Nov 10: latencies 100, 200 and 301 ms (one call an error), and one without a latency.
      call('o1', '2026-11-10T10:00:00Z', { latency_ms: 100, tags: { campaign: 'launch' } }),
      call('o2', '2026-11-10T10:30:00Z', { latency_ms: 200, status: 'error', tags: { campaign: 'launch' } }),
      call('o3', '2026-11-10T11:00:00Z', { latency_ms: 301, dimensions: { team: 'core', user: 'u_2' } }),
      call('o4', '2026-11-10T12:00:00Z', { latency_ms: null }),
      // vercel gpt-image-2: 1000 and 1001 ms, a mean of 1000.5 that rounds half up.
      call('v1', '2026-11-10T13:00:00Z', {
        provider: 'vercel',
        latency_ms: 1000,
        dimensions: { team: 'core', user: 'u_2' },
      }),
      call('v2', '2026-11-10T14:00:00Z', {
        provider: 'vercel',
        latency_ms: 1001,
        status: 'error',
        dimensions: { team: 'core', user: 'u_2' },
      }),
    ]);
    // Compacted, then more calls still in the deltas: the report reads both.
    await t.app.get(RollupCompactor).compactOnce();
    await accepted(b.client, [
      // openai gpt-image-1, Nov 11: errors only, one with a latency (99 ms).
      call('g1', '2026-11-11T09:00:00Z', { model: 'gpt-image-1', status: 'error', latency_ms: null }),
      call('g2', '2026-11-11T09:10:00Z', { model: 'gpt-image-1', status: 'error', latency_ms: null }),
      call('g3', '2026-11-11T09:20:00Z', { model: 'gpt-image-1', status: 'error', latency_ms: 99 }),
    ]);
  });
  afterAll(() => t?.close());

  const report = async (query: string) => {
    const res = await viewer.get(`/v1/reports/performance?${query}`);
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${res.text}`);
    return res.body;
  };

  it('gives calls, errors, the error rate and the mean latency per provider and model, and in all', async () => {
    expect(await report('from=2026-11-10&to=2026-11-11')).toEqual({
      from: '2026-11-10T00:00:00.000Z',
      to: '2026-11-12T00:00:00.000Z',
      tz: 'UTC',
      rows: [
        // (100 + 200 + 301) / 3 = 200.33 ms; 1 error in 4 calls.
        {
          provider: 'openai',
          model: 'gpt-image-2',
          events: 4,
          error_events: 1,
          error_rate: '0.250000',
          latency_events: 3,
          mean_latency_ms: 200,
        },
        {
          provider: 'openai',
          model: 'gpt-image-1',
          events: 3,
          error_events: 3,
          error_rate: '1.000000',
          latency_events: 1,
          mean_latency_ms: 99,
        },
        // (1000 + 1001) / 2 = 1000.5 -> 1001.
        {
          provider: 'vercel',
          model: 'gpt-image-2',
          events: 2,
          error_events: 1,
          error_rate: '0.500000',
          latency_events: 2,
          mean_latency_ms: 1001,
        },
      ],
      // 2701 ms over 6 calls with a latency = 450.17 ms; 5 errors in 9 calls = 0.5555...
      total: { events: 9, error_events: 5, error_rate: '0.555556', latency_events: 6, mean_latency_ms: 450 },
    });
  });

  it('applies the filters of every report: project, provider, team, user, tag, and the time zone of date ranges', async () => {
    expect((await report(`from=2026-11-10&to=2026-11-11&project=${alpha}`)).total).toEqual({
      events: 6,
      error_events: 2,
      error_rate: '0.333333',
      latency_events: 5,
      mean_latency_ms: 520,
    });
    expect((await report('from=2026-11-10&to=2026-11-11&provider=vercel')).rows).toEqual([
      {
        provider: 'vercel',
        model: 'gpt-image-2',
        events: 2,
        error_events: 1,
        error_rate: '0.500000',
        latency_events: 2,
        mean_latency_ms: 1001,
      },
    ]);
    // Team core: o3 (301 ms), v1, v2. The main rollup.
    expect((await report('from=2026-11-10&to=2026-11-11&team=core')).rows).toEqual([
      {
        provider: 'vercel',
        model: 'gpt-image-2',
        events: 2,
        error_events: 1,
        error_rate: '0.500000',
        latency_events: 2,
        mean_latency_ms: 1001,
      },
      {
        provider: 'openai',
        model: 'gpt-image-2',
        events: 1,
        error_events: 0,
        error_rate: '0.000000',
        latency_events: 1,
        mean_latency_ms: 301,
      },
    ]);
    // User u_2: the same three calls, from the user rollup.
    expect((await report('from=2026-11-10&to=2026-11-11&user=u_2')).total).toEqual({
      events: 3,
      error_events: 1,
      error_rate: '0.333333',
      latency_events: 3,
      mean_latency_ms: 767,
    });
    // Tag campaign=launch: o1 (100 ms) and o2 (200 ms, an error). The tag rollup.
    expect((await report('from=2026-11-10&to=2026-11-11&tag:campaign=launch')).rows).toEqual([
      {
        provider: 'openai',
        model: 'gpt-image-2',
        events: 2,
        error_events: 1,
        error_rate: '0.500000',
        latency_events: 2,
        mean_latency_ms: 150,
      },
    ]);
    // Nov 10 in Tokyo ends at 15:00 UTC: every Nov 10 call; Nov 11 in Los Angeles starts at 08:00 UTC: the three
    // gpt-image-1 calls.
    expect((await report('from=2026-11-10&to=2026-11-10&tz=Asia/Tokyo')).total.events).toBe(6);
    expect((await report('from=2026-11-11&to=2026-11-11&tz=America/Los_Angeles')).total).toEqual({
      events: 3,
      error_events: 3,
      error_rate: '1.000000',
      latency_events: 1,
      mean_latency_ms: 99,
    });
  });

  it('gives empty rows and null rates for a range without calls', async () => {
    expect(await report('from=2026-01-01&to=2026-01-02')).toMatchObject({
      rows: [],
      total: { events: 0, error_events: 0, error_rate: null, latency_events: 0, mean_latency_ms: null },
    });
  });

  it('takes the report parameters as the other reports do, refusing bad ones by name', async () => {
    const bad = await viewer.get('/v1/reports/performance?tz=Mars/Olympus&from=2026-11-31');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(['from', 'tz']);
    const combined = await viewer.get('/v1/reports/performance?user=u_2&team=core');
    expect(combined.status).toBe(400);
    expect(combined.body.errors).toEqual([
      { path: 'team', message: expect.stringContaining('cannot be combined with user') },
    ]);
    // No bucket limit: performance is one figure per provider and model, whatever the range.
    expect((await viewer.get('/v1/reports/performance?from=2000-01-01&to=2026-12-31&granularity=hour')).status).toBe(
      200,
    );
  });

  it('is for viewers: no key is 401, an ingest key 403', async () => {
    expect((await t.http.as(null).get('/v1/reports/performance')).status).toBe(401);
    const ingest = await projectWithIngestKey(t.http, 'gamma');
    expect((await ingest.client.get('/v1/reports/performance')).status).toBe(403);
  });

  it('keeps latency in every rollup equal to the events, and the migration gives stored events theirs (down, then up, on this data)', async () => {
    const db = t.app.get(DataSource);
    const sums = () =>
      db.query(`
        SELECT (SELECT sum(latency_ms)::bigint FROM usage_events) AS events_sum, (SELECT count(latency_ms)::int FROM usage_events) AS events_n,
          (SELECT sum(latency_ms_sum)::bigint FROM usage_rollup_live) AS main_sum, (SELECT sum(latency_events)::int FROM usage_rollup_live) AS main_n,
          (SELECT sum(latency_ms_sum)::bigint FROM usage_rollup_tag_live) AS tag_sum,
          (SELECT sum(latency_ms_sum)::bigint FROM usage_rollup_user_live) AS user_sum, (SELECT sum(latency_ms_sum)::bigint FROM usage_rollup_user_daily_live) AS daily_sum`);
    // By user and hour, every measure: what the user rollups hold, whichever table a row is in.
    const byUser = () =>
      db.query(`
        SELECT h.*, d.day_events, d.day_cost, d.day_latency FROM (
          SELECT bucket, user_id, sum(events)::int AS events, sum(cost_usd)::text AS cost, sum(latency_ms_sum)::int AS latency, sum(latency_events)::int AS latency_n
          FROM usage_rollup_user_live GROUP BY 1, 2) h
        FULL JOIN (
          SELECT bucket AS day, user_id, sum(events)::int AS day_events, sum(cost_usd)::text AS day_cost, sum(latency_ms_sum)::int AS day_latency
          FROM usage_rollup_user_daily_live GROUP BY 1, 2) d ON d.day = date_trunc('day', h.bucket, 'UTC') AND d.user_id = h.user_id
        ORDER BY 1, 2`);
    // The tag-filtered events (o1, o2) carry 300 ms between them.
    expect(await sums()).toEqual([
      {
        events_sum: '2701',
        events_n: 6,
        main_sum: '2701',
        main_n: 6,
        tag_sum: '300',
        user_sum: '2701',
        daily_sum: '2701',
      },
    ]);
    const before = await byUser();

    const migration = new AddUserDailyRollupAndLatency1795800600000();
    const runner = db.createQueryRunner();
    try {
      await migration.down(runner);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    // gpt-image-1's calls are still in the deltas: their keys get rows in the tables with only their latency.
    expect(await sums()).toEqual([
      {
        events_sum: '2701',
        events_n: 6,
        main_sum: '2701',
        main_n: 6,
        tag_sum: '300',
        user_sum: '2701',
        daily_sum: '2701',
      },
    ]);
    expect(await byUser()).toEqual(before);
    expect((await report('from=2026-11-10&to=2026-11-11')).total).toEqual({
      events: 9,
      error_events: 5,
      error_rate: '0.555556',
      latency_events: 6,
      mean_latency_ms: 450,
    });
  });
});
