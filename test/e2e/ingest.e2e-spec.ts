import { DataSource } from 'typeorm';
import { RollupCompactor } from '@tokentally/ingest';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

describe('POST /v1/events: exact cost, idempotent, partial batches', () => {
  let t: TestApp;
  let ingest: HttpClient;
  let projectId: string;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    ({ client: ingest, projectId } = await projectWithIngestKey(t.http));
    db = t.app.get(DataSource);
  });
  afterAll(() => t?.close());

  const editEvent = (provider: string, overrides: Record<string, unknown> = {}) =>
    usageEvent({
      provider,
      operation: 'images.edit',
      usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
      ...overrides,
    });

  it('prices a gpt-image-2 edit on openai at $0.13572', async () => {
    const event = editEvent('openai');
    const res = await ingest.post('/v1/events', event);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [],
      results: [
        { event_id: event.event_id, status: 'accepted', cost_usd: '0.135720', priced: true, pricing: 'priced' },
      ],
    });
  });

  it('prices the same edit on vercel at $0.13185 (one input rate, one output rate)', async () => {
    const res = await ingest.post('/v1/events', editEvent('vercel'));
    expect(res.status).toBe(202);
    expect(res.body.results[0]).toMatchObject({ cost_usd: '0.131850', priced: true });
  });

  it('matches gateway model names (openai/gpt-image-2) to the model', async () => {
    const res = await ingest.post('/v1/events', editEvent('Vercel', { model: 'openai/gpt-image-2' }));
    expect(res.body.results[0]).toMatchObject({ cost_usd: '0.131850', priced: true });
    const stored = await db.query(`SELECT provider, model FROM usage_events WHERE event_id = $1`, [
      res.body.results[0].event_id,
    ]);
    expect(stored).toEqual([{ provider: 'vercel', model: 'gpt-image-2' }]);
  });

  it('bills image output at the image rate when only output image tokens are known', async () => {
    const res = await ingest.post('/v1/events', usageEvent({ usage: { output_image_tokens: 1_000_000 } }));
    expect(res.body.results[0]).toMatchObject({ cost_usd: '30.000000', priced: true });
  });

  it('stores an unknown model unpriced, never as $0', async () => {
    const event = usageEvent({ model: 'gpt-image-9' });
    const res = await ingest.post('/v1/events', event);
    expect(res.status).toBe(202);
    expect(res.body.results[0]).toEqual({
      event_id: event.event_id,
      status: 'accepted',
      cost_usd: null,
      priced: false,
      pricing: 'unpriced',
      unpriced_kinds: [],
      pricing_note: 'no price for openai/gpt-image-9',
    });
    const [row] = await db.query(`SELECT cost_usd, priced, pricing FROM usage_events WHERE event_id = $1`, [
      event.event_id,
    ]);
    expect(row).toEqual({ cost_usd: null, priced: false, pricing: 'unpriced' });
  });

  it('reports a replayed event_id as a duplicate with its original cost and counts it once', async () => {
    const event = editEvent('openai');
    const first = await ingest.post('/v1/events', event);
    const replay = await ingest.post('/v1/events', { ...event, usage: { output_image_tokens: 1 } });
    expect(first.body.accepted).toBe(1);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(replay.body.results[0]).toEqual({
      event_id: event.event_id,
      status: 'duplicate',
      cost_usd: '0.135720',
      priced: true,
      pricing: 'priced',
    });
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_events WHERE event_id = $1`, [event.event_id]);
    expect(n).toBe(1);
  });

  it('counts an event_id repeated inside one batch once', async () => {
    const event = editEvent('openai');
    const res = await ingest.post('/v1/events', { events: [event, event] });
    expect(res.body).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate']);
  });

  it('stores each of many racing copies of the same events exactly once', async () => {
    const events = Array.from({ length: 50 }, () => usageEvent());
    const responses = await Promise.all(Array.from({ length: 8 }, () => ingest.post('/v1/events', { events })));
    expect(responses.every((r) => r.status === 202)).toBe(true);
    const accepted = responses.reduce((sum, r) => sum + r.body.accepted, 0);
    const duplicates = responses.reduce((sum, r) => sum + r.body.duplicates, 0);
    expect(accepted).toBe(50);
    expect(duplicates).toBe(7 * 50);
    const ids = events.map((e) => e.event_id);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_events WHERE event_id = ANY($1)`, [ids]);
    expect(n).toBe(50);
  });

  it('keeps the valid events of a batch and names the fields of the rejected ones', async () => {
    const good = [usageEvent(), usageEvent()];
    const bad = usageEvent({ usage: { input_text_tokens: -5 } });
    const res = await ingest.post('/v1/events', { events: [good[0], bad, good[1]] });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([
      {
        index: 1,
        event_id: bad.event_id,
        errors: [{ path: 'events[1].usage.input_text_tokens', message: 'must not be negative' }],
      },
    ]);
    expect(res.body.results.map((r: { event_id: string }) => r.event_id)).toEqual(good.map((e) => e.event_id));
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_events WHERE event_id = ANY($1)`, [
      [...good, bad].map((e) => e.event_id),
    ]);
    expect(n).toBe(2);
  });

  it('keeps the hourly rollup exactly equal to the events, before and after compaction', async () => {
    const project = await projectWithIngestKey(t.http);
    const hour = Date.parse('2026-11-26T10:00:00Z');
    const events = Array.from({ length: 300 }, (_, i) =>
      usageEvent({
        timestamp: new Date(hour + (i % 3) * 3_600_000 + i * 1000).toISOString(),
        provider: i % 2 ? 'openai' : 'vercel',
        usage: {
          input_text_tokens: 7 * i + 1,
          input_image_tokens: i % 5,
          cached_input_text_tokens: i % 7,
          output_image_tokens: 1000 + i,
        },
        dimensions: { team: `team-${i % 4}` },
      }),
    );
    for (let i = 0; i < events.length; i += 100) {
      expect((await project.client.post('/v1/events', { events: events.slice(i, i + 100) })).status).toBe(202);
    }
    await project.client.post('/v1/events', { events: events.slice(0, 50) }); // replays add nothing

    const totals = async (table: string) =>
      (
        await db.query(
          `SELECT sum(${table === 'usage_events' ? '1' : 'events'})::text AS events, sum(cost_usd)::text AS cost,
                  sum(input_text_tokens)::text AS input_text, sum(output_image_tokens)::text AS output_image
           FROM ${table} WHERE project_id = $1`,
          [project.projectId],
        )
      )[0];
    const fromEvents = await totals('usage_events');
    expect(fromEvents.events).toBe('300');
    expect(await totals('usage_rollup_live')).toEqual(fromEvents);

    const byHour = await db.query(
      `SELECT bucket, provider, team, sum(events)::int AS events FROM usage_rollup_live WHERE project_id = $1
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [project.projectId],
    );
    // 3 hours x 4 teams (a team's events all share one provider), 25 events each
    expect(byHour).toHaveLength(12);
    expect(byHour.every((row: { events: number }) => row.events === 25)).toBe(true);
    expect(byHour[0].bucket.toISOString()).toBe('2026-11-26T10:00:00.000Z');

    // Every event has one tag (campaign): the tag rollup counts each once too.
    const tagTotals = async (table: string) =>
      (
        await db.query(
          `SELECT sum(events)::text AS events, sum(cost_usd)::text AS cost, sum(input_text_tokens)::text AS input_text, sum(output_image_tokens)::text AS output_image FROM ${table} WHERE project_id = $1 AND tag_key = 'campaign'`,
          [project.projectId],
        )
      )[0];
    expect(await tagTotals('usage_rollup_tag_live')).toEqual(fromEvents);

    await t.app.get(RollupCompactor).compactOnce();
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_rollup_deltas WHERE project_id = $1`, [
      project.projectId,
    ]);
    expect(n).toBe(0);
    expect(await totals('usage_rollup_hourly')).toEqual(fromEvents);
    expect(await totals('usage_rollup_live')).toEqual(fromEvents);
    expect(await tagTotals('usage_rollup_tag_hourly')).toEqual(fromEvents);
  });

  it("reuses the delta tables' space after each compaction: forty rounds take no more room than two", async () => {
    const project = await projectWithIngestKey(t.http);
    const compactor = t.app.get(RollupCompactor);
    const deltaBytes = async () =>
      Number(
        (
          await db.query(
            `SELECT (pg_relation_size('usage_rollup_deltas') + pg_relation_size('usage_rollup_tag_deltas')
               + pg_relation_size('usage_rollup_user_deltas'))::text AS bytes`,
          )
        )[0].bytes,
      );
    const round = async (r: number) => {
      // A user and a tag value per event: a delta row per event in the user and tag families.
      const events = Array.from({ length: 400 }, (_, i) =>
        usageEvent({ dimensions: { user: `u-${r}-${i}` }, tags: { request: `q-${r}-${i}` } }),
      );
      expect((await project.client.post('/v1/events', { events })).status).toBe(202);
      await compactor.compactOnce();
    };
    await round(0);
    await round(1);
    const afterTwo = await deltaBytes();
    for (let r = 2; r < 40; r++) await round(r);
    // Without the vacuum after each compaction the tables would hold forty rounds of dead deltas (about 20 times
    // this); autovacuum looks at a database once a minute, too late under load.
    expect(await deltaBytes()).toBeLessThanOrEqual(afterTwo * 2);
    const [{ n }] = await db.query(`SELECT sum(events)::int AS n FROM usage_rollup_user_live WHERE project_id = $1`, [
      project.projectId,
    ]);
    expect(n).toBe(40 * 400);
  });

  it('takes concurrent batches that share rollup rows and event ids in opposite orders without deadlock', async () => {
    const project = await projectWithIngestKey(t.http);
    const shared = Array.from({ length: 40 }, () =>
      usageEvent({ timestamp: '2026-11-26T09:30:00Z', dimensions: { team: 'same' } }),
    );
    const batches = Array.from({ length: 12 }, (_, i) => {
      const own = Array.from({ length: 60 }, () =>
        usageEvent({ timestamp: '2026-11-26T09:45:00Z', dimensions: { team: 'same' } }),
      );
      const ordered = i % 2 ? [...shared].reverse() : shared;
      return [...ordered, ...own];
    });
    const responses = await Promise.all(batches.map((events) => project.client.post('/v1/events', { events })));
    expect(responses.map((r) => r.status)).toEqual(batches.map(() => 202));
    expect(responses.reduce((sum, r) => sum + r.body.accepted, 0)).toBe(40 + 12 * 60);
    const [rollup] = await db.query(
      `SELECT sum(events)::int AS events, sum(cost_usd)::text AS cost FROM usage_rollup_live WHERE project_id = $1`,
      [project.projectId],
    );
    const [events] = await db.query(
      `SELECT count(*)::int AS events, sum(cost_usd)::text AS cost FROM usage_events WHERE project_id = $1`,
      [project.projectId],
    );
    expect(rollup).toEqual(events);
    expect(events.events).toBe(760);
  });

  it('lets an admin ingest into a named project, and asks which one otherwise', async () => {
    const missing = await t.http.post('/v1/events', usageEvent());
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ path: 'project_id', message: 'is required' }]);
    const res = await t.http.post(`/v1/events?project_id=${projectId}`, usageEvent());
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
  });
});

describe('GET /v1/events', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let projectId: string;
  const base = Date.parse('2026-11-20T12:00:00Z');
  const ids: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const project = await projectWithIngestKey(t.http);
    projectId = project.projectId;
    const events = Array.from({ length: 25 }, (_, i) =>
      usageEvent({
        event_id: `evt-${String(i).padStart(2, '0')}`,
        timestamp: new Date(base + i * 60_000).toISOString(),
        provider: i % 2 ? 'openai' : 'vercel',
        dimensions: { team: i < 10 ? 'growth' : 'core' },
        tags: { campaign: i % 5 === 0 ? 'launch' : 'none' },
      }),
    );
    ids.push(...events.map((e) => e.event_id));
    await project.client.post('/v1/events', { events });
    viewer = await viewerClient(t.http);
  });
  afterAll(() => t?.close());

  it('lists events newest first, page by page, each once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await viewer.get(`/v1/events?limit=10&project=${projectId}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((e: { event_id: string }) => e.event_id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('shows the stored event with its cost', async () => {
    const res = await viewer.get(`/v1/events?limit=1&project=${projectId}`);
    expect(res.body.data[0]).toMatchObject({
      event_id: 'evt-24',
      project_id: projectId,
      timestamp: '2026-11-20T12:24:00.000000Z',
      provider: 'vercel',
      model: 'gpt-image-2',
      usage: { input_text_tokens: 120, output_image_tokens: 4160, cached_input_text_tokens: 0 },
      dimensions: { team: 'core' },
      tags: { campaign: 'none' },
      cost_usd: '0.125400',
      priced: true,
    });
  });

  it('filters by provider, team, tag and time range', async () => {
    const byProvider = await viewer.get(`/v1/events?project=${projectId}&provider=openai&limit=100`);
    expect(byProvider.body.data).toHaveLength(12);
    const byTeam = await viewer.get(`/v1/events?project=${projectId}&team=growth&limit=100`);
    expect(byTeam.body.data).toHaveLength(10);
    const byTag = await viewer.get(`/v1/events?project=${projectId}&tag:campaign=launch&limit=100`);
    expect(byTag.body.data.map((e: { event_id: string }) => e.event_id)).toEqual([
      'evt-20',
      'evt-15',
      'evt-10',
      'evt-05',
      'evt-00',
    ]);
    const range = await viewer.get(`/v1/events?project=${projectId}&from=2026-11-20T12:05:00Z&to=2026-11-20T12:08:00Z`);
    expect(range.body.data.map((e: { event_id: string }) => e.event_id)).toEqual(['evt-07', 'evt-06', 'evt-05']);
  });

  it('names bad query parameters', async () => {
    const res = await viewer.get(`/v1/events?limit=0&from=yesterday&project=42&cursor=zzz&colour=red`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const paths = res.body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['colour', 'cursor', 'from', 'limit', 'project'].sort());
  });

  it('refuses dates that do not exist instead of reading 2026-02-30 as March 2', async () => {
    for (const bad of [
      '2026-02-30',
      '2026-04-31',
      '2026-02-29T10:00:00Z',
      '2026-11-20T24:00:00Z',
      '2026-11-20T10:00:00',
    ]) {
      const res = await viewer.get(`/v1/events?from=${encodeURIComponent(bad)}`);
      expect({ bad, status: res.status, paths: res.body.errors?.map((e: { path: string }) => e.path) }).toEqual({
        bad,
        status: 400,
        paths: ['from'],
      });
    }
    expect((await viewer.get('/v1/events?from=2028-02-29&to=2028-03-01T00:00:00%2B01:00')).status).toBe(200);
  });
});
