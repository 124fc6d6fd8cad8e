import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

/**
 * Filter suggestions: GET /v1/reports/dimensions/:dimension/values,
 * /v1/reports/tags and /v1/reports/tags/:key/values. Values present in the
 * range (default the last 90 days), most spent first, matched by a literal,
 * case-insensitive prefix.
 */
describe('filter suggestions', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let abc: string;
  let aUnderscore: string;
  let beta: string;

  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  /** `n` calls of one shape: more calls, more spend (each costs the same). */
  const calls = (n: number, extra: Record<string, unknown>) =>
    Array.from({ length: n }, () => usageEvent({ timestamp: minutesAgo(30), tags: {}, ...extra }));
  const dims = (d: Record<string, string>) => ({
    dimensions: { team: '', user: '', feature: '', environment: '', ...d },
  });

  beforeAll(async () => {
    t = await startTestApp();
    viewer = await viewerClient(t.http);
    const a = await projectWithIngestKey(t.http, 'abc');
    const u = await projectWithIngestKey(t.http, 'a_c');
    const b = await projectWithIngestKey(t.http, 'beta');
    [abc, aUnderscore, beta] = [a.projectId, u.projectId, b.projectId];
    await a.client.post('/v1/events', {
      events: [
        ...calls(3, {
          ...dims({ team: 'growth', user: 'u_1', feature: 'x\\y' }),
          tags: { campaign: 'launch', cost_center: 'cc1' },
        }),
        ...calls(1, {
          ...dims({ team: 'growl', user: 'ux1', feature: 'xzy' }),
          tags: { campaign: '50%-off', costXcenter: 'cc2' },
        }),
        ...calls(2, { ...dims({ team: 'g%team', user: 'U_2' }), tags: { campaign: '500' } }),
        ...calls(1, { ...dims({ team: 'gxteam' }), provider: 'vercel' }),
        ...calls(1, dims({})), // no team: '' is no value to suggest
        // Older than 90 days: only in a range that reaches it.
        usageEvent({ timestamp: minutesAgo(100 * 24 * 60), ...dims({ team: 'ancient' }), tags: { old_tag: 'x' } }),
      ],
    });
    await u.client.post('/v1/events', { events: calls(4, { ...dims({ team: 'growth' }), model: 'gpt-image-1' }) });
    await b.client.post('/v1/events', { events: calls(1, dims({ team: 'beta-team' })) });
  });
  afterAll(() => t?.close());

  const get = async (path: string) => {
    const res = await viewer.get(path);
    expect(res.status).toBe(200);
    return res.body;
  };
  const values = async (path: string) => (await get(path)).data.map((r: any) => r.value);

  it('lists the values of the range, most spent first, with their spend and calls', async () => {
    const body = await get('/v1/reports/dimensions/team/values');
    // A call costs $0.1254 (120 x $5 + 4,160 x $30 per 1M, on openai and vercel alike), $0.1670 on gpt-image-1
    // (image output $40): growth 3 x 0.1254 + 4 x 0.1670, g%team 2 x 0.1254, then three ties of one call, by name.
    expect(body.data.map((r: any) => [r.value, r.cost_usd, r.events])).toEqual([
      ['growth', '1.044200', 7],
      ['g%team', '0.250800', 2],
      ['beta-team', '0.125400', 1],
      ['growl', '0.125400', 1],
      ['gxteam', '0.125400', 1],
    ]);
    expect(body.data[0].label).toBe('growth');
    const costs = body.data.map((r: any) => Number(r.cost_usd));
    expect([...costs].sort((x, y) => y - x)).toEqual(costs);
    expect(body).toMatchObject({ dimension: 'team', q: '', has_more: false });
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(90 * 24 * 3600 * 1000);
    expect(body.data.map((r: any) => r.value)).not.toContain('ancient');
    expect(body.data.map((r: any) => r.value)).not.toContain('');
  });

  it('matches a prefix, case-insensitively', async () => {
    expect((await values('/v1/reports/dimensions/team/values?q=gro')).sort()).toEqual(['growl', 'growth']);
    expect(await values('/v1/reports/dimensions/team/values?q=GROWT')).toEqual(['growth']);
    expect(await values('/v1/reports/dimensions/team/values?q=rowth')).toEqual([]); // a prefix, not a substring
    expect(await values('/v1/reports/dimensions/provider/values?q=v')).toEqual(['vercel']);
    expect(await values('/v1/reports/dimensions/model/values')).toEqual(
      expect.arrayContaining(['gpt-image-1', 'gpt-image-2']),
    );
  });

  it('takes LIKE metacharacters literally: %, _ and backslash', async () => {
    expect(await values('/v1/reports/dimensions/team/values?q=g%25')).toEqual(['g%team']); // not every g...
    expect(await values('/v1/reports/dimensions/user/values?q=u_')).toEqual(['u_1', 'U_2']); // not ux1
    expect(await values('/v1/reports/dimensions/user/values?q=u%5F1')).toEqual(['u_1']);
    expect(await values('/v1/reports/dimensions/feature/values?q=x%5C')).toEqual(['x\\y']); // x\ : not xzy
    expect(await values('/v1/reports/dimensions/feature/values?q=x_')).toEqual([]);
    expect(await values('/v1/reports/tags/campaign/values?q=50%25')).toEqual(['50%-off']); // not 500
    expect(await values('/v1/reports/tags/campaign/values?q=50')).toEqual(['500', '50%-off']);
    expect((await get('/v1/reports/tags?q=cost_')).data.map((r: any) => r.key)).toEqual(['cost_center']); // not costXcenter
  });

  it('lists projects by name with their id, and matches the name', async () => {
    const body = await get('/v1/reports/dimensions/project/values');
    // abc: 8 calls; a_c: 4 dearer ones (gpt-image-1); beta: 1.
    expect(body.data[1]).toEqual({
      value: aUnderscore,
      label: 'a_c',
      id: aUnderscore,
      name: 'a_c',
      cost_usd: expect.any(String),
      events: 4,
    });
    expect(body.data.map((r: any) => r.name)).toEqual(['abc', 'a_c', 'beta']);
    expect((await get('/v1/reports/dimensions/project/values?q=a_')).data.map((r: any) => r.name)).toEqual(['a_c']);
    // Case-insensitive on the name; beta is listed too only when its random id starts with an "a".
    const byA = (await get('/v1/reports/dimensions/project/values?q=A')).data.map((r: any) => r.name);
    expect(byA).toEqual(beta.startsWith('a') ? ['abc', 'a_c', 'beta'] : ['abc', 'a_c']);
    expect(
      (await get(`/v1/reports/dimensions/project/values?q=${beta.slice(0, 8)}`)).data.map((r: any) => r.id),
    ).toEqual([beta]);
  });

  it('lists tag keys and one tag’s values, most spent first', async () => {
    const keys = await get('/v1/reports/tags');
    expect(keys.data.map((r: any) => r.key)).toEqual(['campaign', 'cost_center', 'costXcenter']);
    expect(keys.data[0]).toMatchObject({ key: 'campaign', events: 6 });
    const campaign = await get('/v1/reports/tags/campaign/values');
    expect(campaign).toMatchObject({ key: 'campaign', q: '', has_more: false });
    expect(campaign.data.map((r: any) => [r.value, r.events])).toEqual([
      ['launch', 3],
      ['500', 2],
      ['50%-off', 1],
    ]);
    expect((await get('/v1/reports/tags/old_tag/values')).data).toEqual([]);
  });

  it('reads the range asked for, and narrows by the report filters', async () => {
    const from = minutesAgo(101 * 24 * 60);
    expect(await values(`/v1/reports/dimensions/team/values?q=anc&from=${encodeURIComponent(from)}`)).toEqual([
      'ancient',
    ]);
    expect((await get(`/v1/reports/tags?from=${encodeURIComponent(from)}`)).data.map((r: any) => r.key)).toContain(
      'old_tag',
    );
    expect(await values(`/v1/reports/dimensions/team/values?project=${beta}`)).toEqual(['beta-team']);
    expect(await values(`/v1/reports/dimensions/team/values?provider=vercel`)).toEqual(['gxteam']);
    expect(await values(`/v1/reports/dimensions/user/values?project=${abc}&q=u`)).toEqual(['u_1', 'U_2', 'ux1']);
    expect(await values(`/v1/reports/tags/campaign/values?team=growl`)).toEqual(['50%-off']);
    expect((await get(`/v1/reports/tags?project=${aUnderscore}`)).data).toEqual([]);
  });

  it('stops at limit and says when there are more', async () => {
    const body = await get('/v1/reports/dimensions/team/values?limit=2');
    expect(body.data.map((r: any) => r.value)).toEqual(['growth', 'g%team']);
    expect(body.has_more).toBe(true);
    expect((await get('/v1/reports/dimensions/team/values?limit=5')).has_more).toBe(false);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const bad = async (path: string, paths: string[]) => {
      const res = await viewer.get(path);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: any) => e.path).sort()).toEqual(paths);
    };
    await bad('/v1/reports/dimensions/colour/values', ['dimension']);
    await bad(`/v1/reports/dimensions/colour/values?q=${'x'.repeat(201)}`, ['dimension', 'q']);
    await bad('/v1/reports/dimensions/tag/values', ['dimension']);
    await bad(`/v1/reports/dimensions/team/values?q=${'x'.repeat(201)}`, ['q']);
    await bad('/v1/reports/dimensions/team/values?q=a%00b', ['q']);
    await bad('/v1/reports/dimensions/team/values?q=a&q=b', ['q']);
    await bad('/v1/reports/dimensions/team/values?limit=0', ['limit']);
    await bad('/v1/reports/dimensions/team/values?limit=101', ['limit']);
    await bad('/v1/reports/dimensions/team/values?from=2026-02-30&tz=Mars/Olympus&group_by=team', [
      'from',
      'group_by',
      'tz',
    ]);
    await bad('/v1/reports/dimensions/team/values?warp=1', ['warp']);
    await bad('/v1/reports/dimensions/team/values?user=u_1', ['team']); // the user rollup has no team
    await bad(`/v1/reports/tags/${'k'.repeat(65)}/values`, ['key']);
    await bad('/v1/reports/tags/a%00b/values', ['key']);
    await bad('/v1/reports/tags?user=u_1', ['user']);
    await bad('/v1/reports/tags?tag:campaign=launch', ['tag:campaign']);
    await bad('/v1/reports/tags/campaign/values?tag:other=x', ['tag:other']);
    await bad('/v1/reports/tags/campaign/values?user=u_1', ['user']);
    expect((await viewer.as(null).get('/v1/reports/tags')).status).toBe(401);
  });
});
