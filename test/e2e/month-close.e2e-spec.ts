import { DataSource } from 'typeorm';
import { Decimal, formatUsd } from '@tokentally/core';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';
import { csvObjects } from '../support/csv';

const sum = (values: string[]) => values.reduce((a, v) => a.add(Decimal.parse(v || '0')), Decimal.ZERO);

/**
 * Month close (GET /v1/reports/month-close and .csv): October 2026 in
 * Europe/Berlin is [2026-09-30T22:00Z, 2026-10-31T23:00Z) (daylight saving
 * ends on the 25th), in Asia/Kolkata [2026-09-30T18:30Z, 2026-10-31T18:30Z).
 * Expected figures are the stored events' own costs, added up here.
 */
describe('month close', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let db: DataSource;
  let alpha: string;
  let beta: string;

  // Varied token counts, so costs have many digits and a sum that is off by one shows.
  const edit = (id: string, timestamp: string, extra: Record<string, unknown> = {}) =>
    usageEvent({
      event_id: id,
      timestamp,
      usage: {
        input_text_tokens: 117 + id.length,
        input_image_tokens: 1291,
        output_image_tokens: 4163 + 7 * id.length,
      },
      images: 1,
      dimensions: { team: 'growth', user: 'u_1', feature: 'avatars', environment: 'prod' },
      tags: {},
      ...extra,
    });

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    viewer = await viewerClient(t.http);
    const a = await projectWithIngestKey(t.http, 'alpha');
    const b = await projectWithIngestKey(t.http, 'beta');
    alpha = a.projectId;
    beta = b.projectId;
    const posted = await a.client.post('/v1/events', {
      events: [
        // Berlin's October edges: its first and last local instants, and the instants just outside.
        edit('berlin-before', '2026-09-30T21:59:59.999999Z'),
        edit('berlin-first', '2026-09-30T22:00:00Z'),
        edit('berlin-last', '2026-10-31T22:59:59.999999Z', {
          provider: 'vercel',
          dimensions: { team: 'core', user: 'u_2' },
        }),
        edit('berlin-after', '2026-10-31T23:00:00Z'),
        // Kolkata's edges fall inside UTC hours (+05:30).
        edit('kolkata-before', '2026-09-30T18:29:59.999999Z'),
        edit('kolkata-first', '2026-09-30T18:30:00Z', { images: 3 }),
        edit('kolkata-last', '2026-10-31T18:29:59.999999Z'),
        edit('kolkata-after', '2026-10-31T18:30:00Z'),
        edit('sept-mid', '2026-09-10T10:00:00Z'),
        // Not (wholly) priced: a model without any price, and gpt-image-1 (no text output rate) with text output.
        edit('unpriced', '2026-10-10T10:00:00Z', { model: 'gpt-image-9' }),
        edit('partial', '2026-10-11T10:00:00Z', {
          model: 'gpt-image-1',
          usage: { input_text_tokens: 100, output_text_tokens: 50 },
          images: 0,
        }),
      ],
    });
    expect(posted.body.accepted).toBe(11);
    await b.client.post('/v1/events', {
      events: [
        edit('beta-mid', '2026-10-15T12:00:00Z', { tags: { campaign: 'launch' }, images: 2 }),
        edit('beta-no-team', '2026-10-20T08:00:00Z', { provider: 'vercel', dimensions: {} }),
      ],
    });
    // A restatement of a range in October (an override from Oct 15, then a re-pricing of that day),
    // and one of a range in September recorded now (November): only the first is October's.
    const put = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-2',
      prices: { input_text: '4', input_image: '7', output_image: '21' },
      effective_from: '2026-10-15T00:00:00Z',
    });
    expect(put.status).toBe(200);
    const reprice = await t.http.post('/v1/pricing/reprice', {
      from: '2026-10-15T00:00:00Z',
      to: '2026-10-16T00:00:00Z',
    });
    expect(JSON.parse(reprice.text).events_changed).toBe(1);
    expect(
      (await t.http.post('/v1/pricing/reprice', { from: '2026-09-01T00:00:00Z', to: '2026-09-02T00:00:00Z' })).status,
    ).toBe(201);
    expect((await t.http.delete(`/v1/pricing/overrides/${put.body.id}`)).status).toBe(204);
  });
  afterAll(() => t?.close());

  /** The oracle: the stored events of [from, to), their restated costs added up exactly. */
  const expected = async (from: string, to: string, where = 'true', params: unknown[] = []) => {
    const rows: Array<{ cost_usd: string | null; images: number; pricing: string }> = await db.query(
      `SELECT cost_usd::text AS cost_usd, images, pricing FROM usage_events WHERE occurred_at >= $1 AND occurred_at < $2 AND ${where}`,
      [from, to, ...params],
    );
    return {
      cost_usd: formatUsd(sum(rows.map((r) => r.cost_usd ?? '0'))),
      events: rows.length,
      images: rows.reduce((n, r) => n + Number(r.images), 0),
      unpriced_events: rows.filter((r) => r.pricing === 'unpriced').length,
      partial_events: rows.filter((r) => r.pricing === 'partial').length,
    };
  };

  const close = async (query: string) => {
    const res = await viewer.get(`/v1/reports/month-close?${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  const GROUPS = ['by_project', 'by_team', 'by_provider', 'by_model'] as const;

  it('totals the month in its time zone, edges included, and every group adds up to the total to the digit', async () => {
    const body = await close('month=2026-10&tz=Europe/Berlin');
    expect(body).toMatchObject({
      currency: 'USD',
      month: '2026-10',
      tz: 'Europe/Berlin',
      basis: 'restated',
      from: '2026-09-30T22:00:00.000Z',
      to: '2026-10-31T23:00:00.000Z',
    });
    expect(body.totals).toMatchObject(await expected('2026-09-30T22:00:00Z', '2026-10-31T23:00:00Z'));
    // berlin-first and -last, kolkata-last and -after (Oct 31 in Berlin), unpriced, partial, beta-mid, beta-no-team.
    expect(body.totals.events).toBe(8);
    for (const group of GROUPS) {
      const rows = body[group];
      expect(formatUsd(sum(rows.map((r: any) => r.cost_usd)))).toBe(body.totals.cost_usd);
      expect(rows.reduce((n: number, r: any) => n + r.events, 0)).toBe(body.totals.events);
      expect(rows.reduce((n: number, r: any) => n + r.images, 0)).toBe(body.totals.images);
      expect(rows.reduce((n: number, r: any) => n + r.unpriced_events, 0)).toBe(body.totals.unpriced_events);
      expect(formatUsd(sum(rows.map((r: any) => r.partial_cost_usd)))).toBe(body.totals.partial_cost_usd);
      // Most spent first, shares of the month's cost.
      const costs = rows.map((r: any) => Decimal.parse(r.cost_usd));
      for (let i = 1; i < costs.length; i++) expect(costs[i - 1].compare(costs[i])).toBeGreaterThanOrEqual(0);
      for (const r of rows)
        expect(r.share).toBe(Decimal.parse(r.cost_usd).divide(Decimal.parse(body.totals.cost_usd), 4).toFixedString(4));
    }
  });

  it('names projects, and keys a missing team (none)', async () => {
    const body = await close('month=2026-10&tz=Europe/Berlin');
    expect(body.by_project.map((r: any) => [r.name, r.project_id])).toEqual(
      expect.arrayContaining([
        ['alpha', alpha],
        ['beta', beta],
      ]),
    );
    const ofBeta = await expected('2026-09-30T22:00:00Z', '2026-10-31T23:00:00Z', 'project_id = $3', [beta]);
    expect(ofBeta).toMatchObject({ events: 2, images: 3 });
    expect(body.by_project.find((r: any) => r.name === 'beta')).toMatchObject({ key: beta, ...ofBeta });
    expect(body.by_team.map((r: any) => r.key).sort()).toEqual(['(none)', 'core', 'growth']);
    expect(body.by_provider.map((r: any) => r.key).sort()).toEqual(['openai', 'vercel']);
    expect(body.by_model.map((r: any) => r.key).sort()).toEqual(['gpt-image-1', 'gpt-image-2', 'gpt-image-9']);
  });

  it('counts the first and last local instants of a month in it, and the instants just outside in the months around it', async () => {
    const berlin = await close('month=2026-10&tz=Europe/Berlin&project=' + alpha);
    const ids = async (from: string, to: string) =>
      (
        await db.query(
          `SELECT event_id FROM usage_events WHERE project_id = $1 AND occurred_at >= $2 AND occurred_at < $3 ORDER BY event_id`,
          [alpha, from, to],
        )
      ).map((r: any) => r.event_id);
    const october = await ids('2026-09-30T22:00:00Z', '2026-10-31T23:00:00Z');
    expect(october).toEqual(expect.arrayContaining(['berlin-first', 'berlin-last']));
    expect(october).not.toContain('berlin-before');
    expect(october).not.toContain('berlin-after');
    expect(berlin.totals.events).toBe(october.length);
    const september = await close('month=2026-09&tz=Europe/Berlin&project=' + alpha);
    const november = await close('month=2026-11&tz=Europe/Berlin&project=' + alpha);
    expect(september.totals).toEqual({
      ...september.totals,
      ...(await expected('2026-08-31T22:00:00Z', '2026-09-30T22:00:00Z', 'project_id = $3', [alpha])),
    });
    expect(november.totals.events).toBe(1); // berlin-after
    // Every event of alpha from September to November, once.
    const all = await expected('2026-08-31T22:00:00Z', '2026-11-30T23:00:00Z', 'project_id = $3', [alpha]);
    expect(formatUsd(sum([september, berlin, november].map((m) => m.totals.cost_usd)))).toBe(all.cost_usd);
    expect(september.totals.events + berlin.totals.events + november.totals.events).toBe(all.events);
  });

  it('holds exactly its instants in a zone whose month starts inside a UTC hour (Asia/Kolkata), with no event in two months', async () => {
    const october = await close('month=2026-10&tz=Asia/Kolkata');
    expect(october).toMatchObject({ from: '2026-09-30T18:30:00.000Z', to: '2026-10-31T18:30:00.000Z' });
    expect(october.totals).toMatchObject(await expected('2026-09-30T18:30:00Z', '2026-10-31T18:30:00Z'));
    const september = await close('month=2026-09&tz=Asia/Kolkata');
    expect(september.totals).toMatchObject(await expected('2026-08-31T18:30:00Z', '2026-09-30T18:30:00Z'));
    const november = await close('month=2026-11&tz=Asia/Kolkata');
    expect(november.totals).toMatchObject(await expected('2026-10-31T18:30:00Z', '2026-11-30T18:30:00Z'));
    for (const group of GROUPS)
      expect(formatUsd(sum(october[group].map((r: any) => r.cost_usd)))).toBe(october.totals.cost_usd);
    const raw = csvObjects(
      (await viewer.get('/v1/reports/export.csv?raw=1&from=2026-10-01&to=2026-10-31&tz=Asia/Kolkata')).text,
    );
    expect(raw.map((r) => r.event_id)).toEqual(expect.arrayContaining(['kolkata-first', 'kolkata-last']));
    expect(raw.map((r) => r.event_id)).not.toEqual(expect.arrayContaining(['kolkata-before']));
    expect(formatUsd(sum(raw.map((r) => r.cost_usd)))).toBe(october.totals.cost_usd);
    expect(raw.length).toBe(october.totals.events);
  });

  it('compares with the previous month: absolute and percent change', async () => {
    const body = await close('month=2026-10&tz=Europe/Berlin');
    const previous = await expected('2026-08-31T22:00:00Z', '2026-09-30T22:00:00Z');
    expect(body.previous_month).toEqual({
      month: '2026-09',
      from: '2026-08-31T22:00:00.000Z',
      to: '2026-09-30T22:00:00.000Z',
      totals: { ...previous, partial_cost_usd: '0.000000' },
    });
    const change = Decimal.parse(body.totals.cost_usd).subtract(Decimal.parse(previous.cost_usd));
    expect(body.change).toEqual({
      cost_usd: formatUsd(change),
      pct: change.times(100).divide(Decimal.parse(previous.cost_usd), 1).toFixedString(1),
      events: body.totals.events - previous.events,
    });
    // A month after an empty one: no percent (null), the whole cost is the change.
    const september = await close('month=2026-09&tz=Europe/Berlin&project=' + beta);
    expect(september.totals.cost_usd).toBe('0.000000');
    const october = await close('month=2026-10&tz=Europe/Berlin&project=' + beta);
    expect(october.change).toEqual({ cost_usd: october.totals.cost_usd, pct: null, events: 2 });
    expect(september.by_project).toEqual([]);
    expect(september.totals.cost_usd).toBe('0.000000');
  });

  it("lists the month's restatements (a range overlapping it) with before, after and delta; not another month's", async () => {
    const body = await close('month=2026-10&tz=Europe/Berlin');
    expect(body.restatements).toHaveLength(1);
    const [r] = body.restatements;
    expect(r).toMatchObject({
      reason: 'manual',
      from: '2026-10-15T00:00:00.000Z',
      to: '2026-10-16T00:00:00.000Z',
      events_changed: 1,
      recorded_in_month: false,
      range_overlaps_month: true,
    });
    expect(r.delta_usd).toBe(formatUsd(Decimal.parse(r.after_usd).subtract(Decimal.parse(r.before_usd))));
    expect(Decimal.parse(r.delta_usd).isNegative()).toBe(true); // the override is cheaper
    // beta-mid is the restated event; its stored cost is the month close's.
    const [{ cost }] = await db.query(`SELECT cost_usd::text AS cost FROM usage_events WHERE event_id = 'beta-mid'`);
    expect(formatUsd(Decimal.parse(cost))).toBe(r.after_usd);
    // The re-pricing of September (recorded in November) is September's, and November's by when it was recorded.
    const september = await close('month=2026-09&tz=Europe/Berlin');
    expect(september.restatements.map((x: any) => [x.from, x.recorded_in_month, x.range_overlaps_month])).toEqual([
      ['2026-09-01T00:00:00.000Z', false, true],
    ]);
    const november = await close('month=2026-11&tz=Europe/Berlin');
    expect(november.restatements.map((x: any) => x.recorded_in_month)).toEqual([true, true]);
    // Filtered to projects, a restatement is listed without its totals: they are of every project it re-priced.
    const ofBeta = await close('month=2026-10&tz=Europe/Berlin&project=' + beta);
    expect(ofBeta.restatements).toEqual([
      { ...r, events_examined: null, events_changed: null, before_usd: null, after_usd: null, delta_usd: null },
    ]);
    // basis=ingested totals the costs as ingested: the difference is the restatement's delta.
    const ingested = await close('month=2026-10&tz=Europe/Berlin&basis=ingested&project=' + beta);
    expect(
      Decimal.parse(ingested.totals.cost_usd)
        .subtract(Decimal.parse((await close('month=2026-10&tz=Europe/Berlin&project=' + beta)).totals.cost_usd))
        .toFixedString(6),
    ).toBe(formatUsd(Decimal.parse(r.before_usd).subtract(Decimal.parse(r.after_usd))));
  });

  it('calls out the unpriced and partly priced spend, by model, with the units that had no rate', async () => {
    const body = await close('month=2026-10&tz=Europe/Berlin');
    expect(body.totals.unpriced_events).toBe(1);
    expect(body.totals.partial_events).toBe(1);
    const [{ cost }] = await db.query(`SELECT cost_usd::text AS cost FROM usage_events WHERE event_id = 'partial'`);
    expect(body.totals.partial_cost_usd).toBe(formatUsd(Decimal.parse(cost)));
    expect(body.not_wholly_priced).toMatchObject({
      complete: false,
      unpriced_events: 1,
      partial_events: 1,
      partial_cost_usd: formatUsd(Decimal.parse(cost)),
    });
    expect(body.not_wholly_priced.note).toBe(
      `The total leaves out part of the month's usage: 1 call unpriced (counted at nothing) and 1 call partly priced (counted at the cost of their priced units, ${formatUsd(Decimal.parse(cost))}). They are priced again when a price arrives, as a restatement.`,
    );
    expect(body.not_wholly_priced.models).toEqual([
      {
        provider: 'openai',
        model: 'gpt-image-1',
        unpriced_events: 0,
        partial_events: 1,
        partial_cost_usd: formatUsd(Decimal.parse(cost)),
        unpriced_kinds: ['output_text'],
        note: null,
      },
      {
        provider: 'openai',
        model: 'gpt-image-9',
        unpriced_events: 1,
        partial_events: 0,
        partial_cost_usd: '0.000000',
        unpriced_kinds: [],
        note: 'no price for openai/gpt-image-9',
      },
    ]);
    const beta_ = await close(`month=2026-10&tz=Europe/Berlin&project=${beta}`);
    expect(beta_.not_wholly_priced).toEqual({
      complete: true,
      unpriced_events: 0,
      partial_events: 0,
      partial_cost_usd: '0.000000',
      note: null,
      models: [],
    });
  });

  it('takes the report filters: project, provider, team, tag, user (no split by team then)', async () => {
    const range = ['2026-09-30T22:00:00Z', '2026-10-31T23:00:00Z'];
    const check = async (query: string, where: string, params: unknown[]) => {
      const body = await close(`month=2026-10&tz=Europe/Berlin&${query}`);
      expect(body.totals).toMatchObject(await expected(range[0], range[1], where, params));
      for (const group of GROUPS)
        if (body[group]) expect(formatUsd(sum(body[group].map((r: any) => r.cost_usd)))).toBe(body.totals.cost_usd);
      return body;
    };
    await check(`project=${alpha}`, 'project_id = $3', [alpha]);
    await check('provider=vercel', 'provider = $3', ['vercel']);
    await check('team=growth,core', 'team = ANY($3)', [['growth', 'core']]);
    const tagged = await check('tag:campaign=launch', `tags @> '{"campaign":"launch"}'`, []);
    expect(tagged.filters).toEqual({ 'tag:campaign': ['launch'] });
    expect(tagged.totals.events).toBe(1);
    const user = await check('user=u_2', 'user_id = $3', ['u_2']);
    expect(user.totals.events).toBe(1);
    expect(user.by_team).toBeNull();
    expect((await viewer.get('/v1/reports/month-close?month=2026-10&user=u_2&team=core')).status).toBe(400);
  });

  it('CSV: sections that add up, the JSON total, and the raw export of the month alike, to the digit', async () => {
    const json = await close('month=2026-10&tz=Europe/Berlin');
    const res = await viewer.get('/v1/reports/month-close.csv?month=2026-10&tz=Europe/Berlin');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="tokentally-month-close-2026-10.csv"');
    // (fetch's text() drops the byte-order mark the server sends.)
    expect(
      res.text
        .replace(/^\ufeff/, '')
        .startsWith(
          'month,timezone,basis,section,key,name,cost_usd,events,images,unpriced_events,partial_events,partial_cost_usd,share\r\n',
        ),
    ).toBe(true);
    const rows = csvObjects(res.text);
    const total = rows.filter((r) => r.section === 'total');
    expect(total).toEqual([
      expect.objectContaining({
        month: '2026-10',
        timezone: 'Europe/Berlin',
        key: '2026-10',
        cost_usd: json.totals.cost_usd,
        events: String(json.totals.events),
        share: '1.0000',
      }),
    ]);
    for (const section of ['project', 'team', 'provider', 'model']) {
      const part = rows.filter((r) => r.section === section);
      expect(part.length).toBeGreaterThan(0);
      expect(formatUsd(sum(part.map((r) => r.cost_usd)))).toBe(json.totals.cost_usd);
    }
    expect(
      rows
        .filter((r) => r.section === 'project')
        .map((r) => r.name)
        .sort(),
    ).toEqual(['alpha', 'beta']);
    expect(rows.find((r) => r.section === 'previous_month')).toMatchObject({
      key: '2026-09',
      cost_usd: json.previous_month.totals.cost_usd,
    });
    // The raw events of the month, exported with the same month as dates in the same zone.
    const raw = csvObjects(
      (await viewer.get('/v1/reports/export.csv?raw=1&from=2026-10-01&to=2026-10-31&tz=Europe/Berlin')).text,
    );
    expect(raw.map((r) => r.event_id)).toEqual(expect.arrayContaining(['berlin-first', 'berlin-last']));
    expect(raw.map((r) => r.event_id)).not.toContain('berlin-before');
    expect(raw.map((r) => r.event_id)).not.toContain('berlin-after');
    expect(raw.length).toBe(json.totals.events);
    expect(formatUsd(sum(raw.map((r) => r.cost_usd)))).toBe(json.totals.cost_usd);
    // And the spend report of the same range (a whole-hour zone: the rollup's hours are the month's).
    const spend = (
      await viewer.get(
        '/v1/reports/spend?from=2026-10-01&to=2026-10-31&tz=Europe/Berlin&group_by=none&granularity=month',
      )
    ).body;
    expect(spend.total).toBe(json.totals.cost_usd);
  });

  it('refuses a month that is not YYYY-MM of a real month, naming month', async () => {
    for (const month of [
      '2026-13',
      '2026-1',
      '26-10',
      '',
      '2026-00',
      '0000-10',
      '2026-10-01',
      '2026/10',
      ' 2026-10',
      'x'.repeat(5000),
    ]) {
      const res = await viewer.get(`/v1/reports/month-close?month=${encodeURIComponent(month)}`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'month', message: expect.any(String) }]);
      expect((await viewer.get(`/v1/reports/month-close.csv?month=${encodeURIComponent(month)}`)).status).toBe(400);
    }
    const missing = await viewer.get('/v1/reports/month-close');
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      { path: 'month', message: 'is required (a month written YYYY-MM, such as 2026-10)' },
    ]);
    expect((await viewer.get('/v1/reports/month-close?month=2026-10&month=2026-11')).body.errors).toEqual([
      { path: 'month', message: 'must be given once' },
    ]);
    expect((await viewer.get('/v1/reports/month-close?month=2026%0010')).body.errors[0].path).toBe('month');
  });

  it('refuses other bad parameters, each named, and answers viewers only', async () => {
    const res = await viewer.get('/v1/reports/month-close?month=2026-13&tz=Mars/Olympus&from=2026-10-01&group_by=team');
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: any) => e.path).sort()).toEqual(['from', 'group_by', 'month', 'tz']);
    expect((await viewer.get('/v1/reports/month-close?month=2026-10&warp=1')).body.errors).toEqual([
      { path: 'warp', message: 'is not a known field' },
    ]);
    expect((await viewer.as(null).get('/v1/reports/month-close?month=2026-10')).status).toBe(401);
    // The far ends of the calendar: no month before 0001-01.
    expect((await close('month=0001-01')).previous_month).toBeNull();
    // Local mean time (-04:56:02 in New York then): month edges inside an hour, read from the raw events.
    expect((await close('month=0001-02&tz=America/New_York')).previous_month).toMatchObject({
      month: '0001-01',
      from: '0001-01-01T04:56:02.000Z',
      totals: { events: 0 },
    });
    expect((await close('month=9999-12&tz=Pacific/Kiritimati')).totals.events).toBe(0);
  });
  // Last: it prices October's unpriced call.
  it('lists a new price that priced calls of an earlier month in that month, with the span, provider and model it changed', async () => {
    const before = await close('month=2026-10&tz=Europe/Berlin');
    expect(before.restatements.filter((r: any) => r.reason === 'new_price')).toEqual([]);
    const put = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-9',
      prices: { input_text: '5', input_image: '8', output_image: '30' },
      effective_from: '2026-10-01T00:00:00Z',
    });
    expect(put.status).toBe(200);
    await eventually(async () => {
      const october = await close('month=2026-10&tz=Europe/Berlin');
      expect(october.totals.unpriced_events).toBe(0);
      const priced = october.restatements.filter((r: any) => r.reason === 'new_price');
      expect(priced).toHaveLength(1);
      // The one unpriced call was at 2026-10-10T10:00Z: the record spans it, and names its model.
      expect(priced[0]).toMatchObject({
        provider: 'openai',
        model: 'gpt-image-9',
        from: '2026-10-10T10:00:00.000Z',
        to: '2026-10-10T10:00:00.001Z',
        range_overlaps_month: true,
        events_changed: 1,
      });
    }, 10_000);
    const september = await close('month=2026-09&tz=Europe/Berlin');
    expect(september.restatements.filter((r: any) => r.reason === 'new_price')).toEqual([]);
  });
});
