import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PROJECT_SCOPE_RULES, routeAccessTable } from '@tokentally/auth';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/app';
import { createTestDatabase } from '../support/database';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

describe('API keys and roles', () => {
  let t: TestApp;
  let admin: HttpClient;
  let ingest: HttpClient;
  let viewer: HttpClient;
  let scoped: HttpClient;
  let projectId: string;
  let otherProjectId: string;
  let budgetId: string;
  let webhookId: string;
  let eventId: string;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    admin = t.http;
    ({ client: ingest, projectId } = await projectWithIngestKey(admin));
    otherProjectId = (await admin.post('/v1/projects', { name: `other-${randomUUID().slice(0, 8)}` })).body.id;
    viewer = await viewerClient(admin);
    scoped = await scopedViewerClient(admin, [projectId]);
    const event = usageEvent();
    eventId = event.event_id;
    expect((await ingest.post('/v1/events', event)).status).toBe(202);
    budgetId = (
      await admin.post('/v1/budgets', {
        name: 'Project budget',
        amount_usd: '100.00',
        period: 'month',
        scope: { project: projectId },
      })
    ).body.id;
    // Subscribed to an event these tests never cause, at a port nobody listens on: nothing is ever sent.
    webhookId = (await admin.post('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['model.unpriced'] })).body
      .id;
  });
  afterAll(() => t?.close());

  const NOBODY = '00000000-0000-4000-8000-000000000000';
  type Expected = [admin: number, viewer: number, scopedViewer: number, ingest: number, noKey: number];
  const ADMIN_ONLY = (adminStatus: number): Expected => [adminStatus, 403, 403, 403, 401];
  const READ = (scopedStatus = 200): Expected => [200, 200, scopedStatus, 403, 401];
  const PUBLIC = (status: number): Expected => [status, status, status, status, status];

  /**
   * Every route of the app (the test below fails when a route has no row
   * here), with what each kind of key gets. Admin-only writes are sent with
   * an invalid body or an unknown id: a 400 or 404 shows the key got through.
   */
  const matrix = (): Record<string, { path: string; body?: () => unknown; expected: Expected }> => ({
    'GET /health': { path: '/health', expected: PUBLIC(200) },
    'GET /health/ready': { path: '/health/ready', expected: PUBLIC(200) },
    // Public to the API-key hook only: MetricsController takes METRICS_TOKEN or an admin key (docs/observability.md).
    'GET /metrics': { path: '/metrics', expected: ADMIN_ONLY(200) },
    'GET /': { path: '/', expected: PUBLIC(200) },
    'GET /assets/:file': { path: '/assets/dashboard.css', expected: PUBLIC(200) },
    // The API described (OpenAPI 3.1) and browsable: docs/api.md.
    'GET /openapi.json': { path: '/openapi.json', expected: PUBLIC(200) },
    'GET /docs': { path: '/docs', expected: PUBLIC(200) },
    'GET /docs/:file': { path: '/docs/docs.js', expected: PUBLIC(200) },

    'GET /v1/me': { path: '/v1/me', expected: [200, 200, 200, 200, 401] },
    'POST /v1/projects': {
      path: '/v1/projects',
      body: () => ({ name: `p-${randomUUID()}` }),
      expected: ADMIN_ONLY(201),
    },
    'GET /v1/projects': { path: '/v1/projects', expected: ADMIN_ONLY(200) },
    'POST /v1/keys': { path: '/v1/keys', body: () => ({ name: 'k', role: 'viewer' }), expected: ADMIN_ONLY(201) },
    'GET /v1/keys': { path: '/v1/keys', expected: ADMIN_ONLY(200) },
    'DELETE /v1/keys/:id': { path: `/v1/keys/${NOBODY}`, expected: ADMIN_ONLY(404) },

    // An admin must name the project it writes to: 400 without project_id.
    'POST /v1/events': { path: '/v1/events', body: () => usageEvent(), expected: [400, 403, 403, 202, 401] },
    'GET /v1/events': { path: '/v1/events', expected: READ() },
    'GET /v1/events/totals': { path: '/v1/events/totals', expected: READ() },
    'GET /v1/events/:project_id/:event_id': { path: `/v1/events/${projectId}/${eventId}`, expected: READ() },
    // OTLP/HTTP traces (docs/otlp.md): an empty export; an admin must name the project, as for POST /v1/events.
    'POST /v1/otlp/v1/traces': {
      path: '/v1/otlp/v1/traces',
      body: () => ({ resourceSpans: [] }),
      expected: [400, 403, 403, 200, 401],
    },

    'GET /v1/reports/spend': { path: '/v1/reports/spend', expected: READ() },
    'GET /v1/reports/summary': { path: '/v1/reports/summary', expected: READ() },
    'GET /v1/reports/tokens': { path: '/v1/reports/tokens', expected: READ() },
    'GET /v1/reports/compare-providers': { path: '/v1/reports/compare-providers', expected: READ() },
    'GET /v1/reports/performance': { path: '/v1/reports/performance', expected: READ() },
    'GET /v1/reports/provider-cost': { path: '/v1/reports/provider-cost', expected: READ() },
    'GET /v1/reports/export.csv': { path: '/v1/reports/export.csv?raw=1', expected: READ() },
    'GET /v1/reports/month-close': {
      path: `/v1/reports/month-close?month=${new Date().toISOString().slice(0, 7)}`,
      expected: READ(),
    },
    'GET /v1/reports/month-close.csv': {
      path: `/v1/reports/month-close.csv?month=${new Date().toISOString().slice(0, 7)}`,
      expected: READ(),
    },
    'GET /v1/reports/dimensions/:dimension/values': { path: '/v1/reports/dimensions/project/values', expected: READ() },
    'GET /v1/reports/tags': { path: '/v1/reports/tags', expected: READ() },
    'GET /v1/reports/tags/:key/values': { path: '/v1/reports/tags/campaign/values', expected: READ() },
    'GET /v1/charts/:file': { path: '/v1/charts/spend.png', expected: READ() },
    'GET /v1/charts/budgets.png': { path: '/v1/charts/budgets.png', expected: READ() },
    // Signed links need no key; without a valid signature they are 403 for everybody.
    'GET /v1/charts/shared/:file': { path: '/v1/charts/shared/spend.png', expected: PUBLIC(403) },
    'GET /v1/charts/shared/budgets.png': { path: '/v1/charts/shared/budgets.png', expected: PUBLIC(403) },

    'GET /v1/pricing': { path: '/v1/pricing', expected: READ() },
    'GET /v1/pricing/history': { path: '/v1/pricing/history', expected: READ() },
    'GET /v1/pricing/runs': { path: '/v1/pricing/runs', expected: READ() },
    'GET /v1/pricing/overrides': { path: '/v1/pricing/overrides', expected: READ() },
    // These count every project's events: refused to a key limited to projects.
    'GET /v1/pricing/coverage': { path: '/v1/pricing/coverage', expected: READ(403) },
    'GET /v1/pricing/restatements': { path: '/v1/pricing/restatements', expected: READ(403) },
    'POST /v1/pricing/refresh': { path: '/v1/pricing/refresh', expected: ADMIN_ONLY(201) },
    'GET /v1/pricing/pending': { path: '/v1/pricing/pending', expected: ADMIN_ONLY(200) },
    'POST /v1/pricing/pending/:id/approve': {
      path: `/v1/pricing/pending/${NOBODY}/approve`,
      expected: ADMIN_ONLY(404),
    },
    'POST /v1/pricing/pending/:id/reject': { path: `/v1/pricing/pending/${NOBODY}/reject`, expected: ADMIN_ONLY(404) },
    'PUT /v1/pricing/overrides': { path: '/v1/pricing/overrides', body: () => ({}), expected: ADMIN_ONLY(400) },
    'DELETE /v1/pricing/overrides/:id': { path: `/v1/pricing/overrides/${NOBODY}`, expected: ADMIN_ONLY(404) },
    'POST /v1/pricing/reprice': { path: '/v1/pricing/reprice', body: () => ({}), expected: ADMIN_ONLY(400) },

    'GET /v1/reports/chargeback.csv': { path: '/v1/reports/chargeback.csv?month=2026-10', expected: READ() },
    'POST /v1/cost-centers': { path: '/v1/cost-centers', body: () => ({}), expected: ADMIN_ONLY(400) },
    'GET /v1/cost-centers': { path: '/v1/cost-centers', expected: READ(403) },
    'GET /v1/cost-centers/:id': { path: `/v1/cost-centers/${NOBODY}`, expected: [404, 404, 403, 403, 401] },
    'POST /v1/cost-centers/:id/assignments': {
      path: `/v1/cost-centers/${NOBODY}/assignments`,
      body: () => ({}),
      expected: ADMIN_ONLY(400),
    },
    'PATCH /v1/cost-centers/:id/assignments/:assignment_id': {
      path: `/v1/cost-centers/${NOBODY}/assignments/${NOBODY}`,
      body: () => ({ valid_to: null }),
      expected: ADMIN_ONLY(404),
    },
    'DELETE /v1/cost-centers/:id/assignments/:assignment_id': {
      path: `/v1/cost-centers/${NOBODY}/assignments/${NOBODY}`,
      expected: ADMIN_ONLY(404),
    },

    // Closed months lock the totals of every project: refused to a key limited to projects.
    'GET /v1/periods': { path: '/v1/periods', expected: READ(403) },
    'GET /v1/periods/:month': { path: '/v1/periods/2026-10', expected: READ(403) },
    'POST /v1/periods/:month/close': { path: '/v1/periods/2026-13/close', body: () => ({}), expected: ADMIN_ONLY(400) },
    'POST /v1/periods/:month/reopen': {
      path: '/v1/periods/2026-13/reopen',
      body: () => ({}),
      expected: ADMIN_ONLY(400),
    },

    'POST /v1/budgets': { path: '/v1/budgets', body: () => ({}), expected: ADMIN_ONLY(400) },
    'GET /v1/budgets': { path: '/v1/budgets', expected: READ() },
    'GET /v1/budgets/:id': { path: `/v1/budgets/${budgetId}`, expected: READ() },
    'GET /v1/budgets/:id/status': { path: `/v1/budgets/${budgetId}/status`, expected: READ() },
    'PATCH /v1/budgets/:id': {
      path: `/v1/budgets/${budgetId}`,
      body: () => ({ colour: 'red' }),
      expected: ADMIN_ONLY(400),
    },
    'DELETE /v1/budgets/:id': { path: `/v1/budgets/${NOBODY}`, expected: ADMIN_ONLY(404) },
    'GET /v1/alerts': { path: '/v1/alerts', expected: READ() },

    // Reconciliation with the OpenAI bill: no OPENAI_ADMIN_KEY here, so a valid run would be 409; {} is a 400.
    'POST /v1/reconciliation/run': { path: '/v1/reconciliation/run', body: () => ({}), expected: ADMIN_ONLY(400) },
    'GET /v1/reconciliation': { path: '/v1/reconciliation', expected: READ() },
    'GET /v1/reconciliation/runs': { path: '/v1/reconciliation/runs', expected: ADMIN_ONLY(200) },
    'GET /v1/reconciliation/projects': { path: '/v1/reconciliation/projects', expected: ADMIN_ONLY(200) },
    'PUT /v1/reconciliation/projects/:openai_project_id': {
      path: '/v1/reconciliation/projects/proj_abc',
      body: () => ({}),
      expected: ADMIN_ONLY(400),
    },
    'DELETE /v1/reconciliation/projects/:openai_project_id': {
      path: '/v1/reconciliation/projects/proj_nobody',
      expected: ADMIN_ONLY(404),
    },

    'POST /v1/webhooks': { path: '/v1/webhooks', body: () => ({}), expected: ADMIN_ONLY(400) },
    'GET /v1/webhooks': { path: '/v1/webhooks', expected: ADMIN_ONLY(200) },
    'GET /v1/webhooks/:id': { path: `/v1/webhooks/${webhookId}`, expected: ADMIN_ONLY(200) },
    'PATCH /v1/webhooks/:id': {
      path: `/v1/webhooks/${webhookId}`,
      body: () => ({ colour: 'red' }),
      expected: ADMIN_ONLY(400),
    },
    'DELETE /v1/webhooks/:id': { path: `/v1/webhooks/${NOBODY}`, expected: ADMIN_ONLY(404) },
    'POST /v1/webhooks/:id/rotate-secret': { path: `/v1/webhooks/${NOBODY}/rotate-secret`, expected: ADMIN_ONLY(404) },
    'POST /v1/webhooks/:id/test': { path: `/v1/webhooks/${NOBODY}/test`, expected: ADMIN_ONLY(404) },
    'GET /v1/webhooks/:id/deliveries': { path: `/v1/webhooks/${webhookId}/deliveries`, expected: ADMIN_ONLY(200) },
    'POST /v1/webhook-deliveries/:id/resend': {
      path: `/v1/webhook-deliveries/${NOBODY}/resend`,
      expected: ADMIN_ONLY(404),
    },
  });

  it('has a row for every route of the app, and no row for a route it does not have', () => {
    expect(Object.keys(matrix()).sort()).toEqual([...routeAccessTable(t.app).keys()].sort());
  });

  it('says for every route a viewer or ingest key can reach how a key limited to projects is limited', () => {
    const reachable = [...routeAccessTable(t.app)]
      .filter(([, access]) => !access.public && access.roles.length > 0)
      .map(([route]) => route);
    expect(reachable.filter((route) => !(route in PROJECT_SCOPE_RULES))).toEqual([]);
  });

  it('answers every route as the matrix says to admin, viewer, scoped viewer, ingest and no key', async () => {
    const clients: Array<[string, HttpClient]> = [
      ['admin', admin],
      ['viewer', viewer],
      ['scoped viewer', scoped],
      ['ingest', ingest],
      ['no key', admin.as(null)],
    ];
    const answers: string[] = [];
    const wanted: string[] = [];
    for (const [route, { path, body, expected }] of Object.entries(matrix())) {
      const method = route.split(' ')[0];
      for (const [i, [who, client]] of clients.entries()) {
        const res = await client.request(method, path, body?.());
        answers.push(`${route} ${who}: ${res.status}`);
        wanted.push(`${route} ${who}: ${expected[i]}`);
        if (res.status >= 400 && res.status === expected[i])
          expect([route, who, res.headers.get('content-type')]).toEqual([
            route,
            who,
            expect.stringMatching(/^application\/problem\+json/),
          ]);
      }
    }
    expect(answers).toEqual(wanted);
  });

  it('answers 401 to an unknown key and to a malformed header on every route that needs a key', async () => {
    for (const [route, { path, body, expected }] of Object.entries(matrix())) {
      if (expected[4] !== 401) continue;
      const method = route.split(' ')[0];
      for (const client of [admin.as(null), admin.as('tt_not_a_real_key_000000000000000')]) {
        const res = await client.request(method, path, body?.());
        expect([route, res.status, res.headers.get('www-authenticate')]).toEqual([route, 401, 'Bearer']);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
      const basic = await admin
        .as(null)
        .request(method, path, body?.(), { headers: { authorization: `Basic ${TEST_ADMIN_KEY}` } });
      expect([route, basic.status]).toEqual([route, 401]);
    }
  });

  it('says who a key is at GET /v1/me: role, projects and their names', async () => {
    const projects = (await admin.get('/v1/projects')).body.data.map((p: { id: string; name: string }) => ({
      id: p.id,
      name: p.name,
    }));
    const forAdmin = await admin.get('/v1/me');
    expect(forAdmin.body).toEqual({
      key_id: expect.any(String),
      name: 'admin (ADMIN_API_KEY)',
      prefix: TEST_ADMIN_KEY.slice(0, 9),
      role: 'admin',
      project_ids: null,
      projects,
    });
    expect((await viewer.get('/v1/me')).body).toMatchObject({ role: 'viewer', project_ids: null, projects });
    const mine = projects.filter((p: { id: string }) => p.id === projectId);
    expect((await scoped.get('/v1/me')).body).toMatchObject({
      role: 'viewer',
      project_ids: [projectId],
      projects: mine,
    });
    expect((await ingest.get('/v1/me')).body).toMatchObject({
      role: 'ingest',
      project_ids: [projectId],
      projects: mine,
    });
  });

  it('shows a key once and stores only its SHA-256', async () => {
    const created = await admin.post('/v1/keys', { name: 'reporting', role: 'viewer' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'reporting',
      role: 'viewer',
      project_id: null,
      key: expect.stringMatching(/^tt_[A-Za-z0-9_-]{32}$/),
    });
    const listed = await admin.get('/v1/keys');
    const entry = listed.body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(entry).toEqual({
      id: created.body.id,
      name: 'reporting',
      role: 'viewer',
      project_id: null,
      project_ids: null,
      prefix: created.body.key.slice(0, 9),
      created_at: created.body.created_at,
      revoked_at: null,
    });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    const [row] = await t.app.get(DataSource).query(`SELECT key_hash FROM api_keys WHERE id = $1`, [created.body.id]);
    expect(row.key_hash).toEqual(createHash('sha256').update(created.body.key).digest());
  });

  it('revokes a key at once', async () => {
    const created = await admin.post('/v1/keys', { name: 'short-lived', role: 'viewer' });
    const client = admin.as(created.body.key);
    expect((await client.get('/v1/pricing')).status).toBe(200);
    expect((await admin.delete(`/v1/keys/${created.body.id}`)).status).toBe(204);
    expect((await client.get('/v1/pricing')).status).toBe(401);
    const listed = await admin.get('/v1/keys');
    expect(listed.body.data.find((k: { id: string }) => k.id === created.body.id).revoked_at).toEqual(
      expect.any(String),
    );
  });

  it('validates key and project requests field by field', async () => {
    const noProject = await admin.post('/v1/keys', { name: 'x', role: 'ingest' });
    expect(noProject.status).toBe(400);
    expect(noProject.body.errors).toEqual([{ path: 'project_id', message: 'is required for an ingest key' }]);

    const bad = await admin.post('/v1/keys', { role: 'owner', project_id: 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['name', 'project_id', 'role']);

    const unknown = await admin.post('/v1/keys', {
      name: 'x',
      role: 'ingest',
      project_id: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ path: 'project_id', message: 'is not a known project' }]);

    const badId = await admin.delete('/v1/keys/not-a-uuid');
    expect(badId.status).toBe(400);
    expect(badId.body.errors).toEqual([{ path: 'id', message: 'must be a UUID' }]);

    const dup = await admin.post('/v1/projects', { name: (await admin.get('/v1/projects')).body.data[0].name });
    expect(dup.status).toBe(409);
    expect(dup.body.errors).toEqual([{ path: 'name', message: 'is already taken' }]);

    const empty = await admin.post('/v1/projects', { name: '' });
    expect(empty.body.errors).toEqual([{ path: 'name', message: 'must not be empty' }]);
  });

  it('limits a viewer key to chosen projects, and validates them id by id', async () => {
    const created = await admin.post('/v1/keys', {
      name: 'finance A',
      role: 'viewer',
      project_ids: [projectId.toUpperCase(), otherProjectId, projectId],
    });
    expect(created.status).toBe(201);
    // Lower case, each once.
    expect(created.body).toMatchObject({ role: 'viewer', project_id: null, project_ids: [projectId, otherProjectId] });
    const listed = (await admin.get('/v1/keys')).body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(listed.project_ids).toEqual([projectId, otherProjectId]);

    const unknown = await admin.post('/v1/keys', {
      name: 'x',
      role: 'viewer',
      project_ids: [projectId, NOBODY, 'not-a-uuid'],
    });
    expect([unknown.status, unknown.body.errors]).toEqual([
      400,
      [{ path: 'project_ids[2]', message: 'must be a UUID' }],
    ]);
    const missing = await admin.post('/v1/keys', {
      name: 'x',
      role: 'viewer',
      project_ids: [projectId, NOBODY, NOBODY.replace('0000-4', '0001-4')],
    });
    expect([missing.status, missing.body.errors]).toEqual([
      400,
      [
        { path: 'project_ids[1]', message: 'is not a known project' },
        { path: 'project_ids[2]', message: 'is not a known project' },
      ],
    ]);
    const cases: Array<[unknown, string]> = [
      [{ name: 'x', role: 'viewer', project_ids: [] }, 'project_ids'],
      [{ name: 'x', role: 'viewer', project_ids: Array.from({ length: 101 }, () => projectId) }, 'project_ids'],
      [{ name: 'x', role: 'viewer', project_ids: projectId }, 'project_ids'],
      [{ name: 'x', role: 'admin', project_ids: [projectId] }, 'project_ids'],
      [{ name: 'x', role: 'ingest', project_id: projectId, project_ids: [projectId] }, 'project_ids'],
      // project_id on a viewer key used to be stored and ignored: it is refused, so nobody believes such a key limited.
      [{ name: 'x', role: 'viewer', project_id: projectId }, 'project_id'],
    ];
    for (const [body, path] of cases) {
      const res = await admin.post('/v1/keys', body);
      expect([res.status, res.body.errors.map((e: { path: string }) => e.path)]).toEqual([400, [path]]);
    }
    expect(
      (await admin.post('/v1/keys', { name: 'x', role: 'admin', project_ids: [projectId] })).body.errors[0].message,
    ).toMatch(/cannot limit an admin key/);
    // The scope is checked by the database too: a viewer key only, 1 to 100 projects.
    const db = t.app.get(DataSource);
    await expect(db.query(`UPDATE api_keys SET project_ids = '{}' WHERE id = $1`, [created.body.id])).rejects.toThrow(
      /api_keys_project_ids_check/,
    );
    await expect(db.query(`UPDATE api_keys SET role = 'admin' WHERE id = $1`, [created.body.id])).rejects.toThrow(
      /api_keys_project_ids_check/,
    );
  });

  it('writes an ingest key only into its own project', async () => {
    const other = await projectWithIngestKey(admin);
    const event = usageEvent();
    await other.client.post('/v1/events', event);
    const mine = await viewer.get(`/v1/events?project=${projectId}&limit=1000`);
    expect(mine.body.data.find((e: { event_id: string }) => e.event_id === event.event_id)).toBeUndefined();
    const theirs = await viewer.get(`/v1/events?project=${other.projectId}`);
    expect(theirs.body.data.map((e: { event_id: string }) => e.event_id)).toEqual([event.event_id]);
  });
  // Last: it revokes the admin key the other tests use.
  it('keeps the last admin key, and revokes an admin key when another remains', async () => {
    const keys = await admin.get('/v1/keys');
    const me = keys.body.data.find(
      (k: { role: string; revoked_at: string | null }) => k.role === 'admin' && !k.revoked_at,
    );
    const refused = await admin.delete(`/v1/keys/${me.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/last active admin key/);

    const second = await admin.post('/v1/keys', { name: 'second admin', role: 'admin' });
    const other = admin.as(second.body.key);
    expect((await other.delete(`/v1/keys/${me.id}`)).status).toBe(204);
    expect((await admin.get('/v1/keys')).status).toBe(401);
    expect((await other.delete(`/v1/keys/${second.body.id}`)).status).toBe(409);
    expect((await other.get('/v1/keys')).status).toBe(200);
  });
});

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

describe('the first admin key', () => {
  it('is created once on an empty database when ADMIN_API_KEY is unset, and works', async () => {
    const database = await createTestDatabase();
    try {
      const first = await startTestApp({ ADMIN_API_KEY: undefined }, database);
      expect(first.createdAdminKey).toMatch(/^tt_/);
      expect((await first.http.get('/v1/keys')).status).toBe(200);
      await first.close();
      const second = await startTestApp({ ADMIN_API_KEY: undefined }, database);
      expect(second.createdAdminKey).toBeNull();
      expect((await second.http.as(first.createdAdminKey).get('/v1/keys')).body.data).toHaveLength(1);
      await second.close();
    } finally {
      await database.drop();
    }
  });

  it('is taken from ADMIN_API_KEY when set', async () => {
    const t = await startTestApp({ ADMIN_API_KEY: 'tt_configured_admin_key_abcdefghij' });
    try {
      expect(t.createdAdminKey).toBeNull();
      const keys = await t.http.as('tt_configured_admin_key_abcdefghij').get('/v1/keys');
      expect(keys.status).toBe(200);
      expect(keys.body.data).toEqual([expect.objectContaining({ role: 'admin', name: 'admin (ADMIN_API_KEY)' })]);
    } finally {
      await t.close();
    }
  });
});
