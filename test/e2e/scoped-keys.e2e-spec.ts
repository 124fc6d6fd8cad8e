import { randomUUID } from 'node:crypto';
import { BudgetEvaluator } from '@tokentally/budgets';
import { limitToProjectScope, Principal } from '@tokentally/auth';
import { DomainError } from '@tokentally/common';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

const DAY = 86_400_000;

/** A viewer key limited to `projectIds`, as a client. */
async function scopedViewerClient(admin: HttpClient, projectIds: string[]): Promise<HttpClient> {
  const key = await admin.post('/v1/keys', {
    name: `scoped viewer ${randomUUID().slice(0, 8)}`,
    role: 'viewer',
    project_ids: projectIds,
  });
  if (key.status !== 201) throw new Error(`scoped viewer key: ${key.status} ${key.text}`);
  return admin.as(key.body.key);
}

/** The body of a binary answer (PNG) as bytes. */
async function bytes(client: HttpClient, path: string): Promise<{ status: number; type: string | null; body: Buffer }> {
  const res = await fetch(client.baseUrl + path, {
    headers: client.key ? { authorization: `Bearer ${client.key}` } : {},
  });
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * Viewer keys limited to projects (docs/access.md): two projects A and B with
 * events, budgets and alerts; a key limited to A reads A's numbers only, in
 * every report, export, chart, the events list, budgets and alerts, and naming
 * B is refused. An unscoped viewer reads both.
 */
describe('viewer keys limited to projects', () => {
  let t: TestApp;
  let admin: HttpClient;
  let viewer: HttpClient;
  let scopedA: HttpClient;
  let scopedAC: HttpClient;
  let a: string;
  let b: string;
  let c: string;
  const budgets: Record<'a' | 'b' | 'all' | 'team', string> = { a: '', b: '', all: '', team: '' };
  const todayStart = Math.floor(Date.now() / DAY) * DAY;
  // The whole range of the data, as dates: the same request for every key gives the same buckets.
  const range = `from=${new Date(todayStart - 29 * DAY).toISOString().slice(0, 10)}&to=${new Date(todayStart).toISOString().slice(0, 10)}`;

  beforeAll(async () => {
    t = await startTestApp({ ANOMALY_MIN_USD: '1.00' });
    admin = t.http;
    viewer = await viewerClient(admin);
    const projectA = await projectWithIngestKey(admin, 'Studio A');
    const projectB = await projectWithIngestKey(admin, 'Search B');
    a = projectA.projectId;
    b = projectB.projectId;
    c = (await admin.post('/v1/projects', { name: 'Empty C' })).body.id;
    scopedA = await scopedViewerClient(admin, [a]);
    scopedAC = await scopedViewerClient(admin, [a, c]);

    // One call at noon on each of the 28 days before today, then a burst today: a spend anomaly for A, for B and for
    // the model.
    const history = (overrides: Record<string, unknown>) =>
      Array.from({ length: 28 }, (_, i) =>
        usageEvent({ timestamp: new Date(todayStart - (28 - i) * DAY + DAY / 2).toISOString(), ...overrides }),
      );
    const today = (n: number, overrides: Record<string, unknown>) =>
      Array.from({ length: n }, (_, i) =>
        usageEvent({
          timestamp: new Date(Math.max(todayStart, Date.now() - (i + 1) * 1000)).toISOString(),
          ...overrides,
        }),
      );
    // Each call also carries a cost its provider reported (the provider-cost report reads those).
    const dimsA = {
      dimensions: { team: 'growth', user: 'u_1', feature: 'avatars', environment: 'prod' },
      provider_cost_usd: '0.2',
    };
    const dimsB = {
      dimensions: { team: 'search', user: 'u_2', feature: 'thumbnails', environment: 'prod' },
      image_quality: 'low',
      usage: { input_text_tokens: 300, output_image_tokens: 2000 },
      provider_cost_usd: '0.05',
    };
    for (const [client, events] of [
      [projectA.client, [...history(dimsA), ...today(10, dimsA)]],
      [projectB.client, [...history(dimsB), ...today(25, dimsB)]],
    ] as Array<[HttpClient, unknown[]]>) {
      const res = await client.post('/v1/events', { events });
      expect(res.body.rejected).toEqual([]);
    }

    for (const [name, scope] of [
      ['a', { project: a }],
      ['b', { project: b }],
      ['all', {}],
      ['team', { team: 'growth' }],
    ] as Array<[keyof typeof budgets, Record<string, string>]>) {
      const created = await admin.post('/v1/budgets', {
        name: `Budget ${name}`,
        amount_usd: '0.10',
        period: 'month',
        scope,
        thresholds_pct: [50],
        forecast_alert: false,
      });
      expect(created.status).toBe(201);
      budgets[name] = created.body.id;
    }
    // Four budget thresholds, anomalies of A, B and the model (each fires once, whichever pass fires it).
    await t.app.get(BudgetEvaluator).evaluate('all');
  });
  afterAll(() => t?.close());

  it("reads reports without naming a project: the key's projects are filled in, and the handler sees them (group_by=project)", async () => {
    const mine = await scopedA.get(`/v1/reports/spend?${range}&group_by=project`);
    expect(mine.status).toBe(200);
    expect(mine.body.series.map((s: { key: string; label: string }) => [s.key, s.label])).toEqual([[a, 'Studio A']]);
    const both = await viewer.get(`/v1/reports/spend?${range}&group_by=project`);
    expect(both.body.series.map((s: { key: string }) => s.key).sort()).toEqual([a, b].sort());
    expect(both.body.total).not.toBe(mine.body.total);
  });

  it.each([
    ['spend', `/v1/reports/spend?${range}&group_by=team`],
    ['spend by user', `/v1/reports/spend?${range}&group_by=user`],
    ['spend by tag', `/v1/reports/spend?${range}&group_by=tag:campaign`],
    ['tokens', `/v1/reports/tokens?${range}`],
    ['compare-providers', `/v1/reports/compare-providers?${range}`],
    ['performance', `/v1/reports/performance?${range}`],
    ['provider-reported cost', `/v1/reports/provider-cost?${range}`],
    ['month close', `/v1/reports/month-close?month=${new Date(todayStart).toISOString().slice(0, 7)}`],
    ['month close CSV', `/v1/reports/month-close.csv?month=${new Date(todayStart).toISOString().slice(0, 7)}`],
    ['suggested projects', `/v1/reports/dimensions/project/values?${range}`],
    ['suggested teams', `/v1/reports/dimensions/team/values?${range}`],
    ['suggested tag keys', `/v1/reports/tags?${range}`],
    ['suggested tag values', `/v1/reports/tags/campaign/values?${range}`],
    ['event totals', `/v1/events/totals?${range}`],
  ])('gives a key limited to A the %s of A only, as an admin asking for project=A gets it', async (_name, path) => {
    const mine = await scopedA.get(path);
    const adminA = await admin.get(`${path}&project=${a}`);
    const all = await admin.get(path);
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual(adminA.body);
    // Suggested tag keys and values are the same for A alone and for both (both use the one tag).
    if (!path.includes('/tags')) expect(all.body).not.toEqual(adminA.body);
    expect(JSON.stringify(mine.body)).not.toContain(b);
    // Naming its own project is the same answer.
    expect((await scopedA.get(`${path}&project=${a.toUpperCase()}`)).body).toEqual(adminA.body);
  });

  it('gives a key limited to A the summary of A only', async () => {
    const pick = (body: Record<string, any>) => ({
      spent: body.spent,
      events: body.events,
      previous: body.previous_period,
      movers: body.top_movers,
      unpriced: body.unpriced_events,
    });
    const mine = await scopedA.get('/v1/reports/summary');
    const adminA = await admin.get(`/v1/reports/summary?project=${a}`);
    const all = await admin.get('/v1/reports/summary');
    expect(pick(mine.body)).toEqual(pick(adminA.body));
    expect(pick(all.body)).not.toEqual(pick(adminA.body));
    expect(
      mine.body.top_movers
        .filter((m: { dimension: string }) => m.dimension === 'project')
        .map((m: { key: string }) => m.key),
    ).toEqual([a]);
  });

  it('exports A only, aggregated and raw', async () => {
    for (const query of [`${range}&group_by=project`, `${range}&raw=1`]) {
      const mine = await scopedA.get(`/v1/reports/export.csv?${query}`);
      const adminA = await admin.get(`/v1/reports/export.csv?${query}&project=${a}`);
      expect(mine.status).toBe(200);
      expect(mine.text).toEqual(adminA.text);
      expect(mine.text).toContain(a);
      expect(mine.text).not.toContain(b);
      expect((await admin.get(`/v1/reports/export.csv?${query}`)).text).toContain(b);
    }
    const raw = (await scopedA.get(`/v1/reports/export.csv?${range}&raw=1`)).text.trim().split('\n');
    // The header and A's 38 calls.
    expect(raw).toHaveLength(1 + 38);
  });

  it('draws the charts of A only: the same PNG bytes as an admin asking for project=A', async () => {
    for (const chart of ['spend', 'tokens', 'providers']) {
      const mine = await bytes(scopedA, `/v1/charts/${chart}.png?${range}`);
      const adminA = await bytes(admin, `/v1/charts/${chart}.png?${range}&project=${a}`);
      expect([mine.status, mine.type]).toEqual([200, 'image/png']);
      expect(mine.body.equals(adminA.body)).toBe(true);
      if (chart === 'spend')
        expect(mine.body.equals((await bytes(admin, `/v1/charts/${chart}.png?${range}`)).body)).toBe(false);
    }
  });

  it('shows one event of A, and answers 404 for one of B as for one that does not exist', async () => {
    const [ofA] = (await admin.get(`/v1/events?limit=1&project=${a}`)).body.data;
    const [ofB] = (await admin.get(`/v1/events?limit=1&project=${b}`)).body.data;
    expect((await scopedA.get(`/v1/events/${a}/${ofA.event_id}`)).body).toEqual(
      (await admin.get(`/v1/events/${a}/${ofA.event_id}`)).body,
    );
    expect((await scopedA.get(`/v1/events/${a.toUpperCase()}/${ofA.event_id}`)).status).toBe(200);
    const theirs = await scopedA.get(`/v1/events/${b}/${ofB.event_id}`);
    const nobody = await scopedA.get(`/v1/events/${a}/no-such-event`);
    expect([theirs.status, nobody.status]).toEqual([404, 404]);
    expect(theirs.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await viewer.get(`/v1/events/${b}/${ofB.event_id}`)).status).toBe(200);
  });

  it('lists the events of A only', async () => {
    const mine = await scopedA.get('/v1/events?limit=1000');
    expect(mine.status).toBe(200);
    expect(new Set(mine.body.data.map((e: { project_id: string }) => e.project_id))).toEqual(new Set([a]));
    expect(mine.body.data).toHaveLength(38);
    expect(mine.body).toEqual((await admin.get(`/v1/events?limit=1000&project=${a}`)).body);
    // Page by page too: the cursor does not escape the scope.
    const first = await scopedA.get('/v1/events?limit=30');
    const second = await scopedA.get(`/v1/events?limit=30&cursor=${first.body.next_cursor}`);
    expect([...first.body.data, ...second.body.data].map((e: { event_id: string }) => e.event_id)).toEqual(
      mine.body.data.map((e: { event_id: string }) => e.event_id),
    );
  });

  it('refuses a request naming a project outside the key (403 naming project), on every project-filtered route', async () => {
    const paths = [
      '/v1/reports/spend',
      '/v1/reports/summary',
      '/v1/reports/tokens',
      '/v1/reports/compare-providers',
      '/v1/reports/performance',
      '/v1/reports/export.csv',
      '/v1/reports/month-close',
      '/v1/reports/dimensions/team/values',
      '/v1/reports/tags',
      '/v1/charts/spend.png',
      '/v1/events',
      '/v1/events/totals',
    ];
    for (const path of paths) {
      for (const project of [b, `${a},${b}`, `${a}, ${b.toUpperCase()}`, randomUUID(), '', 'not-a-uuid']) {
        const res = await scopedA.get(`${path}?project=${encodeURIComponent(project)}`);
        expect([path, project, res.status, res.headers.get('content-type')]).toEqual([
          path,
          project,
          403,
          expect.stringMatching(/^application\/problem\+json/),
        ]);
        expect(res.body.errors).toEqual([
          { path: 'project', message: expect.stringMatching(/outside the projects of this key/) },
        ]);
      }
      // Given twice: 400, as the routes themselves answer.
      const twice = await scopedA.get(`${path}?project=${a}&project=${a}`);
      expect([path, twice.status, twice.body.errors]).toEqual([
        path,
        400,
        [{ path: 'project', message: 'must be given once' }],
      ]);
    }
    const head = await fetch(`${t.url}/v1/reports/export.csv?project=${b}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${scopedA.key}` },
    });
    expect(head.status).toBe(403);
    // An unscoped viewer names any project.
    expect((await viewer.get(`/v1/reports/spend?project=${b}`)).status).toBe(200);
  });

  it('reads several projects when the key has several: all of them by default, any of them by name', async () => {
    const path = `/v1/reports/spend?${range}&group_by=project`;
    const mine = await scopedAC.get(path);
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual((await admin.get(`${path}&project=${a},${c}`)).body);
    expect((await scopedAC.get(`${path}&project=${c}`)).body.total).toBe('0.000000');
    expect((await scopedAC.get(`${path}&project=${c},${b}`)).status).toBe(403);
    const events = await scopedAC.get('/v1/events?limit=1000');
    expect([events.status, events.body.data?.length]).toEqual([200, 38]);
  });

  it('serves a key of 100 projects (the most a key takes) on every project-filtered route', async () => {
    const many = [a];
    for (let i = 1; i < 100; i++)
      many.push((await admin.post('/v1/projects', { name: `many-${i}-${randomUUID().slice(0, 8)}` })).body.id);
    const client = await scopedViewerClient(admin, many);
    const month = new Date(todayStart).toISOString().slice(0, 7);
    for (const path of [
      `/v1/reports/spend?${range}`,
      `/v1/reports/summary`,
      `/v1/reports/month-close?month=${month}`,
      `/v1/reports/dimensions/team/values`,
      '/v1/events',
      '/v1/events/totals',
      '/v1/charts/spend.png',
    ]) {
      const res = await client.get(path);
      expect([path, res.status]).toEqual([path, 200]);
    }
    expect((await client.get(`/v1/reports/spend?${range}`)).body.total).toBe(
      (await admin.get(`/v1/reports/spend?${range}&project=${a}`)).body.total,
    );
  });

  it('shows a key limited to A the budgets of A only, and 404 for the others', async () => {
    const mine = await scopedA.get('/v1/budgets?with_status=1');
    expect(mine.body.data.map((x: { id: string }) => x.id)).toEqual([budgets.a]);
    expect(mine.body.data[0].status.spent_usd).toEqual(
      (await admin.get(`/v1/budgets/${budgets.a}/status`)).body.spent_usd,
    );
    expect((await viewer.get('/v1/budgets')).body.data.map((x: { id: string }) => x.id).sort()).toEqual(
      Object.values(budgets).sort(),
    );
    expect((await scopedA.get(`/v1/budgets/${budgets.a}`)).status).toBe(200);
    expect((await scopedA.get(`/v1/budgets/${budgets.a}/status`)).status).toBe(200);
    for (const id of [budgets.b, budgets.all, budgets.team]) {
      for (const path of [`/v1/budgets/${id}`, `/v1/budgets/${id}/status`, `/v1/charts/budgets.png?budget_id=${id}`]) {
        const res = await scopedA.get(path);
        expect([path, res.status]).toEqual([path, 404]);
      }
      expect((await viewer.get(`/v1/budgets/${id}`)).status).toBe(200);
    }
    const chart = await bytes(scopedA, '/v1/charts/budgets.png');
    expect([chart.status, chart.type]).toEqual([200, 'image/png']);
    expect(chart.body.equals((await bytes(viewer, '/v1/charts/budgets.png')).body)).toBe(false);
    expect((await bytes(scopedA, `/v1/charts/budgets.png?budget_id=${budgets.a}`)).status).toBe(200);
  });

  it("shows a key limited to A the alerts about A only: its budget's and the anomaly of A, not those of B, of every project or of the model", async () => {
    const all = (await viewer.get('/v1/alerts')).body.data;
    expect(all).toHaveLength(7);
    const mine = (await scopedA.get('/v1/alerts')).body.data;
    const about = (alert: { type: string; budget_id: string | null; data: Record<string, string> }) =>
      alert.type === 'spend.anomaly' ? `${alert.data.dimension}:${alert.data.key}` : `budget:${alert.budget_id}`;
    expect(mine.map(about).sort()).toEqual([`budget:${budgets.a}`, `project:${a}`].sort());
    expect((await scopedA.get(`/v1/alerts?budget_id=${budgets.b}`)).body.data).toEqual([]);
    expect((await scopedA.get('/v1/alerts?type=spend.anomaly')).body.data.map(about)).toEqual([`project:${a}`]);
    expect(all.map(about).sort()).toEqual(
      [
        `budget:${budgets.a}`,
        `budget:${budgets.b}`,
        `budget:${budgets.all}`,
        `budget:${budgets.team}`,
        `project:${a}`,
        `project:${b}`,
        'model:gpt-image-2',
      ].sort(),
    );
  });

  it('refuses what reads every project at once: pricing coverage and restatements', async () => {
    for (const path of ['/v1/pricing/coverage', '/v1/pricing/restatements']) {
      const res = await scopedA.get(path);
      expect([path, res.status, res.body.detail]).toEqual([path, 403, expect.stringMatching(/cannot read it/)]);
      expect((await viewer.get(path)).status).toBe(200);
    }
    // Prices are no project's data.
    expect((await scopedA.get('/v1/pricing')).status).toBe(200);
  });

  it('says at GET /v1/me which projects the key reads, with their names', async () => {
    expect((await scopedAC.get('/v1/me')).body).toMatchObject({
      role: 'viewer',
      project_ids: [a, c],
      projects: [
        { id: a, name: 'Studio A' },
        { id: c, name: 'Empty C' },
      ],
    });
    expect((await viewer.get('/v1/me')).body).toMatchObject({
      role: 'viewer',
      project_ids: null,
      projects: expect.arrayContaining([{ id: b, name: 'Search B' }]),
    });
  });

  it('stops a revoked scoped key at once', async () => {
    const created = await admin.post('/v1/keys', { name: 'short-lived scoped', role: 'viewer', project_ids: [a] });
    const client = admin.as(created.body.key);
    expect((await client.get('/v1/reports/spend')).status).toBe(200);
    expect((await admin.delete(`/v1/keys/${created.body.id}`)).status).toBe(204);
    expect((await client.get('/v1/reports/spend')).status).toBe(401);
  });

  // Last in this describe: it records a restatement.
  it('shows a restatement on an event of A without the totals of every project it re-priced', async () => {
    const [ofA] = (await admin.get(`/v1/events?limit=1&project=${a}`)).body.data;
    const at = Date.parse(ofA.timestamp);
    const restated = await admin.post('/v1/pricing/reprice', {
      from: new Date(at - 60_000).toISOString(),
      to: new Date(at + 60_000).toISOString(),
    });
    expect(restated.status).toBeLessThan(300);
    const mine = (await scopedA.get(`/v1/events/${a}/${encodeURIComponent(ofA.event_id)}`)).body;
    const full = (await admin.get(`/v1/events/${a}/${encodeURIComponent(ofA.event_id)}`)).body;
    expect(full.restatements.length).toBeGreaterThan(0);
    expect(mine.restatements.map((r: any) => r.id)).toEqual(full.restatements.map((r: any) => r.id));
    expect(full.restatements[0].total_before_usd).toMatch(/^\d+\.\d{6}$/);
    for (const r of mine.restatements) {
      expect([r.events_examined, r.events_changed, r.total_before_usd, r.total_after_usd]).toEqual([
        null,
        null,
        null,
        null,
      ]);
    }
  });
});

