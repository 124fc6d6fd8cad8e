import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/app';
import { createTestDatabase } from '../support/database';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

describe('API keys and roles', () => {
  let t: TestApp;
  let admin: HttpClient;
  let ingest: HttpClient;
  let viewer: HttpClient;
  let projectId: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = t.http;
    ({ client: ingest, projectId } = await projectWithIngestKey(admin));
    viewer = await viewerClient(admin);
  });
  afterAll(() => t?.close());

  // [method, path, expected status for ingest, viewer, admin, body]
  const matrix: Array<[string, string, number, number, number, () => unknown]> = [
    ['POST', '/v1/events', 202, 403, 400 /* admin must name the project */, () => usageEvent()],
    ['GET', '/v1/events', 403, 200, 200, () => undefined],
    ['GET', '/v1/pricing', 403, 200, 200, () => undefined],
    ['POST', '/v1/projects', 403, 403, 201, () => ({ name: `p-${Math.random()}` })],
    ['GET', '/v1/projects', 403, 403, 200, () => undefined],
    ['POST', '/v1/keys', 403, 403, 201, () => ({ name: 'k', role: 'viewer' })],
    ['GET', '/v1/keys', 403, 403, 200, () => undefined],
    ['DELETE', '/v1/keys/00000000-0000-4000-8000-000000000000', 403, 403, 404, () => undefined],
  ];

  it.each(matrix)('%s %s answers %i / %i / %i to ingest / viewer / admin keys', async (method, path, forIngest, forViewer, forAdmin, body) => {
    for (const [client, expected] of [
      [ingest, forIngest],
      [viewer, forViewer],
      [admin, forAdmin],
    ] as Array<[HttpClient, number]>) {
      const res = await client.request(method, path, body());
      expect({ role: client.key?.slice(0, 8), status: res.status }).toEqual({ role: client.key?.slice(0, 8), status: expected });
      if (expected >= 400) expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it.each(matrix)('%s %s answers 401 without a key, with an unknown key and with a malformed header', async (method, path, _i, _v, _a, body) => {
    for (const client of [admin.as(null), admin.as('tt_not_a_real_key_000000000000000')]) {
      const res = await client.request(method, path, body());
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const basic = await admin.as(null).request(method, path, body(), { headers: { authorization: `Basic ${TEST_ADMIN_KEY}` } });
    expect(basic.status).toBe(401);
  });

  it('shows a key once and stores only its SHA-256', async () => {
    const created = await admin.post('/v1/keys', { name: 'reporting', role: 'viewer' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'reporting', role: 'viewer', project_id: null, key: expect.stringMatching(/^tt_[A-Za-z0-9_-]{32}$/) });
    const listed = await admin.get('/v1/keys');
    const entry = listed.body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(entry).toEqual({
      id: created.body.id,
      name: 'reporting',
      role: 'viewer',
      project_id: null,
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
    expect(listed.body.data.find((k: { id: string }) => k.id === created.body.id).revoked_at).toEqual(expect.any(String));
  });

  it('validates key and project requests field by field', async () => {
    const noProject = await admin.post('/v1/keys', { name: 'x', role: 'ingest' });
    expect(noProject.status).toBe(400);
    expect(noProject.body.errors).toEqual([{ path: 'project_id', message: 'is required for an ingest key' }]);

    const bad = await admin.post('/v1/keys', { role: 'owner', project_id: 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['name', 'project_id', 'role']);

    const unknown = await admin.post('/v1/keys', { name: 'x', role: 'ingest', project_id: '00000000-0000-4000-8000-000000000000' });
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
    const me = keys.body.data.find((k: { role: string; revoked_at: string | null }) => k.role === 'admin' && !k.revoked_at);
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
