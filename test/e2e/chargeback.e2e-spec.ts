import fc from 'fast-check';
import { Decimal } from '@tokentally/core';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';
import { csvObjects } from '../support/csv';

const sum = (values: string[]) => values.reduce((a, v) => a.add(Decimal.parse(v)), Decimal.ZERO);
const TOKEN_COLUMNS = [
  'input_text_tokens',
  'cached_input_text_tokens',
  'input_image_tokens',
  'cached_input_image_tokens',
  'output_image_tokens',
  'output_text_tokens',
];

/**
 * Cost centers and the chargeback CSV (GET /v1/reports/chargeback.csv):
 * each call is charged to the cost center assigned on its UTC day, the most
 * specific assignment first, and the CSV's TOTAL row is the month's spend to
 * the digit, whatever the assignments.
 */
describe('chargeback', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let alpha: { projectId: string; client: HttpClient };
  let beta: { projectId: string; client: HttpClient };
  const centers: Record<string, string> = {};

  const call = (id: string, timestamp: string, team: string | undefined, extra: Record<string, unknown> = {}) =>
    usageEvent({
      event_id: id,
      timestamp,
      usage: { input_text_tokens: 100 + id.length, input_image_tokens: 1000 + id.length, output_image_tokens: 4160 },
      dimensions: team === undefined ? {} : { team },
      tags: {},
      ...extra,
    });

  const chargeback = async (query: string, as = viewer) => {
    const res = await as.get(`/v1/reports/chargeback.csv?${query}`);
    expect([query, res.status]).toEqual([query, 200]);
    return csvObjects(res.text);
  };

  const assign = async (center: string, body: Record<string, unknown>) => {
    const res = await t.http.post(`/v1/cost-centers/${centers[center]}/assignments`, body);
    expect([body, res.status]).toEqual([body, 201]);
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp();
    viewer = await viewerClient(t.http);
    alpha = await projectWithIngestKey(t.http, 'alpha');
    beta = await projectWithIngestKey(t.http, 'beta');
    for (const [name, code] of [
      ['Marketing', 'CC-4100'],
      ['Platform', 'CC-2000'],
      ['Special', null],
    ] as const) {
      const res = await t.http.post('/v1/cost-centers', { name, ...(code ? { code } : {}) });
      expect(res.status).toBe(201);
      centers[name] = res.body.id;
    }
    await assign('Marketing', { project_id: alpha.projectId, valid_from: '2026-10-01' });
    await assign('Platform', { team: 'ops', valid_from: '2026-10-15' });
    await assign('Special', {
      project_id: beta.projectId,
      team: 'growth',
      valid_from: '2026-10-10',
      valid_to: '2026-10-20',
    });
    const a = await alpha.client.post('/v1/events', {
      events: [
        call('a-growth-5', '2026-10-05T10:00:00Z', 'growth'),
        call('a-ops-3', '2026-10-03T10:00:00Z', 'ops'),
        call('a-ops-16', '2026-10-16T00:00:00Z', 'ops'),
        call('a-ops-31', '2026-10-31T23:59:59.999999Z', 'ops'),
        call('a-unpriced', '2026-10-08T00:00:00Z', 'growth', { model: 'gpt-image-9' }),
        call('a-sep', '2026-09-30T23:59:59.999999Z', 'growth'),
        call('a-nov', '2026-11-01T00:00:00Z', 'growth'),
      ],
    });
    expect(a.body).toMatchObject({ accepted: 7, rejected: [] });
    const b = await beta.client.post('/v1/events', {
      events: [
        call('b-growth-12', '2026-10-12T10:00:00Z', 'growth'),
        call('b-growth-20', '2026-10-20T00:00:00Z', 'growth'),
        call('b-none-7', '2026-10-07T10:00:00Z', undefined),
        call('b-formula', '2026-10-09T10:00:00Z', '=HYPERLINK("http://x")'),
      ],
    });
    expect(b.body).toMatchObject({ accepted: 4, rejected: [] });
  });
  afterAll(() => t?.close());

  it('charges each call to the cost center of its day, most specific first, and the total is the month to the digit', async () => {
    const rows = await chargeback('month=2026-10');
    const total = rows.pop()!;
    expect(total).toMatchObject({ month: '2026-10', cost_center: 'TOTAL', events: '9', unpriced_events: '1' });
    const charged = (costCenter: string) =>
      rows
        .filter((r) => r.cost_center === costCenter)
        .map((r) => [r.project, r.team, r.model, r.events])
        .sort();
    expect(charged('Marketing')).toEqual(
      [
        ['alpha', 'growth', 'gpt-image-2', '1'],
        ['alpha', 'growth', 'gpt-image-9', '1'],
        // a-ops-3 is before Platform's assignment of team ops starts (2026-10-15): alpha's project assignment.
        ['alpha', 'ops', 'gpt-image-2', '1'],
      ].sort(),
    );
    // From 2026-10-15 the team assignment beats the project one.
    expect(charged('Platform')).toEqual([['alpha', 'ops', 'gpt-image-2', '2']]);
    // Valid 2026-10-10 until (not on) 2026-10-20.
    expect(charged('Special')).toEqual([['beta', 'growth', 'gpt-image-2', '1']]);
    expect(charged('(unassigned)')).toEqual(
      [
        ['beta', '\'=HYPERLINK("http://x")', 'gpt-image-2', '1'],
        ['beta', 'growth', 'gpt-image-2', '1'],
        ['beta', '(none)', 'gpt-image-2', '1'],
      ].sort(),
    );
    expect(rows.find((r) => r.cost_center === 'Marketing')!.cost_center_code).toBe('CC-4100');

    // The total row is the sum of the rows, and the month's spend as every report gives it.
    expect(total.cost_usd).toBe(sum(rows.map((r) => r.cost_usd)).toFixedString(6));
    for (const column of [...TOKEN_COLUMNS, 'images', 'events'])
      expect([column, total[column]]).toEqual([column, String(rows.reduce((n, r) => n + Number(r[column]), 0))]);
    const month = (await viewer.get('/v1/reports/month-close?month=2026-10')).body.totals;
    const spend = (await viewer.get('/v1/reports/spend?from=2026-10-01&to=2026-10-31&granularity=month')).body;
    expect([total.cost_usd, total.events]).toEqual([month.cost_usd, String(month.events)]);
    expect(Decimal.parse(spend.total).compare(Decimal.parse(total.cost_usd))).toBe(0);
  });

  it('takes basis=ingested and a project filter, and a viewer limited to a project gets only its rows', async () => {
    const ingested = await chargeback('month=2026-10&basis=ingested');
    expect(ingested.every((r) => r.basis === 'ingested')).toBe(true);
    const month = (await viewer.get('/v1/reports/month-close?month=2026-10&basis=ingested')).body.totals;
    expect(ingested.at(-1)!.cost_usd).toBe(month.cost_usd);

    const onlyBeta = await chargeback(`month=2026-10&project=${beta.projectId}`);
    const betaMonth = (await viewer.get(`/v1/reports/month-close?month=2026-10&project=${beta.projectId}`)).body.totals;
    expect(onlyBeta.slice(0, -1).every((r) => r.project_id === beta.projectId)).toBe(true);
    expect(onlyBeta.at(-1)!.cost_usd).toBe(betaMonth.cost_usd);

    const scopedKey = await t.http.post('/v1/keys', {
      name: 'beta viewer',
      role: 'viewer',
      project_ids: [beta.projectId],
    });
    const scoped = t.http.as(scopedKey.body.key);
    expect(await chargeback('month=2026-10', scoped)).toEqual(onlyBeta);
    expect((await scoped.get(`/v1/reports/chargeback.csv?month=2026-10&project=${alpha.projectId}`)).status).toBe(403);
    expect((await scoped.get('/v1/cost-centers')).status).toBe(403);
  });

  it('names the file by month and refuses a bad query, naming the field', async () => {
    const res = await viewer.get('/v1/reports/chargeback.csv?month=2026-10');
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="tokentally-chargeback-2026-10.csv"');
    for (const [query, path] of [
      ['', 'month'],
      ['month=2026-13', 'month'],
      ['month=2026-1', 'month'],
      ['month=2026-10&basis=cash', 'basis'],
      ['month=2026-10&project=nope', 'project'],
      ['month=2026-10&tz=Europe/Berlin', 'tz'],
      ['month=2026-10&month=2026-09', 'month'],
    ]) {
      const bad = await viewer.get(`/v1/reports/chargeback.csv?${query}`);
      expect([query, bad.status, bad.headers.get('content-type')]).toEqual([
        query,
        400,
        expect.stringMatching(/^application\/problem\+json/),
      ]);
      expect([query, bad.body.errors.map((e: any) => e.path)]).toEqual([query, [path]]);
    }
    const twice = await viewer.get('/v1/reports/chargeback.csv?month=2026-10&month=2026-09');
    expect(twice.body.errors[0].message).toBe('must be given once');
  });

  it('refuses overlapping, backwards or empty assignments and unknown targets, naming the field', async () => {
    const overlap = await t.http.post(`/v1/cost-centers/${centers.Platform}/assignments`, {
      project_id: alpha.projectId,
      valid_from: '2026-12-01',
    });
    expect(overlap.status).toBe(409);
    expect(overlap.body.errors).toEqual([
      { path: 'valid_from', message: expect.stringMatching(/^overlaps assignment/) },
    ]);
    expect(overlap.body.overlapping_assignment).toMatchObject({
      project_id: alpha.projectId,
      valid_from: '2026-10-01',
    });
    // The same team in another scope (within a project) is another target: no overlap.
    await assign('Platform', {
      project_id: alpha.projectId,
      team: 'ops',
      valid_from: '2026-12-01',
      valid_to: '2027-01-01',
    });

    for (const [body, path] of [
      [{ valid_from: '2026-10-01' }, 'project_id'],
      [{ team: 'ops', valid_from: '2026-10-05', valid_to: '2026-10-05' }, 'valid_to'],
      [{ team: 'ops', valid_from: '2026-02-30' }, 'valid_from'],
      [{ team: '', valid_from: '2026-10-01' }, 'team'],
      [{ project_id: 'not-a-uuid', valid_from: '2026-10-01' }, 'project_id'],
      [{ project_id: '00000000-0000-4000-8000-000000000000', valid_from: '2026-10-01' }, 'project_id'],
      [{ team: 'x', valid_from: '2026-10-01', colour: 'red' }, 'colour'],
    ] as const) {
      const bad = await t.http.post(`/v1/cost-centers/${centers.Special}/assignments`, body);
      expect([body, bad.status, bad.body.errors?.map((e: any) => e.path)]).toEqual([body, 400, [path]]);
    }
    const unknown = await t.http.post('/v1/cost-centers/00000000-0000-4000-8000-000000000000/assignments', {
      team: 'x',
      valid_from: '2026-10-01',
    });
    expect(unknown.status).toBe(404);
    // The CSV's own row names cannot be taken by a cost center (a SUMIF on cost_center would count them twice).
    for (const name of ['TOTAL', 'total ', '(Unassigned)']) {
      const reserved = await t.http.post('/v1/cost-centers', { name });
      expect([name, reserved.status, reserved.body.errors?.map((e: any) => e.path)]).toEqual([name, 400, ['name']]);
    }
    const twice = await t.http.post('/v1/cost-centers', { name: 'Marketing' });
    expect([twice.status, twice.body.errors]).toEqual([409, [{ path: 'name', message: expect.any(String) }]]);

    const listed = (await viewer.get('/v1/cost-centers')).body.data;
    expect(listed.map((c: any) => [c.name, c.assignments.length])).toEqual([
      ['Marketing', 1],
      ['Platform', 2],
      ['Special', 1],
    ]);
    const special = listed.find((c: any) => c.name === 'Special');
    const removed = await t.http.delete(`/v1/cost-centers/${centers.Special}/assignments/${special.assignments[0].id}`);
    expect(removed.status).toBe(204);
    expect((await viewer.get(`/v1/cost-centers/${centers.Special}`)).body.assignments).toEqual([]);
    // Removing the assignment moves its calls to (unassigned); the total stays the month's.
    const rows = await chargeback('month=2026-10');
    expect(rows.some((r) => r.cost_center === 'Special')).toBe(false);
    expect(rows.at(-1)!.cost_usd).toBe(
      (await viewer.get('/v1/reports/month-close?month=2026-10')).body.totals.cost_usd,
    );
  });

  it('keeps a closed month`s chargeback as it was when late events arrive (they are charged in the next month)', async () => {
    const before = await chargeback('month=2026-10');
    expect((await t.http.post('/v1/periods/2026-10/close', { reason: 'books closed' })).status).toBe(201);
    await alpha.client.post('/v1/events', call('a-late', '2026-10-06T00:00:00Z', 'growth'));
    expect(await chargeback('month=2026-10')).toEqual(before);

    // Assignments whose days reach into the closed month cannot be added, moved or deleted: that would re-charge it.
    const marketing = (await viewer.get(`/v1/cost-centers/${centers.Marketing}`)).body.assignments[0];
    const into = await t.http.post(`/v1/cost-centers/${centers.Special}/assignments`, {
      project_id: beta.projectId,
      valid_from: '2026-10-01',
      valid_to: '2026-11-01',
    });
    expect([into.status, into.body.errors, into.body.closed_months]).toEqual([
      409,
      [{ path: 'valid_from', message: 'reaches into closed months: 2026-10' }],
      ['2026-10'],
    ]);
    expect(into.body.detail).toMatch(/reopen/);
    const removed = await t.http.delete(`/v1/cost-centers/${centers.Marketing}/assignments/${marketing.id}`);
    expect([removed.status, removed.body.closed_months]).toEqual([409, ['2026-10']]);
    const shortened = await t.http.request(
      'PATCH',
      `/v1/cost-centers/${centers.Marketing}/assignments/${marketing.id}`,
      { valid_to: '2026-10-20' },
    );
    expect([shortened.status, shortened.body.errors?.[0]?.path]).toEqual([409, 'valid_to']);
    expect(await chargeback('month=2026-10')).toEqual(before);
    // Ending it after the closed month is the way to move alpha to another cost center from then on.
    const ended = await t.http.request('PATCH', `/v1/cost-centers/${centers.Marketing}/assignments/${marketing.id}`, {
      valid_to: '2026-12-01',
    });
    expect([ended.status, ended.body.valid_to]).toEqual([200, '2026-12-01']);
    await assign('Special', { project_id: alpha.projectId, valid_from: '2026-12-01' });
    const backwards = await t.http.request(
      'PATCH',
      `/v1/cost-centers/${centers.Marketing}/assignments/${marketing.id}`,
      {
        valid_to: '2026-09-01',
      },
    );
    expect([backwards.status, backwards.body.errors?.[0]?.path]).toEqual([400, 'valid_to']);
    const overlapping = await t.http.request(
      'PATCH',
      `/v1/cost-centers/${centers.Marketing}/assignments/${marketing.id}`,
      { valid_to: null },
    );
    expect([overlapping.status, overlapping.body.errors?.[0]?.message]).toEqual([
      409,
      expect.stringMatching(/^overlaps/),
    ]);
    expect(await chargeback('month=2026-10')).toEqual(before);

    const november = await chargeback('month=2026-11');
    expect(november.find((r) => r.cost_center === 'Marketing')).toMatchObject({ project: 'alpha', events: '2' });
  });

  it('adds up to the month for any events and assignments (generated)', async () => {
    const teams = ['growth', 'ops', 'infra', ''];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            day: fc.integer({ min: 1, max: 30 }),
            hour: fc.integer({ min: 0, max: 23 }),
            team: fc.constantFrom(...teams),
            beta: fc.boolean(),
            tokens: fc.integer({ min: 0, max: 50_000 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.array(
          fc.record({
            team: fc.constantFrom(...teams.filter(Boolean)),
            from: fc.integer({ min: 1, max: 30 }),
            days: fc.integer({ min: 1, max: 40 }),
          }),
          { maxLength: 4 },
        ),
        async (events, assignments) => {
          run++;
          // Each run in its own month of 2024 and its own cost center, so runs do not see each other.
          const month = `2024-${String(((run - 1) % 12) + 1).padStart(2, '0')}`;
          const center = await t.http.post('/v1/cost-centers', { name: `generated ${run}` });
          for (const a of assignments) {
            const from = new Date(Date.UTC(2024, (run - 1) % 12, a.from));
            const to = new Date(from.getTime() + a.days * 86_400_000);
            await t.http.post(`/v1/cost-centers/${center.body.id}/assignments`, {
              team: `${a.team}-${run}`,
              valid_from: from.toISOString().slice(0, 10),
              valid_to: to.toISOString().slice(0, 10),
            });
          }
          const byProject = new Map<HttpClient, unknown[]>();
          events.forEach((e, i) => {
            const client = e.beta ? beta.client : alpha.client;
            const day = Math.min(e.day, new Date(Date.UTC(2024, ((run - 1) % 12) + 1, 0)).getUTCDate());
            const ts = `${month}-${String(day).padStart(2, '0')}T${String(e.hour).padStart(2, '0')}:00:00Z`;
            byProject.set(client, [
              ...(byProject.get(client) ?? []),
              call(`gen-${run}-${i}`, ts, e.team ? `${e.team}-${run}` : undefined, {
                usage: { input_text_tokens: e.tokens, output_image_tokens: 4160 + i },
              }),
            ]);
          });
          for (const [client, batch] of byProject) await client.post('/v1/events', { events: batch });
          const rows = await chargeback(`month=${month}`);
          const total = rows.pop()!;
          const expected = (await viewer.get(`/v1/reports/month-close?month=${month}`)).body.totals;
          expect([total.cost_usd, total.events]).toEqual([expected.cost_usd, String(expected.events)]);
          expect(total.cost_usd).toBe(sum(rows.map((r) => r.cost_usd)).toFixedString(6));
        },
      ),
      { numRuns: 8, seed: 20261130 },
    );
  });
});