describe('the project scope of one request (libs/auth limitToProjectScope)', () => {
  const A = '11111111-1111-4111-8111-111111111111';
  const B = '22222222-2222-4222-8222-222222222222';
  const scoped: Principal = { keyId: 'k', role: 'viewer', projectId: null, projectIds: [A] };
  const kindOf = (run: () => void) => {
    try {
      run();
      return 'passed';
    } catch (error) {
      return (error as DomainError).kind;
    }
  };

  it('checks a project named in the path: outside the key is not found, as a project that does not exist', () => {
    const route = '/v1/events/:project_id/:event_id';
    expect(
      kindOf(() => limitToProjectScope(scoped, 'GET', route, { query: {}, params: { project_id: A, event_id: 'e' } })),
    ).toBe('passed');
    expect(
      kindOf(() =>
        limitToProjectScope(scoped, 'GET', route, {
          query: {},
          params: { project_id: A.toUpperCase(), event_id: 'e' },
        }),
      ),
    ).toBe('passed');
    expect(
      kindOf(() => limitToProjectScope(scoped, 'GET', route, { query: {}, params: { project_id: B, event_id: 'e' } })),
    ).toBe('not_found');
    expect(
      kindOf(() => limitToProjectScope(scoped, 'HEAD', route, { query: {}, params: { project_id: B, event_id: 'e' } })),
    ).toBe('not_found');
  });

  it('refuses a route with no rule, and leaves every route alone for a key that reads every project', () => {
    expect(kindOf(() => limitToProjectScope(scoped, 'GET', '/v1/some/new/route', { query: {}, params: {} }))).toBe(
      'forbidden',
    );
    const query: Record<string, string> = {};
    limitToProjectScope({ ...scoped, projectIds: null }, 'GET', '/v1/some/new/route', { query, params: {} });
    limitToProjectScope({ ...scoped, projectIds: null }, 'GET', '/v1/reports/spend', { query, params: {} });
    expect(query).toEqual({});
  });

  it("fills in the key's projects, and hands on the checked ids", () => {
    const two: Principal = { ...scoped, projectIds: [A, B] };
    const query: Record<string, string> = {};
    limitToProjectScope(two, 'GET', '/v1/events/totals', { query, params: {} });
    expect(query.project).toBe(`${A},${B}`);
    const named: Record<string, string> = { project: ` ${B.toUpperCase()} ` };
    limitToProjectScope(two, 'GET', '/v1/reports/spend', { query: named, params: {} });
    expect(named.project).toBe(B);
  });
});
